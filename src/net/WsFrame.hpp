#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

/// RFC 6455 framing, server side: pure functions over bytes, no I/O.
///
/// Parley frames WebSocket messages itself rather than through a library stream so that a
/// connection can hand every frame queued in one loop turn to the kernel in one writev (a
/// library stream writes one message per operation), keeps no buffers while idle, and shares
/// one encoded payload between every recipient of a broadcast.
namespace parley::net::ws {

enum class Opcode : std::uint8_t { Continuation = 0x0, Text = 0x1, Binary = 0x2, Close = 0x8, Ping = 0x9, Pong = 0xA };

/// The close codes the server sends (RFC 6455 section 7.4.1).
enum class CloseCode : std::uint16_t {
    Normal = 1000,
    GoingAway = 1001,
    ProtocolError = 1002,
    BadPayload = 1007, ///< a text message that is not UTF-8
    PolicyError = 1008,
    TooBig = 1009,
    InternalError = 1011,
};

struct FrameHeader {
    bool fin = false;
    Opcode opcode = Opcode::Continuation;
    bool masked = false;
    std::array<std::uint8_t, 4> mask{};
    std::uint64_t length = 0;    ///< payload bytes
    std::size_t headerBytes = 0; ///< bytes before the payload
};

enum class ParseStatus { Ok, NeedMore, ProtocolError };

/// Reads one frame header from `data`. ProtocolError for what RFC 6455 forbids whatever the
/// state: reserved bits (no extension is negotiated), unknown opcodes, fragmented or long
/// control frames, a 64-bit length with its top bit set.
ParseStatus parseHeader(const std::uint8_t* data, std::size_t size, FrameHeader& out) noexcept;

/// The largest header encodeHeader writes.
constexpr std::size_t kMaxHeaderBytes = 10;

/// The size of the header encodeHeader writes for a payload of `length` bytes.
constexpr std::size_t headerSize(std::uint64_t length) noexcept { return length < 126 ? 2 : length <= 0xFFFF ? 4 : 10; }

/// Writes the header of an unmasked, final frame (what a server sends) into `out`; returns
/// its size (2, 4 or 10).
std::size_t encodeHeader(std::uint8_t* out, Opcode opcode, std::uint64_t length) noexcept;

/// XORs `n` payload bytes with the masking key; `offset` is the position of data[0] in the
/// frame's payload.
void unmask(std::uint8_t* data, std::size_t n, const std::array<std::uint8_t, 4>& mask,
            std::uint64_t offset = 0) noexcept;

/// Strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
bool isValidUtf8(std::string_view text) noexcept;

/// Whether a peer may send `code` in a close frame (RFC 6455 section 7.4).
bool isValidCloseCode(std::uint16_t code) noexcept;

/// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key; nullopt when the key is not the
/// base64 of 16 bytes.
std::optional<std::string> acceptKey(std::string_view secWebSocketKey);

/// Why a Reader stopped on a peer's mistake.
enum class ReadError { ProtocolError, TooBig, BadUtf8 };

/// What a Reader finds in the bytes, in order.
class ReaderSink {
public:
    virtual ~ReaderSink() = default;
    /// A whole message (text is valid UTF-8); `data` is valid only during the call.
    virtual void onMessage(std::string_view data, bool binary) = 0;
    virtual void onPing(std::string_view payload) = 0;
    /// The peer's close frame: `code` 0 when it carried none. Reading stops.
    virtual void onPeerClose(std::uint16_t code) = 0;
    /// The peer broke the protocol or the size limit. Reading stops.
    virtual void onReadError(ReadError error) = 0;
};

/// The client-to-server half of a connection: frames in, whole messages out. It keeps the
/// bytes of an incomplete frame and the fragments of an unfinished message, nothing else:
/// a complete frame is unmasked and reported in place.
class Reader {
public:
    /// Where the reader is in the message stream. Every change goes through one function that
    /// asserts it is one of: Idle <-> InMessage, either -> Stopped.
    enum class State : std::uint8_t {
        Idle,      ///< between messages (the bytes of an incomplete frame may be held)
        InMessage, ///< a fragmented message has begun: only continuations and control frames may follow
        Stopped,   ///< reports nothing more (the peer's close frame, an error, or stop())
    };

    /// Whether `to` may follow `from` (the table above).
    static constexpr bool isLegal(State from, State to) noexcept { return from != State::Stopped && to != from; }

    /// Messages over `maxMessage` bytes are an error (TooBig); their payload is never buffered.
    explicit Reader(std::uint64_t maxMessage = 1'000'000) noexcept : maxMessage_(maxMessage) {}
    void setMaxMessage(std::uint64_t maxMessage) noexcept { maxMessage_ = maxMessage; }

    /// Parses `size` more bytes (modified in place: unmasked) and reports what they complete.
    void feed(std::uint8_t* data, std::size_t size, ReaderSink& sink);

    /// Reports nothing more, from now on (a sink may call it during a report).
    void stop() noexcept;
    bool stopped() const noexcept { return state_ == State::Stopped; }
    State state() const noexcept { return state_; }

    /// Bytes held for an incomplete frame or message.
    std::size_t bufferedBytes() const noexcept { return partial_.size() + message_.size(); }

private:
    std::size_t consume(std::uint8_t* data, std::size_t size, ReaderSink& sink);
    void onFrame(const FrameHeader& header, std::uint8_t* payload, ReaderSink& sink);
    void fail(ReadError error, ReaderSink& sink);
    void moveTo(State next) noexcept;
    void releaseBuffers() noexcept;

    std::uint64_t maxMessage_;
    std::string partial_;                 ///< the bytes of a frame not yet whole
    std::string message_;                 ///< the payload of a fragmented message so far
    Opcode messageOpcode_ = Opcode::Text; ///< while InMessage: the first fragment's
    State state_ = State::Idle;
    bool feeding_ = false; ///< inside feed(): a stopped reader's buffers are freed when it returns
};

} // namespace parley::net::ws
