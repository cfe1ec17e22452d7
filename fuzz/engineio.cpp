// Engine.IO v4 codec on client bytes: a WebSocket text frame (parseText), an HTTP long-polling
// body (decodePayload) and a binary record's base64. Whatever decodes must encode back to the
// same packets.
#include "engineio/codec/Packet.hpp"
#include "engineio/codec/Payload.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace eio = parley::engineio::codec;

namespace {

// libFuzzer reports an abort with the input that caused it.
void check(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
}

bool samePacket(const eio::Packet& a, const eio::Packet& b) {
    return a.type == b.type && a.binary == b.binary && a.data == b.data;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    // A WebSocket text frame: decode(encode(p)) == p, and the wire form is the input itself.
    if (auto packet = eio::parseText(input)) {
        const std::string wire = eio::serializeText(packet->type, packet->data);
        check(wire == input, "serializeText(parseText(x)) == x");
        auto again = eio::parseText(wire);
        check(again && samePacket(*again, *packet), "parseText round trip");
    }

    // A polling body: every decoded packet survives re-encoding, in order.
    if (auto packets = eio::decodePayload(input)) {
        check(!packets->empty(), "a decoded payload has at least one packet");
        std::string payload;
        for (const auto& p : *packets)
            eio::appendToPayload(payload, p.binary ? std::string_view(p.data) : eio::serializeText(p.type, p.data),
                                 p.binary);
        auto again = eio::decodePayload(payload);
        check(again.has_value(), "re-encoded payload decodes");
        check(again->size() == packets->size(), "re-encoded payload has as many packets");
        for (std::size_t i = 0; i < packets->size(); ++i)
            check(samePacket((*again)[i], (*packets)[i]), "payload round trip");
    }

    // Base64 of binary records: decode(encode(decode(x))) == decode(x).
    if (auto bytes = eio::base64Decode(input)) {
        auto again = eio::base64Decode(eio::base64Encode(*bytes));
        check(again && *again == *bytes, "base64 round trip");
    }
    return 0;
}
