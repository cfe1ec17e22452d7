// Socket.IO v5 codec on client bytes, as socketio::Client reads them: one text packet, then for a
// binary packet its attachment frames through the BinaryReassembler; events through splitEvent
// and acks through ackArgs, as Socket hands them to the handlers.
//
// Input: the text packet, then each binary frame, separated by NUL bytes (JSON text never holds
// a raw NUL, so this loses nothing a valid packet could contain).
#include "socketio/codec/Errc.hpp"
#include "socketio/codec/LoneSurrogates.hpp"
#include "socketio/codec/Packet.hpp"

#include <boost/json/parse.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace sio = parley::socketio::codec;

namespace {

void check(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
}

// Equal JSON values, where NaN equals NaN: Boost.JSON 1.81 reads `0e400` as NaN (JavaScript reads
// 0), and the codec keeps such numbers as the reference does (it preserves the raw text, which is
// what Parley echoes; its handlers never read client numbers). Found by this target.
bool sameJson(const boost::json::value& a, const boost::json::value& b) {
    if (a.is_double() && b.is_double() && std::isnan(a.get_double()) && std::isnan(b.get_double())) return true;
    if (a.is_array() && b.is_array()) {
        const auto &x = a.get_array(), &y = b.get_array();
        if (x.size() != y.size()) return false;
        for (std::size_t i = 0; i < x.size(); ++i)
            if (!sameJson(x[i], y[i])) return false;
        return true;
    }
    if (a.is_object() && b.is_object()) {
        const auto &x = a.get_object(), &y = b.get_object();
        if (x.size() != y.size()) return false;
        for (auto i = x.begin(), j = y.begin(); i != x.end(); ++i, ++j)
            if (i->key() != j->key() || !sameJson(i->value(), j->value())) return false;
        return true;
    }
    return a == b;
}

// The JSON array `[` + inner + `]` parses, and its elements equal `expected` from `first` on.
void checkArgs(std::string_view inner, const boost::json::array& expected, std::size_t first, const char* what) {
    boost::system::error_code ec;
    boost::json::parse_options options;
    options.max_depth = sio::kMaxJsonDepth;
    const std::string text = "[" + std::string(inner) + "]";
    auto parsed = boost::json::parse(text, ec, {}, options);
    // decode() reads a lone UTF-16 surrogate escape as U+FFFD; the raw text keeps it as sent.
    if (auto repaired = ec ? sio::replaceLoneSurrogates(text) : std::nullopt) {
        ec = {};
        parsed = boost::json::parse(*repaired, ec, {}, options);
    }
    check(!ec && parsed.is_array(), what);
    const auto& args = parsed.get_array();
    check(args.size() + first == expected.size(), what);
    for (std::size_t i = 0; i < args.size(); ++i) check(sameJson(args[i], expected[first + i]), what);
}

// What the handlers of a complete packet see.
void checkDelivered(const sio::Packet& p) {
    if (p.type == sio::PacketType::Event || p.type == sio::PacketType::BinaryEvent) {
        auto view = sio::splitEvent(p);
        check(view.has_value(), "splitEvent accepts what decode accepted");
        const auto& arr = p.json.get_array();
        check(view->name == std::string_view(arr[0].get_string()), "splitEvent name");
        checkArgs(view->args, arr, 1, "splitEvent args are the arguments' JSON text");
    }
    if (p.type == sio::PacketType::Ack || p.type == sio::PacketType::BinaryAck)
        checkArgs(sio::ackArgs(p), p.json.get_array(), 0, "ackArgs is the arguments' JSON text");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    std::vector<std::string_view> parts;
    for (;;) {
        const auto nul = input.find('\0');
        parts.push_back(input.substr(0, nul));
        if (nul == std::string_view::npos) break;
        input.remove_prefix(nul + 1);
    }
    const std::string_view text = parts.front();
    const std::vector<std::string_view> frames(parts.begin() + 1, parts.end());

    auto packet = sio::decode(text);
    // The server's default limits only ever narrow what decode accepts.
    auto limited = sio::decode(text, sio::DecodeLimits{});
    check(!limited || (packet && limited->data == packet->data), "DecodeLimits only narrow decode");
    if (!packet) return 0;

    // decode(encode(p)) == p, field by field.
    std::string wire;
    sio::encode(wire, packet->type, packet->nsp, packet->id, packet->attachments, packet->data);
    auto again = sio::decode(wire);
    check(again.has_value(), "encode(decode(x)) decodes");
    check(again->type == packet->type && again->nsp == packet->nsp && again->id == packet->id &&
              again->attachments == packet->attachments && again->data == packet->data &&
              sameJson(again->json, packet->json),
          "decode(encode(p)) == p");

    const bool binary = packet->type == sio::PacketType::BinaryEvent || packet->type == sio::PacketType::BinaryAck;
    check(binary == (packet->attachments > 0), "attachments only on binary packets, and at least one there");
    if (!binary) {
        checkDelivered(*packet);
        return 0;
    }

    // Attachments: complete after exactly `attachments` frames; a frame after that is refused.
    sio::BinaryReassembler reassembler;
    const std::size_t expected = packet->attachments;
    reassembler.start(std::move(*packet));
    for (std::size_t i = 0; i < frames.size(); ++i) {
        auto added = reassembler.add(std::string(frames[i]));
        if (i >= expected) {
            check(!added && added.error() == sio::Errc::UnexpectedBinary, "frame after completion refused");
            continue;
        }
        check(added.has_value(), "frame accepted while pending");
        check(added->has_value() == (i + 1 == expected), "complete exactly at the last attachment");
        check(reassembler.pending() == (i + 1 < expected), "pending until the last attachment");
        if (added->has_value()) {
            const auto& done = **added;
            check(done.buffers.size() == expected, "one buffer per attachment");
            for (std::size_t k = 0; k < expected; ++k) check(done.buffers[k] == frames[k], "buffers in order");
            checkDelivered(done);
        }
    }
    return 0;
}
