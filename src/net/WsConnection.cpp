#include "net/WsConnection.hpp"

#include "core/Assert.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/container/static_vector.hpp>
#include <spdlog/spdlog.h>

#include <array>

namespace parley::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using boost::system::error_code;

namespace {

// Bytes asked of the kernel per read, into the thread's scratch buffer.
constexpr std::size_t kScratchBytes = 64 * 1024;
// Queue capacity an idle connection may keep: what a burst grew is given back.
constexpr std::size_t kIdleKeepFrames = 16;
// iovecs per writev: Asio hands at most 64 to one call.
constexpr std::size_t kMaxIov = 64;
// How long we wait for the peer's close frame after sending ours.
constexpr auto kCloseTimeout = std::chrono::seconds(5);

std::uint8_t* scratchBuffer() {
    thread_local const std::unique_ptr<std::uint8_t[]> buffer(new std::uint8_t[kScratchBytes]);
    return buffer.get();
}

// The connections of this thread with frames queued in the current loop turn.
struct FlushList {
    std::vector<std::shared_ptr<WsConnection>> queued;
    std::vector<std::shared_ptr<WsConnection>> running;
    bool posted = false;
};

FlushList& threadFlushList() {
    thread_local FlushList list;
    return list;
}

SharedBuffer closePayload(std::uint16_t code) {
    return makeSharedBuffer(std::string{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)});
}

} // namespace

WsConnection::WsConnection(beast::tcp_stream&& stream, beast::flat_buffer&& buffer, PeerSlot slot)
    : socket_(stream.release_socket()), slot_(std::move(slot)) {
    error_code ignored;
    socket_.non_blocking(true, ignored);
    // A client may not send frames before the 101, but whatever followed the request is read
    // first once the owner is listening.
    if (buffer.size() > 0) {
        const auto data = buffer.cdata();
        early_ = std::make_unique<std::string>(static_cast<const char*>(data.data()), data.size());
    }
}

void WsConnection::accept(Request req, std::uint64_t maxMessage, std::function<void(error_code)> done) {
    reader_.setMaxMessage(maxMessage);
    const std::string_view version = req[beast::http::field::sec_websocket_version];
    const std::string_view key = req[beast::http::field::sec_websocket_key];
    const auto acceptValue = ws::acceptKey(key);

    auto refuse = [&](std::string response, error_code ec) {
        moveTo(State::Refusing);
        enqueue(Outgoing{makeSharedBuffer(std::move(response)), ws::Opcode::Text, true});
        done(ec);
    };
    if (version != "13") {
        return refuse("HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n"
                      "Connection: close\r\n\r\n",
                      version.empty() ? websocket::error::no_sec_version : websocket::error::bad_sec_version);
    }
    if (!acceptValue) {
        static constexpr std::string_view kBody = "Invalid Sec-WebSocket-Key";
        return refuse("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: " +
                          std::to_string(kBody.size()) + "\r\nConnection: close\r\n\r\n" + std::string(kBody),
                      key.empty() ? websocket::error::no_sec_key : websocket::error::bad_sec_key);
    }
    enqueue(Outgoing{makeSharedBuffer("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                      "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
                                      *acceptValue + "\r\n\r\n"),
                     ws::Opcode::Text, true});
    done({});
}

void WsConnection::start(MessageFn onMessage, CloseFn onClose) {
    onMessage_ = std::move(onMessage);
    onClose_ = std::move(onClose);
    if (early_) {
        auto self = shared_from_this();
        const auto early = std::move(early_);
        reader_.feed(reinterpret_cast<std::uint8_t*>(early->data()), early->size(), *this);
    }
    if (reading()) waitReadable();
}

// --- reading ------------------------------------------------------------------------------

void WsConnection::waitReadable() {
    // Waiting for readiness rather than reading into a buffer of our own: the data is read
    // into the thread's scratch buffer, so an idle connection holds none.
    socket_.async_wait(asio::ip::tcp::socket::wait_read,
                       [self = shared_from_this()](error_code ec) { self->onReadable(ec); });
}

void WsConnection::onReadable(error_code ec) {
    if (state_ == State::Finished) return;
    if (ec) return finish(ec);
    if (readAvailable()) waitReadable();
}

void WsConnection::readPending() {
    // The wait still pending finds the socket empty (would_block) and waits again.
    // Only while an owner listens (after start(), before detach()).
    if (onMessage_ && reading()) readAvailable();
}

bool WsConnection::readAvailable() {
    // Keep ourselves alive: a callback may drop the last outside reference.
    auto self = shared_from_this();
    std::uint8_t* scratch = scratchBuffer();
    while (true) {
        error_code ec;
        const std::size_t n = socket_.read_some(asio::buffer(scratch, kScratchBytes), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) return true;
        if (ec) {
            const bool handshakeDone = state_ == State::PeerClosed || state_ == State::CloseSent;
            finish(handshakeDone ? error_code(websocket::error::closed) : ec);
            return false;
        }
        // After a read error the reader is stopped: the input is only drained, until the peer
        // ends the connection.
        reader_.feed(scratch, n, *this);
        // Nothing more is read after the peer's close frame.
        if (!reading()) return false;
        // A short read emptied the socket; the caller's wait reports anything newer.
        if (n < kScratchBytes) return true;
    }
}

