#include "net/WsFrame.hpp"

#include "core/Assert.hpp"

#include <openssl/evp.h>

#include <cstring>

namespace parley::net::ws {

namespace {

bool isControl(Opcode op) noexcept { return (static_cast<std::uint8_t>(op) & 0x8) != 0; }

bool isKnown(std::uint8_t op) noexcept { return op <= 0x2 || (op >= 0x8 && op <= 0xA); }

} // namespace

ParseStatus parseHeader(const std::uint8_t* data, std::size_t size, FrameHeader& out) noexcept {
    if (size < 2) return ParseStatus::NeedMore;
    const std::uint8_t b0 = data[0];
    const std::uint8_t b1 = data[1];
    if (b0 & 0x70) return ParseStatus::ProtocolError; // RSV1-3: no extension was negotiated
    if (!isKnown(b0 & 0x0F)) return ParseStatus::ProtocolError;
    out.fin = (b0 & 0x80) != 0;
    out.opcode = static_cast<Opcode>(b0 & 0x0F);
    out.masked = (b1 & 0x80) != 0;
    const std::uint8_t len7 = b1 & 0x7F;
    std::size_t pos = 2;
    if (len7 == 126) {
        if (size < pos + 2) return ParseStatus::NeedMore;
        out.length = (std::uint64_t{data[2]} << 8) | data[3];
        pos += 2;
    } else if (len7 == 127) {
        if (size < pos + 8) return ParseStatus::NeedMore;
        if (data[2] & 0x80) return ParseStatus::ProtocolError;
        out.length = 0;
        for (int i = 0; i < 8; ++i) out.length = (out.length << 8) | data[2 + i];
        pos += 8;
    } else {
        out.length = len7;
    }
    if (isControl(out.opcode) && (!out.fin || out.length > 125)) return ParseStatus::ProtocolError;
    if (out.masked) {
        if (size < pos + 4) return ParseStatus::NeedMore;
        std::memcpy(out.mask.data(), data + pos, 4);
        pos += 4;
    }
    out.headerBytes = pos;
    return ParseStatus::Ok;
}

std::size_t encodeHeader(std::uint8_t* out, Opcode opcode, std::uint64_t length) noexcept {
    out[0] = static_cast<std::uint8_t>(0x80 | static_cast<std::uint8_t>(opcode));
    const std::size_t size = headerSize(length);
    if (size == 2) {
        out[1] = static_cast<std::uint8_t>(length);
    } else if (size == 4) {
        out[1] = 126;
        out[2] = static_cast<std::uint8_t>(length >> 8);
        out[3] = static_cast<std::uint8_t>(length);
    } else {
        out[1] = 127;
        for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<std::uint8_t>(length >> (56 - 8 * i));
    }
    return size;
}

void unmask(std::uint8_t* data, std::size_t n, const std::array<std::uint8_t, 4>& mask, std::uint64_t offset) noexcept {
    std::size_t i = 0;
    // Byte by byte until the key lines up with position 0 mod 4, then eight bytes at a time.
    for (; i < n && ((offset + i) & 3) != 0; ++i) data[i] ^= mask[(offset + i) & 3];
    std::uint32_t key32;
    std::memcpy(&key32, mask.data(), 4);
    const std::uint64_t key64 = (std::uint64_t{key32} << 32) | key32;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t word;
        std::memcpy(&word, data + i, 8);
        word ^= key64;
        std::memcpy(data + i, &word, 8);
    }
    for (; i < n; ++i) data[i] ^= mask[(offset + i) & 3];
}

bool isValidUtf8(std::string_view text) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const auto* end = p + text.size();
    while (p < end) {
        // ASCII runs, the common case, eight bytes at a time.
        if (end - p >= 8) {
            std::uint64_t word;
            std::memcpy(&word, p, 8);
            if ((word & 0x8080808080808080ULL) == 0) {
                p += 8;
                continue;
            }
        }
        const unsigned char c = *p;
        if (c < 0x80) {
            ++p;
            continue;
        }
        std::size_t need;
        unsigned char lo = 0x80, hi = 0xBF; // allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0)
                lo = 0xA0; // overlong
            else if (c == 0xED)
                hi = 0x9F; // surrogates
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0)
                lo = 0x90; // overlong
            else if (c == 0xF4)
                hi = 0x8F; // above U+10FFFF
        } else {
            return false;
        }
        if (static_cast<std::size_t>(end - p) <= need) return false;
        if (p[1] < lo || p[1] > hi) return false;
        for (std::size_t k = 2; k <= need; ++k)
            if ((p[k] & 0xC0) != 0x80) return false;
        p += need + 1;
    }
    return true;
}

bool isValidCloseCode(std::uint16_t code) noexcept {
    if (code >= 3000 && code <= 4999) return true;
    if (code < 1000 || code > 1014) return false;
    // 1004 is reserved; 1005 and 1006 must never appear on the wire.
    return code != 1004 && code != 1005 && code != 1006;
}

