#include "net/WsConnection.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket/error.hpp>
#include <spdlog/spdlog.h>

namespace parley::net {

namespace beast = boost::beast;
namespace websocket = beast::websocket;

WsConnection::WsConnection(beast::tcp_stream&& stream, beast::flat_buffer&&, PeerSlot slot)
    : ws_(std::move(stream)), slot_(std::move(slot)) {
    // Engine.IO runs its own heartbeat, so only the handshake and close get Beast's timeouts.
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.auto_fragment(false);
}

void WsConnection::accept(Request req, std::uint64_t maxMessage, std::function<void(beast::error_code)> done) {
    // We bound messages ourselves (see onRead): Beast's own limit tears the connection down
    // with unread bytes in it, which resets it, and the peer never sees the 1009 close frame.
    maxMessage_ = maxMessage;
    ws_.read_message_max(0);
    auto request = std::make_shared<Request>(std::move(req));
    ws_.async_accept(*request, [self = shared_from_this(), request, done = std::move(done)](beast::error_code ec) {
        done(ec);
    });
}

void WsConnection::start(MessageFn onMessage, CloseFn onClose) {
    onMessage_ = std::move(onMessage);
    onClose_ = std::move(onClose);
    doRead();
}

void WsConnection::doRead() {
    ws_.async_read_some(readBuffer_, kReadChunk,
                        [self = shared_from_this()](beast::error_code ec, std::size_t n) { self->onRead(ec, n); });
}

void WsConnection::onRead(beast::error_code ec, std::size_t) {
    if (ec) return finish(ec);
    if (readBuffer_.size() > maxMessage_) {
        // Too big: say so at once, then close with 1009; the close handshake drains the rest.
        auto onClose = std::move(onClose_);
        detach();
        close(websocket::close_code::too_big);
        if (onClose) onClose(websocket::error::message_too_big);
        return;
    }
    if (!ws_.is_message_done()) return doRead();
    const auto data = readBuffer_.cdata();
    const std::string_view message(static_cast<const char*>(data.data()), data.size());
    // Keep ourselves alive: the callback may drop the last outside reference.
    auto self = shared_from_this();
    if (onMessage_ && !closing_) onMessage_(message, !ws_.got_text());
    readBuffer_.consume(readBuffer_.size());
    // Most connections sit idle between small messages: give back what a large one grew.
    if (readBuffer_.capacity() > kIdleReadCapacity) readBuffer_.shrink_to_fit();
    if (!finished_) doRead();
}

void WsConnection::send(Frame frame) {
    if (closing_ || finished_) return;
    queuedBytes_ += frame.bytes->size();
    queue_.push_back(std::move(frame));
    // The peer does not read: waiting for it would only grow our memory. No close frame either
    // (it would queue behind the rest): the connection is dropped.
    if (maxQueuedBytes_ && queuedBytes_ > maxQueuedBytes_) {
        // Not from inside send(): the caller may be in the middle of a broadcast loop.
        closing_ = true;
        boost::asio::post(ws_.get_executor(),
                          [self = shared_from_this()] { self->finish(boost::asio::error::no_buffer_space); });
        return;
    }
    if (!writing_) doWrite();
}

void WsConnection::doWrite() {
    writing_ = true;
    const Frame& frame = queue_[head_];
    ws_.binary(frame.binary);
    ws_.async_write(boost::asio::buffer(*frame.bytes),
                    [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onWrite(ec); });
}

void WsConnection::onWrite(beast::error_code ec) {
    writing_ = false;
    if (ec) return finish(ec);
    queuedBytes_ -= queue_[head_].bytes->size();
    queue_[head_].bytes.reset();
    if (++head_ < queue_.size()) return doWrite();
    queue_.clear();
    head_ = 0;
    if (closing_) doClose();
}

void WsConnection::close(websocket::close_code code) {
    if (closing_ || finished_) return;
    closing_ = true;
    closeCode_ = code;
    if (!writing_) doClose();
}

void WsConnection::doClose() {
    if (closeSent_ || finished_) return;
    closeSent_ = true;
    ws_.async_close(closeCode_, [self = shared_from_this()](beast::error_code ec) { self->finish(ec); });
}

void WsConnection::detach() {
    onMessage_ = nullptr;
    onClose_ = nullptr;
}

void WsConnection::finish(beast::error_code ec) {
    if (finished_) return;
    finished_ = true;
    queue_.clear();
    head_ = 0;
    queuedBytes_ = 0;
    if (ec && ec != websocket::error::closed && ec != boost::asio::error::operation_aborted &&
        ec != beast::error::timeout)
        spdlog::debug("websocket: {}", ec.message());
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    auto onClose = std::move(onClose_);
    detach();
    if (onClose) onClose(ec);
}

} // namespace parley::net
