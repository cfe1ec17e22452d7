#include "WsTransport.hpp"

#include <boost/beast/websocket/error.hpp>

namespace parley::bench {

namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;

namespace {
constexpr const char* kTarget = "/socket.io/?EIO=4&transport=websocket";
}

WsTransport::WsTransport(boost::asio::io_context& ctx, const tcp::endpoint& endpoint, std::string hostHeader)
    : ws_(ctx), endpoint_(endpoint), hostHeader_(std::move(hostHeader)) {}

void WsTransport::open(TransportListener& listener) {
    listener_ = &listener;
    ws_.next_layer().async_connect(endpoint_,
                                   [self = shared_from_this()](boost::system::error_code ec) { self->onConnect(ec); });
}

void WsTransport::onConnect(boost::system::error_code ec) {
    if (ec) return finish(ec);
    if (closeRequested_) return finish({});
    boost::system::error_code ignored;
    ws_.next_layer().set_option(tcp::no_delay(true), ignored);
    ws_.async_handshake(hostHeader_, kTarget,
                        [self = shared_from_this()](boost::system::error_code e) { self->onHandshake(e); });
}

void WsTransport::onHandshake(boost::system::error_code ec) {
    if (ec) return finish(ec);
    if (closeRequested_) return finish({});
    open_ = true;
    ws_.text(true);
    doRead();
    if (!queue_.empty()) doWrite();
}

void WsTransport::doRead() {
    ws_.async_read(buffer_, [self = shared_from_this()](boost::system::error_code ec, std::size_t bytes) {
        self->onRead(ec, bytes);
    });
}

void WsTransport::onRead(boost::system::error_code ec, std::size_t) {
    if (ec) return finish(ec);
    // Binary frames carry Socket.IO attachments, which the chat contract never sends: skipped.
    if (ws_.got_text() && listener_) {
        const auto data = buffer_.cdata();
        listener_->onPacket(std::string_view(static_cast<const char*>(data.data()), data.size()));
    }
    buffer_.consume(buffer_.size());
    if (!finished_) doRead();
}

void WsTransport::send(std::string packet) {
    if (finished_ || closeRequested_) return;
    queue_.push_back(std::move(packet));
    if (open_ && !writing_) doWrite();
}

void WsTransport::doWrite() {
    writing_ = true;
    ws_.async_write(
        boost::asio::buffer(queue_.front()),
        [self = shared_from_this()](boost::system::error_code ec, std::size_t bytes) { self->onWrite(ec, bytes); });
}

void WsTransport::onWrite(boost::system::error_code ec, std::size_t) {
    writing_ = false;
    if (ec) {
        // The pending read ends too, with operation_aborted: remember the real cause.
        if (!finished_ && !error_) error_ = ec;
        return closeSocket();
    }
    if (finished_) return;
    queue_.pop_front();
    if (!queue_.empty()) return doWrite();
    if (closeRequested_ && !closing_) doClose();
}

void WsTransport::close(bool graceful) {
    if (finished_ || closeRequested_) {
        if (!graceful && !finished_) abort();
        return;
    }
    closeRequested_ = true;
    if (!graceful || !open_) return abort();
    // Queued packets (a "41" disconnect, say) go out before the close frame.
    if (!writing_) doClose();
}

void WsTransport::doClose() {
    closing_ = true;
    ws_.async_close(websocket::close_code::normal,
                    [self = shared_from_this()](boost::system::error_code ec) { self->onClose(ec); });
}

void WsTransport::onClose(boost::system::error_code) {
    closing_ = false;
    // The close handshake is over (or failed): cut the socket, so the pending read ends now
    // and reports through finish().
    abort();
}

void WsTransport::abort() {
    closeRequested_ = true;
    closeSocket();
}

// Cancels whatever is pending (connect, handshake, read, write, close): each handler then runs
// with an error, and the first to reach finish() reports.
void WsTransport::closeSocket() {
    boost::system::error_code ignored;
    ws_.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
    ws_.next_layer().close(ignored);
}

void WsTransport::finish(boost::system::error_code ec) {
    if (finished_) return;
    finished_ = true;
    open_ = false;
    // A write in flight still reads from the front packet until its handler runs.
    if (!writing_) queue_.clear();
    boost::system::error_code ignored;
    ws_.next_layer().close(ignored);
    if (auto* l = listener_) {
        listener_ = nullptr;
        l->onTransportClosed(closeRequested_ ? boost::system::error_code{} : error_ ? error_ : ec);
    }
}

} // namespace parley::bench