std::optional<std::string> acceptKey(std::string_view key) {
    // The key is 16 random bytes in base64: 24 characters ending in "==".
    if (key.size() != 24 || key[22] != '=' || key[23] != '=') return std::nullopt;
    unsigned char decoded[18];
    if (EVP_DecodeBlock(decoded, reinterpret_cast<const unsigned char*>(key.data()), 24) != 18) return std::nullopt;

    static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    std::string input;
    input.reserve(key.size() + kGuid.size());
    input.append(key).append(kGuid);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digestBytes = 0;
    if (EVP_Digest(input.data(), input.size(), digest, &digestBytes, EVP_sha1(), nullptr) != 1 || digestBytes != 20)
        return std::nullopt;
    char encoded[29]; // 4 * ceil(20 / 3) + NUL
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded), digest, 20);
    return std::string(encoded, static_cast<std::size_t>(n));
}

// --- Reader -------------------------------------------------------------------------------

namespace {
// What an idle connection may keep of a buffer a large message grew.
constexpr std::size_t kIdleKeepBytes = 1024;

void release(std::string& buffer) {
    buffer.clear();
    if (buffer.capacity() > kIdleKeepBytes) std::string().swap(buffer);
}
} // namespace

void Reader::feed(std::uint8_t* data, std::size_t size, ReaderSink& sink) {
    if (stopped()) return;
    feeding_ = true;
    if (partial_.empty()) {
        const std::size_t used = consume(data, size, sink);
        if (!stopped() && used < size) partial_.assign(reinterpret_cast<const char*>(data) + used, size - used);
    } else {
        partial_.append(reinterpret_cast<const char*>(data), size);
        const std::size_t used = consume(reinterpret_cast<std::uint8_t*>(partial_.data()), partial_.size(), sink);
        partial_.erase(0, used);
        if (partial_.empty()) release(partial_);
    }
    feeding_ = false;
    if (stopped()) releaseBuffers();
}

void Reader::stop() noexcept {
    if (!stopped()) moveTo(State::Stopped);
    // Not while a report may still be reading from the buffers: feed() frees them after.
    if (!feeding_) releaseBuffers();
}

void Reader::releaseBuffers() noexcept {
    std::string().swap(partial_);
    std::string().swap(message_);
}

void Reader::moveTo(State next) noexcept {
    PARLEY_ASSERT(isLegal(state_, next), "ws::Reader: a state change outside its table");
    state_ = next;
}

std::size_t Reader::consume(std::uint8_t* data, std::size_t size, ReaderSink& sink) {
    std::size_t pos = 0;
    while (pos < size && !stopped()) {
        FrameHeader header;
        const auto status = parseHeader(data + pos, size - pos, header);
        if (status == ParseStatus::NeedMore) break;
        // A client must mask every frame (RFC 6455 section 5.1).
        if (status == ParseStatus::ProtocolError || !header.masked) {
            fail(ReadError::ProtocolError, sink);
            break;
        }
        const bool control = (static_cast<std::uint8_t>(header.opcode) & 0x8) != 0;
        const std::size_t sofar = state_ == State::InMessage ? message_.size() : 0;
        if (!control && sofar + header.length > maxMessage_) {
            fail(ReadError::TooBig, sink);
            break;
        }
        if (size - pos - header.headerBytes < header.length) break; // the rest of the frame is still to come
        std::uint8_t* payload = data + pos + header.headerBytes;
        unmask(payload, header.length, header.mask);
        pos += header.headerBytes + header.length;
        onFrame(header, payload, sink);
    }
    return pos;
}

void Reader::onFrame(const FrameHeader& header, std::uint8_t* payload, ReaderSink& sink) {
    const std::string_view data(reinterpret_cast<const char*>(payload), header.length);
    switch (header.opcode) {
    case Opcode::Text:
    case Opcode::Binary:
        if (state_ == State::InMessage) return fail(ReadError::ProtocolError, sink);
        if (!header.fin) {
            moveTo(State::InMessage);
            messageOpcode_ = header.opcode;
            message_.assign(data);
            return;
        }
        if (header.opcode == Opcode::Text && !isValidUtf8(data)) return fail(ReadError::BadUtf8, sink);
        return sink.onMessage(data, header.opcode == Opcode::Binary);
    case Opcode::Continuation: {
        if (state_ != State::InMessage) return fail(ReadError::ProtocolError, sink);
        message_.append(data);
        if (!header.fin) return;
        moveTo(State::Idle);
        const std::string whole = std::move(message_);
        release(message_);
        if (messageOpcode_ == Opcode::Text && !isValidUtf8(whole)) return fail(ReadError::BadUtf8, sink);
        return sink.onMessage(whole, messageOpcode_ == Opcode::Binary);
    }
    case Opcode::Ping: return sink.onPing(data);
    case Opcode::Pong: return;
    case Opcode::Close: {
        std::uint16_t code = 0;
        if (header.length == 1) return fail(ReadError::ProtocolError, sink);
        if (header.length >= 2) {
            code = static_cast<std::uint16_t>((payload[0] << 8) | payload[1]);
            if (!isValidCloseCode(code) || !isValidUtf8(data.substr(2))) return fail(ReadError::ProtocolError, sink);
        }
        stop();
        return sink.onPeerClose(code);
    }
    }
}

void Reader::fail(ReadError error, ReaderSink& sink) {
    stop();
    sink.onReadError(error);
}

} // namespace parley::net::ws
