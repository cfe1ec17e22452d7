#pragma once

#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::socketio::codec {

/// Socket.IO v5 packet types; the number is the character on the wire.
enum class PacketType : std::uint8_t {
    Connect = 0,
    Disconnect = 1,
    Event = 2,
    Ack = 3,
    ConnectError = 4,
    BinaryEvent = 5,
    BinaryAck = 6,
};

/// The most any configuration may allow: attachments of one packet, JSON nesting.
inline constexpr std::size_t kMaxAttachments = 256;
inline constexpr std::size_t kMaxJsonDepth = 64;

/// What one decoded packet may hold; beyond it the packet is refused as malformed.
struct DecodeLimits {
    std::size_t maxAttachments = 10;     // binary attachments of one packet (capped at kMaxAttachments)
    std::size_t maxJsonDepth = 32;       // JSON nesting (Boost.JSON keeps its own stack: this bounds memory)
    std::size_t maxEventNameBytes = 128; // an event name longer than this is not a real event
};

/// One decoded packet. `data` keeps the JSON text exactly as the peer sent it, so that an
/// echo can return it byte for byte; `json` is the same data parsed (null when absent).
struct Packet {
    PacketType type = PacketType::Event;
    std::string nsp = "/";
    std::optional<std::uint64_t> id;
    std::size_t attachments = 0;
    std::string data;
    boost::json::value json;
    std::vector<std::string> buffers; ///< binary attachments, filled by BinaryReassembler
};

/// Decodes the text of one Socket.IO packet (the Engine.IO message payload, without the '4').
/// The default limits are the most permissive (kMaxAttachments, kMaxJsonDepth, no name bound).
boost::system::result<Packet> decode(std::string_view text,
                                     const DecodeLimits& limits = {kMaxAttachments, kMaxJsonDepth, 0});

/// Appends the wire form of a packet. `jsonText` is already-serialized JSON or empty.
void encode(std::string& out, PacketType type, std::string_view nsp, std::optional<std::uint64_t> id,
            std::size_t attachments, std::string_view jsonText);

/// An event's name and the raw JSON text of its arguments, without the enclosing brackets
/// and without the name (e.g. `1,"2",{"3":[true]}`), so that it can be re-emitted verbatim.
struct EventView {
    std::string_view name;
    std::string_view args;
};

/// Splits a decoded EVENT/BINARY_EVENT packet. The views point into `packet`.
boost::system::result<EventView> splitEvent(const Packet& packet);

/// Returns the raw text inside the brackets of an ACK array (e.g. `1,"2"` for `[1,"2"]`).
std::string_view ackArgs(const Packet& packet);

/// Collects the binary frames that follow a BINARY_EVENT/BINARY_ACK header packet.
class BinaryReassembler {
public:
    /// True while a header packet waits for more attachments.
    bool pending() const noexcept { return pending_.has_value(); }

    /// Attachments of one packet may total at most `bytes` (0: no limit).
    void setMaxBytes(std::uint64_t bytes) noexcept { maxBytes_ = bytes; }

    /// Holds `header` (attachments > 0) until its frames arrive.
    void start(Packet header);

    /// Adds one binary frame. Returns the complete packet once the last frame arrived, an
    /// empty optional while more are expected, UnexpectedBinary if nothing was pending, or
    /// BadAttachments once they total more than the byte limit.
    boost::system::result<std::optional<Packet>> add(std::string bytes);

    void reset() noexcept { pending_.reset(); }

private:
    std::optional<Packet> pending_;
    std::uint64_t maxBytes_ = 0;
    std::uint64_t bytes_ = 0;
};

} // namespace parley::socketio::codec
