#include "core/ObjectId.hpp"

#include <sodium.h>

#include <atomic>
#include <chrono>
#include <cstdint>

namespace parley::core {

namespace {
struct ProcessRandom {
    unsigned char bytes[5];
    std::uint32_t counterStart;
    ProcessRandom() {
        randombytes_buf(bytes, sizeof bytes);
        counterStart = randombytes_uniform(0xFFFFFF);
    }
};
const ProcessRandom& processRandom() {
    static const ProcessRandom r;
    return r;
}
std::atomic<std::uint32_t> gCounter{processRandom().counterStart};
constexpr char kHex[] = "0123456789abcdef";
} // namespace

std::string ObjectId::generate() {
    unsigned char raw[12];
    const auto seconds = static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    raw[0] = static_cast<unsigned char>(seconds >> 24);
    raw[1] = static_cast<unsigned char>(seconds >> 16);
    raw[2] = static_cast<unsigned char>(seconds >> 8);
    raw[3] = static_cast<unsigned char>(seconds);
    for (int i = 0; i < 5; ++i) raw[4 + i] = processRandom().bytes[i];
    const std::uint32_t counter = gCounter.fetch_add(1, std::memory_order_relaxed) & 0xFFFFFF;
    raw[9] = static_cast<unsigned char>(counter >> 16);
    raw[10] = static_cast<unsigned char>(counter >> 8);
    raw[11] = static_cast<unsigned char>(counter);
    std::string out(24, '0');
    for (int i = 0; i < 12; ++i) {
        out[2 * i] = kHex[raw[i] >> 4];
        out[2 * i + 1] = kHex[raw[i] & 0xF];
    }
    return out;
}

bool ObjectId::isValid(std::string_view text) noexcept {
    if (text.size() != 24) return false;
    for (char c : text)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

} // namespace parley::core
