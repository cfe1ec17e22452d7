#include "engineio/codec/Errc.hpp"
#include "engineio/codec/OpenPacket.hpp"
#include "engineio/codec/Packet.hpp"
#include "engineio/codec/Payload.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <sodium.h>

namespace parley::engineio::codec {

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

namespace {
class CodecCategory final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "engineio.codec"; }
    std::string message(int ev) const override {
        switch (static_cast<Errc>(ev)) {
        case Errc::EmptyPacket: return "empty packet";
        case Errc::UnknownPacketType: return "unknown packet type";
        case Errc::BadBase64: return "invalid base64 in binary record";
        case Errc::PayloadTooLarge: return "payload too large";
        }
        return "unknown engine.io codec error";
    }
};
} // namespace

const boost::system::error_category& codecCategory() noexcept {
    static const CodecCategory category;
    return category;
}

// ---------------------------------------------------------------------------------------------
// Packets
// ---------------------------------------------------------------------------------------------

boost::system::result<Packet> parseText(std::string_view text) {
    if (text.empty()) return Errc::EmptyPacket;
    const char c = text.front();
    if (c < '0' || c > '6') return Errc::UnknownPacketType;
    return Packet{static_cast<PacketType>(c - '0'), false, std::string(text.substr(1))};
}

void serializeText(std::string& out, PacketType type, std::string_view data) {
    out.push_back(static_cast<char>('0' + static_cast<int>(type)));
    out.append(data);
}

std::string serializeText(PacketType type, std::string_view data) {
    std::string out;
    out.reserve(1 + data.size());
    serializeText(out, type, data);
    return out;
}

std::string OpenPacket::serialize() const {
    std::string out = "0{\"sid\":";
    out += boost::json::serialize(boost::json::string(sid));
    out += upgradeToWebSocket ? ",\"upgrades\":[\"websocket\"]" : ",\"upgrades\":[]";
    out += ",\"pingInterval\":" + std::to_string(pingInterval);
    out += ",\"pingTimeout\":" + std::to_string(pingTimeout);
    out += ",\"maxPayload\":" + std::to_string(maxPayload);
    out += '}';
    return out;
}

// ---------------------------------------------------------------------------------------------
// Polling payloads
// ---------------------------------------------------------------------------------------------

std::string base64Encode(std::string_view bytes) {
    const std::size_t len = sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL);
    std::string out(len, '\0');
    sodium_bin2base64(out.data(), len, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    out.resize(len - 1); // drop the terminating NUL sodium writes
    return out;
}

boost::system::result<std::string> base64Decode(std::string_view text) {
    // libsodium 1.0.18 reads bytes >= 0x80 as '/': check the alphabet ourselves first.
    for (char c : text) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
                        c == '/' || c == '=';
        if (!ok) return Errc::BadBase64;
    }
    std::string out(text.size() / 4 * 3 + 3, '\0');
    std::size_t len = 0;
    const char* end = nullptr;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr,
                          &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != text.data() + text.size())
        return Errc::BadBase64;
    out.resize(len);
    return out;
}

boost::system::result<std::vector<Packet>> decodePayload(std::string_view body) {
    std::vector<Packet> packets;
    while (true) {
        const auto sep = body.find(kRecordSeparator);
        const std::string_view record = body.substr(0, sep);
        if (!record.empty() && record.front() == 'b') {
            auto bytes = base64Decode(record.substr(1));
            if (!bytes) return bytes.error();
            packets.push_back(Packet{PacketType::Message, true, std::move(*bytes)});
        } else {
            auto packet = parseText(record);
            if (!packet) return packet.error();
            packets.push_back(std::move(*packet));
        }
        if (sep == std::string_view::npos) break;
        body.remove_prefix(sep + 1);
    }
    return packets;
}

void appendToPayload(std::string& payload, std::string_view bytes, bool binary) {
    if (!payload.empty()) payload.push_back(kRecordSeparator);
    if (binary) {
        payload.push_back('b');
        payload += base64Encode(bytes);
    } else {
        payload.append(bytes);
    }
}

} // namespace parley::engineio::codec
