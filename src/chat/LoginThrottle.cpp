#include "chat/LoginThrottle.hpp"

#include <sodium.h>

#include <array>
#include <stdexcept>
#include <string>

namespace parley::chat {

namespace {
// Accounts are keyed by a 16-byte BLAKE2b digest of the email, so that an email of any length
// (a login body may be up to --max-payload) costs the same few bytes of memory.
std::string accountKey(std::string_view email) {
    std::array<unsigned char, 16> digest{};
    crypto_generichash(digest.data(), digest.size(), reinterpret_cast<const unsigned char*>(email.data()), email.size(),
                       nullptr, 0);
    return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}
} // namespace

LoginThrottle::LoginThrottle(LoginLimits limits)
    : limits_(limits), perAddress_(limits.perAddressPerMinute, kAddressWindowMs),
      perAccount_(limits.failuresPerAccount, limits.failureWindowMs) {
    // Idempotent. BLAKE2b needs no more than the library loaded, but a library that cannot
    // initialise (no entropy source) is broken, and -Wunused-result will not let it be ignored.
    if (sodium_init() < 0) throw std::runtime_error("chat: libsodium failed to initialise");
}

LoginThrottle::Verdict LoginThrottle::admit(std::string_view address, std::string_view email, std::int64_t nowMs) {
    const std::string account = accountKey(email);
    const bool byAddress = limits_.perAddressPerMinute > 0;
    const bool byAccount = limits_.failuresPerAccount > 0;
    std::lock_guard lock(mutex_);
    // Keys of addresses and accounts gone quiet are dropped once per address window, which
    // bounds the memory by the attempts admitted in the last windows.
    if (nowMs - lastPrune_ >= kAddressWindowMs) {
        perAddress_.prune(nowMs);
        perAccount_.prune(nowMs);
        lastPrune_ = nowMs;
    }
    if (byAddress && !perAddress_.allows(address, nowMs))
        return Verdict{Refusal::Address, perAddress_.retryAfterMs(address, nowMs)};
    if (byAccount && !perAccount_.allows(account, nowMs))
        return Verdict{Refusal::Account, perAccount_.retryAfterMs(account, nowMs)};
    if (byAddress) perAddress_.tryAcquire(address, nowMs);
    if (byAccount) perAccount_.tryAcquire(account, nowMs);
    return Verdict{};
}

void LoginThrottle::succeeded(std::string_view email) {
    const std::string account = accountKey(email);
    std::lock_guard lock(mutex_);
    perAccount_.forget(account);
}

} // namespace parley::chat
