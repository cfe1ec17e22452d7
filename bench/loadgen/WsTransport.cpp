#include "WsTransport.hpp"

#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket/error.hpp>

#include <sodium.h>

#include <algorithm>
#include <cstring>

namespace parley::bench {

using tcp = boost::asio::ip::tcp;

namespace {

constexpr std::string_view kTarget = "/socket.io/?EIO=4&transport=websocket";
constexpr std::size_t kMaxResponseHeader = 16 * 1024;
constexpr std::size_t kInitialBuffer = 4 * 1024;
// Far above any server's largest message (1 MB by default): a longer frame is a broken stream.
constexpr std::uint64_t kMaxFrame = 64ull * 1024 * 1024;

enum Opcode : unsigned { Continuation = 0x0, Text = 0x1, Binary = 0x2, Close = 0x8, Ping = 0x9, Pong = 0xA };

} // namespace

WsTransport::WsTransport(boost::asio::io_context& ctx, const tcp::endpoint& endpoint, std::string hostHeader)
    : socket_(ctx), endpoint_(endpoint), hostHeader_(std::move(hostHeader)), maskState_(randombytes_random() | 1) {}

void WsTransport::open(TransportListener& listener) {
    listener_ = &listener;
    socket_.async_connect(endpoint_,
                          [self = shared_from_this()](boost::system::error_code ec) { self->onConnect(ec); });
}

// ---------------------------------------------------------------------------------------------
// Connect and upgrade
// ---------------------------------------------------------------------------------------------

void WsTransport::onConnect(boost::system::error_code ec) {
    if (ec) return fail(ec);
    if (closeRequested_) return fail({});
    boost::system::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    unsigned char nonce[16];
    randombytes_buf(nonce, sizeof nonce);
    char key[sodium_base64_ENCODED_LEN(sizeof nonce, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(key, sizeof key, nonce, sizeof nonce, sodium_base64_VARIANT_ORIGINAL);
    upgrade_ = "GET ";
    upgrade_ += kTarget;
    upgrade_ += " HTTP/1.1\r\nHost: ";
    upgrade_ += hostHeader_;
    upgrade_ += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
    upgrade_ += key;
    upgrade_ += "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    boost::asio::async_write(
        socket_, boost::asio::buffer(upgrade_),
        [self = shared_from_this()](boost::system::error_code e, std::size_t) { self->onUpgradeSent(e); });
}

void WsTransport::onUpgradeSent(boost::system::error_code ec) {
    if (ec) return fail(ec);
    if (closeRequested_) return fail({});
    upgrade_.clear();
    boost::asio::async_read_until(
        socket_, boost::asio::dynamic_buffer(upgrade_, kMaxResponseHeader), "\r\n\r\n",
        [self = shared_from_this()](boost::system::error_code e, std::size_t n) { self->onUpgrade(e, n); });
}

// Sec-WebSocket-Accept is not checked: the servers under test are known, and a 101 from
// anything else would fail at the Engine.IO open packet anyway.
void WsTransport::onUpgrade(boost::system::error_code ec, std::size_t headerBytes) {
    if (ec) return fail(ec);
    if (closeRequested_) return fail({});
    constexpr std::string_view kSwitching = "HTTP/1.1 101";
    if (upgrade_.compare(0, kSwitching.size(), kSwitching) != 0)
        return fail(boost::beast::websocket::error::upgrade_declined);
    // The server may have sent its first frames (the Engine.IO open packet) right behind the
    // response: they were read with it.
    in_.resize(std::max(kInitialBuffer, upgrade_.size() - headerBytes));
    inSize_ = upgrade_.size() - headerBytes;
    std::memcpy(in_.data(), upgrade_.data() + headerBytes, inSize_);
    upgrade_ = std::string();
    open_ = true;
    if (!queue_.empty()) doWrite();
    consumeFrames();
    if (!finished_ && !peerClosed_) doRead();
}

// ---------------------------------------------------------------------------------------------
// Reading: every complete frame in the buffer, in place
// ---------------------------------------------------------------------------------------------

void WsTransport::doRead() {
    if (inSize_ == in_.size()) in_.resize(in_.size() * 2);
    socket_.async_read_some(
        boost::asio::buffer(in_.data() + inSize_, in_.size() - inSize_),
        [self = shared_from_this()](boost::system::error_code ec, std::size_t bytes) { self->onRead(ec, bytes); });
}

void WsTransport::onRead(boost::system::error_code ec, std::size_t bytes) {
    if (finished_) return;
    if (ec) return fail(ec);
    inSize_ += bytes;
    consumeFrames();
    if (!finished_ && !peerClosed_) doRead();
}

void WsTransport::consumeFrames() {
    std::size_t at = 0;
    while (!finished_ && !aborted_ && !peerClosed_) {
        const auto* p = reinterpret_cast<const unsigned char*>(in_.data() + at);
        const std::size_t available = inSize_ - at;
        if (available < 2) break;
        std::size_t header = 2;
        std::uint64_t length = p[1] & 0x7F;
        if (length == 126) {
            header = 4;
            if (available < header) break;
            length = (std::uint64_t{p[2]} << 8) | p[3];
        } else if (length == 127) {
            header = 10;
            if (available < header) break;
            length = 0;
            for (int i = 2; i < 10; ++i) length = (length << 8) | p[i];
        }
        // A server never masks (RFC 6455 5.1) and no extension was negotiated (no RSV bits).
        if ((p[1] & 0x80) || (p[0] & 0x70) || length > kMaxFrame)
            return fail(make_error_code(boost::system::errc::protocol_error));
        if (available - header < length) {
            // The rest of this frame is still on its way: make room for all of it.
            if (header + length > in_.size()) in_.resize(static_cast<std::size_t>(header + length));
            break;
        }
        const std::string_view payload(in_.data() + at + header, static_cast<std::size_t>(length));
        at += header + static_cast<std::size_t>(length);
        onFrame((p[0] & 0x80) != 0, p[0] & 0x0F, payload);
    }
    if (finished_) return;
    std::memmove(in_.data(), in_.data() + at, inSize_ - at);
    inSize_ -= at;
}

void WsTransport::onFrame(bool fin, unsigned opcode, std::string_view payload) {
    switch (opcode) {
    case Text:
        if (fin) {
            if (listener_) listener_->onPacket(payload);
            return;
        }
        inText_ = true;
        fragments_.assign(payload);
        return;
    // Binary frames carry Socket.IO attachments, which the chat contract never sends: skipped.
    case Binary: inText_ = false; return;
    case Continuation:
        if (!inText_) return;
        fragments_.append(payload);
        if (fin) {
            inText_ = false;
            if (listener_) listener_->onPacket(fragments_);
            fragments_.clear();
        }
        return;
    case Ping: return queueFrame(Pong, payload);
    case Pong: return;
    case Close:
        peerClosed_ = true;
        if (!closeRequested_) error_ = boost::beast::websocket::error::closed;
        // The reply echoes the status code, as RFC 6455 5.5.1 asks.
        if (!closeQueued_) {
            closeQueued_ = true;
            queueFrame(Close, payload.substr(0, std::min<std::size_t>(payload.size(), 2)));
        }
        return closeIfDone();
    default: return fail(make_error_code(boost::system::errc::protocol_error));
    }
}

// ---------------------------------------------------------------------------------------------
// Writing: one masked frame per packet, one write in flight
// ---------------------------------------------------------------------------------------------

void WsTransport::send(std::string packet) {
    if (finished_ || closeRequested_ || closeQueued_) return;
    queueFrame(Text, packet);
}

void WsTransport::queueFrame(unsigned opcode, std::string_view payload) {
    std::string frame;
    frame.reserve(payload.size() + 14);
    frame.push_back(static_cast<char>(0x80 | opcode));
    if (payload.size() < 126) {
        frame.push_back(static_cast<char>(0x80 | payload.size()));
    } else if (payload.size() <= 0xFFFF) {
        frame.push_back(static_cast<char>(0x80 | 126));
        frame.push_back(static_cast<char>(payload.size() >> 8));
        frame.push_back(static_cast<char>(payload.size() & 0xFF));
    } else {
        frame.push_back(static_cast<char>(0x80 | 127));
        for (int shift = 56; shift >= 0; shift -= 8)
            frame.push_back(static_cast<char>((std::uint64_t{payload.size()} >> shift) & 0xFF));
    }
    // Clients mask every frame (RFC 6455 5.3). The key only has to be unpredictable to a browser
    // script; here a xorshift per connection is enough.
    maskState_ ^= maskState_ << 13;
    maskState_ ^= maskState_ >> 17;
    maskState_ ^= maskState_ << 5;
    char mask[4];
    std::memcpy(mask, &maskState_, sizeof mask);
    frame.append(mask, sizeof mask);
    for (std::size_t i = 0; i < payload.size(); ++i) frame.push_back(static_cast<char>(payload[i] ^ mask[i & 3]));
    queue_.push_back(std::move(frame));
    if (open_ && !writing_) doWrite();
}

void WsTransport::doWrite() {
    writing_ = true;
    boost::asio::async_write(
        socket_, boost::asio::buffer(queue_.front()),
        [self = shared_from_this()](boost::system::error_code ec, std::size_t bytes) { self->onWrite(ec, bytes); });
}

void WsTransport::onWrite(boost::system::error_code ec, std::size_t) {
    writing_ = false;
    if (finished_) {
        queue_.clear();
        return;
    }
    if (ec) return fail(ec);
    queue_.pop_front();
    if (!queue_.empty()) return doWrite();
    closeIfDone();
}

// ---------------------------------------------------------------------------------------------
// Closing
// ---------------------------------------------------------------------------------------------

void WsTransport::close(bool graceful) {
    if (finished_) return;
    if (closeRequested_) {
        if (!graceful) abort();
        return;
    }
    closeRequested_ = true;
    if (!graceful || !open_) return abort();
    if (closeQueued_) return; // the reply to the server's close is on its way
    // Queued packets (a "41" disconnect, say) go out before the close frame; then the server's
    // close frame, or its end of the stream, finishes the transport.
    closeQueued_ = true;
    queueFrame(Close, std::string_view("\x03\xE8", 2)); // 1000, normal closure
}

// Both close frames are through once the server's has arrived and the queue (with ours) is out.
void WsTransport::closeIfDone() {
    if (!peerClosed_ || writing_ || !queue_.empty()) return;
    closeSocket();
    finish(error_);
}

void WsTransport::abort() {
    closeRequested_ = true;
    aborted_ = true;
    // Whatever is pending (connect, upgrade, read, write) ends with an error and reaches fail();
    // once the server's close has stopped the reads, nothing may be pending: finish here.
    closeSocket();
    if (!writing_ && peerClosed_) finish({});
}

void WsTransport::closeSocket() {
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
}

void WsTransport::fail(boost::system::error_code ec) {
    closeSocket();
    finish(ec);
}

void WsTransport::finish(boost::system::error_code ec) {
    if (finished_) return;
    finished_ = true;
    open_ = false;
    // A write in flight still reads from the front packet until its handler runs.
    if (!writing_) queue_.clear();
    if (auto* l = listener_) {
        listener_ = nullptr;
        l->onTransportClosed(closeRequested_ ? boost::system::error_code{} : error_ ? error_ : ec);
    }
}

} // namespace parley::bench
