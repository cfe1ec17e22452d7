#include "engineio/Session.hpp"

#include "engineio/Server.hpp"

#include <spdlog/spdlog.h>

namespace parley::engineio {

namespace http = boost::beast::http;
using codec::PacketType;

std::string_view toString(CloseReason reason) noexcept {
    switch (reason) {
    case CloseReason::TransportClose: return "transport close";
    case CloseReason::TransportError: return "transport error";
    case CloseReason::PingTimeout: return "ping timeout";
    case CloseReason::ClientClose: return "transport close";
    case CloseReason::ServerClose: return "forced close";
    case CloseReason::ParseError: return "parse error";
    case CloseReason::PayloadTooLarge: return "transport error";
    case CloseReason::SlowConsumer: return "transport error";
    case CloseReason::Shutdown: return "server shutting down";
    }
    return "transport close";
}

Session::Session(Server& server, std::string sid, TransportType transport, std::shared_ptr<const Handshake> handshake,
                 boost::asio::io_context& context)
    : server_(server), sid_(std::move(sid)), handshake_(std::move(handshake)), context_(context),
      state_(transport == TransportType::WebSocket ? SessionState::WebSocket : SessionState::Polling),
      heartbeat_(*this, context) {}

void Session::start(std::shared_ptr<SessionHandler> handler) {
    handler_ = std::move(handler);
    heartbeat_.start();
}

void Session::enter(SessionState next) noexcept {
    PARLEY_ASSERT(isLegalTransition(state_, next), "engineio::Session: a state change the table does not allow");
    state_ = next;
}

// ---------------------------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------------------------

void Session::send(net::Frame frame) {
    if (!isOpen()) return;
    if (frame.isVolatile && backlog() > server_.config().volatileBacklogBytes) {
        // Typing and the like are stale by the time a backed-up client would read them: they
        // go first, so that the messages that matter fit in the queue for longer.
        if (auto* m = server_.metrics()) m->volatileDropped.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    if (state_ == SessionState::WebSocket) return websocket_.send(std::move(frame));
    polling_.send(std::move(frame));
}

std::uint64_t Session::backlog() const noexcept {
    return state_ == SessionState::WebSocket ? websocket_.queuedBytes() : polling_.queuedBytes();
}

// ---------------------------------------------------------------------------------------------
// Requests, and packets from the client whatever the transport
// ---------------------------------------------------------------------------------------------

void Session::onPollingRequest(const std::shared_ptr<net::Responder>& conn, const net::Request& req,
                               net::Response&& templ) {
    // The pong is overdue but its timer has not run yet (a busy thread, or this request came
    // through another one): the session is already over, whichever of the two ran first.
    if (isOpen() && heartbeat_.pongOverdue()) close(CloseReason::PingTimeout);
    // The client may have sent "2probe" or "5" on the probe just before this request, which
    // came on another connection (maybe through another io thread): frames it sent first are
    // acted on first. "5" makes this request one for an upgraded session.
    if (websocket_.probing()) websocket_.readProbe();
    const auto method = req.method();
    switch (state_) {
    case SessionState::Polling:
    case SessionState::Probing:
    case SessionState::Upgrading:
        if (method == http::verb::get) return polling_.onGet(conn, std::move(templ));
        if (method == http::verb::post) return polling_.onPost(conn, req, std::move(templ));
        break;
    case SessionState::Draining:
        if (method != http::verb::get) break;
        if (polling_.onDrainGet(conn, std::move(templ))) finishDrain();
        return;
    case SessionState::Closed: return conn->respond(server_.errorResponse(Errc::UnknownSid, std::move(templ)));
    case SessionState::WebSocket: break;
    }
    conn->respond(server_.errorResponse(Errc::BadRequest, std::move(templ)));
}

void Session::onPacket(codec::Packet&& packet) {
    switch (packet.type) {
    case PacketType::Pong: heartbeat_.onPong(); break;
    case PacketType::Message:
        if (!handler_) break;
        if (packet.binary)
            handler_->onBinary(packet.data);
        else
            handler_->onMessage(packet.data);
        break;
    case PacketType::Close: close(CloseReason::ClientClose); break;
    case PacketType::Open:
    case PacketType::Ping:
    case PacketType::Upgrade:
    case PacketType::Noop: break; // nothing a v4 client sends here; the reference ignores them too
    }
}

// ---------------------------------------------------------------------------------------------
// WebSocket, and the polling -> WebSocket upgrade
// ---------------------------------------------------------------------------------------------

void Session::attachWebSocket(std::shared_ptr<net::WsConnection> ws) {
    PARLEY_ASSERT(state_ == SessionState::WebSocket, "a WebSocket attached to a session not made for one");
    websocket_.attach(std::move(ws));
}

void Session::onUpgradeRequest(const std::shared_ptr<net::HttpConnection>& conn, net::Request&& req,
                               net::Response&& refusal) {
    if (!isOpen()) return conn->respond(server_.errorResponse(Errc::BadRequest, std::move(refusal)));
    // A second WebSocket for a session that has one, or is probing one: the session and its
    // transport are left untouched.
    if (state_ != SessionState::Polling)
        return WebSocketTransport::acceptAndClose(conn, std::move(req), server_.config().maxPayload);
    enter(SessionState::Probing);
    websocket_.openProbe(conn, std::move(req));
}

// The probe got "3probe": the client pauses polling now; its held GET is released so it can.
void Session::onProbeAnswered() {
    if (state_ == SessionState::Probing) enter(SessionState::Upgrading);
    polling_.releaseGet();
}

void Session::completeUpgrade() {
    websocket_.promoteProbe();
    enter(SessionState::WebSocket);
    polling_.releaseGet();
    polling_.moveQueueTo(websocket_);
    if (handler_) handler_->onUpgrade();
}

// Ends a pending upgrade: the probe is closed and forgotten; polling goes on.
void Session::abortUpgrade() {
    websocket_.dropProbe();
    enter(SessionState::Polling);
    polling_.resume();
}

// ---------------------------------------------------------------------------------------------
// Close
// ---------------------------------------------------------------------------------------------

void Session::close(CloseReason reason) {
    if (!isOpen()) return;
    auto self = shared_from_this(); // the server's table may hold the last reference
    const bool onPolling = state_ != SessionState::WebSocket;
    enter(onPolling && polling_.drainsOnClose(reason) ? SessionState::Draining : SessionState::Closed);
    countClose(reason);
    heartbeat_.stop();
    websocket_.dropProbe();
    if (onPolling)
        polling_.close(reason);
    else
        websocket_.close(reason);
    if (state_ == SessionState::Closed) server_.remove(sid_);
    finishClose(reason);
}

void Session::countClose(CloseReason reason) {
    if (reason != CloseReason::SlowConsumer) return;
    if (auto* m = server_.metrics()) m->slowConsumersClosed.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("session {} from {}: closed, more than {} bytes queued for a client that does not read", sid_,
                 handshake_->remoteAddress, server_.config().maxOutboundBytes);
}

// The draining session's last GET came, or its grace ran out.
void Session::finishDrain() {
    enter(SessionState::Closed);
    server_.remove(sid_);
}

void Session::finishClose(CloseReason reason) {
    auto handler = std::move(handler_);
    handler_.reset();
    if (handler) handler->onClose(reason);
}

} // namespace parley::engineio