void WsConnection::onMessage(std::string_view data, bool binary) {
    // While closing, messages are read only to reach the peer's close frame.
    if (onMessage_ && state_ == State::Open) onMessage_(data, binary);
}

void WsConnection::onPing(std::string_view payload) {
    if (state_ != State::Open) return;
    // Only the most recent ping needs an answer (RFC 6455 section 5.5.3). While the peer is not
    // reading (our writes are blocked), a ping's pong takes over the queued pong that has not
    // started leaving, so a ping flood holds one pong, not one per ping. The pong taken over
    // still counts against the bound: such a peer is cut off like any slow consumer.
    if (writeBlocked_ && pongPending()) {
        Outgoing& pong = queue_[lastPong_];
        coalescedBytes_ += ws::headerSize(pong.bytes->size()) + pong.bytes->size();
        queuedBytes_ -= pong.bytes->size();
        pong.bytes = makeSharedBuffer(std::string(payload));
        queuedBytes_ += pong.bytes->size();
    } else {
        lastPong_ = queue_.size();
        enqueue(Outgoing{makeSharedBuffer(std::string(payload)), ws::Opcode::Pong});
    }
    dropIfOverBound();
}

bool WsConnection::pongPending() const noexcept {
    // Not a frame partly written: its header already announced its length.
    return lastPong_ < queue_.size() && (lastPong_ > head_ || (lastPong_ == head_ && headWritten_ == 0));
}

void WsConnection::onPeerClose(std::uint16_t code) {
    switch (state_) {
    case State::Open:
        // Echo the peer's code after whatever is queued, then end the connection.
        return queueClose(State::PeerClosed, code ? closePayload(code) : makeSharedBuffer(std::string()));
    // Our close frame, still queued, is the reply.
    case State::Closing: return moveTo(State::PeerClosed);
    // Our own close frame already went: the handshake is complete.
    case State::CloseSent: return finish(websocket::error::closed);
    // Ending anyway, without a close frame of ours.
    case State::Refusing:
    case State::Dropping:
    // Unreachable: the reader stops at the peer's close frame, and when finished.
    case State::PeerClosed:
    case State::Finished: return;
    }
}

void WsConnection::onReadError(ws::ReadError error) {
    const auto [code, ec] = [error]() -> std::pair<ws::CloseCode, error_code> {
        switch (error) {
        case ws::ReadError::TooBig: return {ws::CloseCode::TooBig, websocket::error::message_too_big};
        case ws::ReadError::BadUtf8: return {ws::CloseCode::BadPayload, websocket::error::bad_frame_payload};
        case ws::ReadError::ProtocolError: break;
        }
        return {ws::CloseCode::ProtocolError, websocket::error::bad_opcode};
    }();
    if (state_ == State::Open) queueClose(State::Closing, closePayload(static_cast<std::uint16_t>(code)));
    // The reader has stopped: the input cannot be parsed past this point. It is drained rather
    // than left unread, which would make our close a reset that the peer may never see; the
    // close timer bounds that.
    auto onClose = std::move(onClose_);
    detach();
    if (onClose) onClose(ec);
}

// --- writing ------------------------------------------------------------------------------

void WsConnection::send(Frame frame) {
    if (state_ != State::Open) return;
    enqueue(Outgoing{std::move(frame.bytes), frame.binary ? ws::Opcode::Binary : ws::Opcode::Text});
    dropIfOverBound();
}

void WsConnection::dropIfOverBound() {
    if (state_ != State::Open || queuedBytes_ + coalescedBytes_ <= maxQueuedBytes_) return;
    // The peer does not read: waiting for it would only grow our memory. No close frame either
    // (it would queue behind the rest): the connection is dropped.
    moveTo(State::Dropping);
    // Not from inside send(): the caller may be in the middle of a broadcast loop.
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->finish(asio::error::no_buffer_space); });
}

void WsConnection::sendNow(Frame frame) {
    send(std::move(frame));
    // The pending end-of-turn flush finds the queue empty.
    if (state_ == State::Open && !writeBlocked_) flush();
}

void WsConnection::close(ws::CloseCode code) {
    if (state_ != State::Open) return;
    queueClose(State::Closing, closePayload(static_cast<std::uint16_t>(code)));
}

void WsConnection::queueClose(State next, SharedBuffer payload) {
    // Nothing is sent after a close frame (RFC 6455 section 5.5.1): it goes last.
    moveTo(next);
    enqueue(Outgoing{std::move(payload), ws::Opcode::Close});
}

void WsConnection::enqueue(Outgoing out) {
    if (state_ == State::Finished) return;
    queuedBytes_ += out.bytes->size();
    queue_.push_back(std::move(out));
    scheduleFlush();
}

