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

/// Writes the header of an unmasked, final frame (what a server sends) into `out`; returns
/// its size (2, 4 or 10).
std::size_t encodeHeader(std::uint8_t* out, Opcode opcode, std::uint64_t length) noexcept;

/// XORs `n` payload bytes with the masking key; `offset` is the position of data[0] in the
/// frame's payload.
void unmask(std::uint8_t* data, std::size_t n, const std::array<std::uint8_t, 4>& mask, std::uint64_t offset = 0) noexcept;

/// Strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
bool isValidUtf8(std::string_view text) noexcept;

/// Whether a peer may send `code` in a close frame (RFC 6455 section 7.4).
bool isValidCloseCode(std::uint16_t code) noexcept;

/// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key; nullopt when the key is not the
/// base64 of 16 bytes.
std::optional<std::string> acceptKey(std::string_view secWebSocketKey);

} // namespace parley::net::ws
