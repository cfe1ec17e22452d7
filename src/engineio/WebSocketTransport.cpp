#include "engineio/WebSocketTransport.hpp"

#include "engineio/Server.hpp"
#include "engineio/Session.hpp"

#include <boost/beast/websocket/error.hpp>

namespace parley::engineio {

using codec::PacketType;

namespace {
// The same bytes for every session: built once.
const net::SharedBuffer kProbeReply = net::makeSharedBuffer("3probe");

// What a WebSocket's close callback means for the session.
CloseReason closeReasonOf(boost::system::error_code ec) {
    if (ec == boost::beast::websocket::error::message_too_big) return CloseReason::PayloadTooLarge;
    if (ec == boost::asio::error::no_buffer_space) return CloseReason::SlowConsumer;
    return CloseReason::TransportClose;
}
} // namespace

void WebSocketTransport::attach(std::shared_ptr<net::WsConnection> ws) {
    ws_ = std::move(ws);
    ws_->setMaxQueuedBytes(session_.server_.config().maxOutboundBytes);
    wsNumber_ = ++lastNumber_;
    start(*ws_, wsNumber_);
}

void WebSocketTransport::start(net::WsConnection& ws, std::uint32_t number) {
    ws.start([self = session_.shared_from_this(),
              number](std::string_view data, bool binary) { self->websocket_.onMessage(number, data, binary); },
             [self = session_.shared_from_this(), number](boost::system::error_code ec) {
                 self->websocket_.onClosed(number, ec);
             });
}

void WebSocketTransport::onMessage(std::uint32_t number, std::string_view data, bool binary) {
    if (!session_.isOpen()) return;
    if (number == probeNumber_) return onProbeMessage(data, binary);
    if (number != wsNumber_) return;
    if (binary) return session_.onPacket(codec::Packet{PacketType::Message, true, std::string(data)});
    auto packet = codec::parseText(data);
    if (!packet) return session_.close(CloseReason::ParseError);
    session_.onPacket(std::move(*packet));
}

void WebSocketTransport::onClosed(std::uint32_t number, boost::system::error_code ec) {
    if (number == probeNumber_) {
        // A probe cut off for not reading ends the session, as the WebSocket it was to become
        // would; any other end of a probe only ends the upgrade.
        if (ec == boost::asio::error::no_buffer_space) return session_.close(CloseReason::SlowConsumer);
        return session_.abortUpgrade();
    }
    if (number == wsNumber_ && session_.isOpen()) session_.close(closeReasonOf(ec));
}

void WebSocketTransport::close(CloseReason reason) {
    if (!ws_) return;
    ws_->detach();
    ws_->close(reason == CloseReason::PayloadTooLarge ? net::ws::CloseCode::TooBig : net::ws::CloseCode::Normal);
}

// ---------------------------------------------------------------------------------------------
// The polling -> WebSocket upgrade
// ---------------------------------------------------------------------------------------------

void WebSocketTransport::openProbe(const std::shared_ptr<net::HttpConnection>& conn, net::Request&& req) {
    auto ws = conn->upgrade();
    ws->setMaxQueuedBytes(session_.server_.config().maxOutboundBytes);
    probe_ = ws;
    probeNumber_ = ++lastNumber_;
    ws->accept(std::move(req), session_.server_.config().maxPayload,
               [self = session_.shared_from_this(), ws, number = probeNumber_](boost::system::error_code ec) {
                   self->websocket_.onProbeAccepted(ws, number, ec);
               });
}

void WebSocketTransport::onProbeAccepted(const std::shared_ptr<net::WsConnection>& ws, std::uint32_t number,
                                         boost::system::error_code ec) {
    if (ec || !session_.isOpen() || number != probeNumber_) {
        if (number == probeNumber_) return session_.abortUpgrade(); // closes it
        return ws->close();
    }
    start(*ws, number);
    upgradeTimer_ =
        std::make_unique<boost::asio::steady_timer>(session_.context(), session_.server_.config().upgradeTimeout);
    upgradeTimer_->async_wait([self = session_.shared_from_this(), number](boost::system::error_code tec) {
        if (!tec && number == self->websocket_.probeNumber_) self->abortUpgrade();
    });
}

void WebSocketTransport::onProbeMessage(std::string_view data, bool binary) {
    if (!binary && data == "2probe") {
        // At once: the client may already have sent requests on its polling connections, and
        // their answers (a 400 once the upgrade completes) must not overtake this reply.
        probe_->sendNow(net::Frame{kProbeReply, false});
        return session_.onProbeAnswered();
    }
    if (!binary && data == "5" && session_.state() == SessionState::Upgrading) return session_.completeUpgrade();
    // Anything else on a probe is a broken upgrade.
    session_.abortUpgrade();
}

void WebSocketTransport::promoteProbe() {
    upgradeTimer_.reset();
    ws_ = std::move(probe_);
    probe_.reset();
    wsNumber_ = probeNumber_;
    probeNumber_ = 0;
    ws_->setMaxQueuedBytes(session_.server_.config().maxOutboundBytes);
}

void WebSocketTransport::dropProbe() {
    upgradeTimer_.reset();
    probeNumber_ = 0;
    if (!probe_) return;
    probe_->detach();
    probe_->close();
    probe_.reset();
}

void WebSocketTransport::acceptAndClose(const std::shared_ptr<net::HttpConnection>& conn, net::Request&& req,
                                        std::uint64_t maxPayload) {
    auto ws = conn->upgrade();
    ws->accept(std::move(req), maxPayload, [ws](boost::system::error_code ec) {
        if (ec) return; // a bad key or version was refused with its HTTP error
        // Reading, so that the client's close reply ends the connection; nothing is delivered.
        ws->start([](std::string_view, bool) {}, [ws](boost::system::error_code) {});
        ws->close();
    });
}

} // namespace parley::engineio