void WsConnection::scheduleFlush() {
    if (flushScheduled_ || writeBlocked_ || state_ == State::Finished) return;
    flushScheduled_ = true;
    // Not now: the rest of this loop turn may queue more for this connection (an ack and the
    // broadcast it caused, a group commit's messages), and all of it should leave in one write.
    FlushList& list = threadFlushList();
    list.queued.push_back(shared_from_this());
    if (!list.posted) {
        list.posted = true;
        asio::post(socket_.get_executor(), &WsConnection::flushThreadList);
    }
}

void WsConnection::flushThreadList() {
    FlushList& list = threadFlushList();
    list.posted = false;
    list.running.swap(list.queued);
    // A flush may close a connection, whose owner may queue frames elsewhere: those go to
    // `queued` and the next turn.
    for (auto& connection : list.running) {
        connection->flushScheduled_ = false;
        connection->flush();
    }
    list.running.clear();
}

void WsConnection::flush() {
    if (state_ == State::Finished || writeBlocked_) return;
    while (head_ < queue_.size()) {
        boost::container::static_vector<asio::const_buffer, kMaxIov> iov;
        std::array<std::array<std::uint8_t, ws::kMaxHeaderBytes>, kMaxIov / 2> headers;
        std::size_t total = 0;
        for (std::size_t i = head_; i < queue_.size() && iov.size() + 2 <= kMaxIov; ++i) {
            const Outgoing& out = queue_[i];
            std::size_t skip = i == head_ ? headWritten_ : 0;
            if (!out.raw) {
                auto& header = headers[i - head_];
                const std::size_t headerBytes = ws::encodeHeader(header.data(), out.opcode, out.bytes->size());
                if (skip < headerBytes) {
                    iov.emplace_back(header.data() + skip, headerBytes - skip);
                    total += headerBytes - skip;
                    skip = 0;
                } else {
                    skip -= headerBytes;
                }
            }
            if (out.bytes->size() > skip) {
                iov.emplace_back(out.bytes->data() + skip, out.bytes->size() - skip);
                total += out.bytes->size() - skip;
            }
        }
        error_code ec;
        std::size_t written = socket_.write_some(iov, ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) return waitWritable();
        if (ec) return finish(ec);
        const bool shortWrite = written < total;
        // Drop what is fully written; remember how far into the next frame the kernel got.
        while (written > 0 && head_ < queue_.size()) {
            Outgoing& out = queue_[head_];
            const std::size_t wire = (out.raw ? 0 : ws::headerSize(out.bytes->size())) + out.bytes->size();
            const std::size_t left = wire - headWritten_;
            if (written < left) {
                headWritten_ += written;
                break;
            }
            written -= left;
            queuedBytes_ -= out.bytes->size();
            out.bytes.reset();
            ++head_;
            headWritten_ = 0;
        }
        if (shortWrite) return waitWritable();
    }
    onQueueWritten();
}

void WsConnection::onQueueWritten() {
    queue_.clear();
    head_ = 0;
    lastPong_ = SIZE_MAX;
    coalescedBytes_ = 0; // the peer took everything: it reads
    if (queue_.capacity() > kIdleKeepFrames) std::vector<Outgoing>().swap(queue_);
    // What ends a connection is queued last: the whole queue written means it is written.
    switch (state_) {
    case State::Closing: moveTo(State::CloseSent); return armCloseTimer();
    case State::PeerClosed: return finish(websocket::error::closed);
    case State::Refusing: return finish({});
    case State::Open:
    case State::CloseSent:
    case State::Dropping:
    case State::Finished: return;
    }
}

void WsConnection::waitWritable() {
    writeBlocked_ = true;
    socket_.async_wait(asio::ip::tcp::socket::wait_write, [self = shared_from_this()](error_code ec) {
        self->writeBlocked_ = false;
        if (self->state_ == State::Finished) return;
        if (ec) return self->finish(ec);
        self->flush();
    });
}

void WsConnection::armCloseTimer() {
    closeTimer_ = std::make_unique<asio::steady_timer>(socket_.get_executor(), kCloseTimeout);
    closeTimer_->async_wait([self = shared_from_this()](error_code ec) {
        if (!ec) self->finish(beast::error::timeout);
    });
}

void WsConnection::detach() {
    onMessage_ = nullptr;
    onClose_ = nullptr;
}

void WsConnection::moveTo(State next) noexcept {
    PARLEY_ASSERT(isLegal(state_, next), "WsConnection: a state change outside the close handshake's table");
    state_ = next;
}

void WsConnection::finish(error_code ec) {
    if (state_ == State::Finished) return;
    moveTo(State::Finished);
    queue_.clear();
    head_ = 0;
    headWritten_ = 0;
    queuedBytes_ = 0;
    coalescedBytes_ = 0;
    lastPong_ = SIZE_MAX;
    reader_.stop();
    if (closeTimer_) closeTimer_->cancel();
    if (ec && ec != websocket::error::closed && ec != asio::error::operation_aborted && ec != beast::error::timeout &&
        ec != asio::error::eof)
        spdlog::debug("websocket: {}", ec.message());
    error_code ignored;
    socket_.close(ignored);
    auto onClose = std::move(onClose_);
    detach();
    if (onClose) onClose(ec);
}

} // namespace parley::net
