#include "engineio/Session.hpp"

#include "engineio/Server.hpp"
#include "engineio/codec/Payload.hpp"

#include <boost/beast/websocket/error.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace parley::engineio {

namespace http = boost::beast::http;
using codec::PacketType;

namespace {
// Control packets are the same bytes for everyone: build them once.
const net::SharedBuffer kPing = net::makeSharedBuffer("2");
const net::SharedBuffer kNoop = net::makeSharedBuffer("6");
const net::SharedBuffer kProbeReply = net::makeSharedBuffer("3probe");
// How long a closed polling session waits for the GET that takes its last packets.
constexpr std::chrono::seconds kDrainGrace{5};
} // namespace

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
    : server_(server), sid_(std::move(sid)), transport_(transport), handshake_(std::move(handshake)), context_(context),
      pingTimer_(context) {}

void Session::start(std::shared_ptr<SessionHandler> handler) {
    handler_ = std::move(handler);
    schedulePing();
}

// ---------------------------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------------------------

void Session::send(net::Frame frame) {
    if (closed_) return;
    if (frame.isVolatile && backlog() > server_.config().volatileBacklogBytes) {
        // Typing and the like are stale by the time a backed-up client would read them: they
        // go first, so that the messages that matter fit in the queue for longer.
        if (auto* m = server_.metrics()) m->volatileDropped.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    if (transport_ == TransportType::WebSocket) {
        ws_->send(std::move(frame));
        return;
    }
    outboxBytes_ += frame.bytes->size();
    outbox_.push_back(std::move(frame));
    // A client that stops polling must not make us hold its messages without bound.
    if (outboxBytes_ > server_.config().maxOutboundBytes && !slowConsumer_) {
        // Closed on the next turn, not inside send(): the caller may be mid-broadcast.
        slowConsumer_ = true;
        boost::asio::post(context_, [self = shared_from_this()] { self->close(CloseReason::SlowConsumer); });
        return;
    }
    scheduleFlush();
}

std::uint64_t Session::backlog() const noexcept {
    if (transport_ == TransportType::WebSocket) return ws_ ? ws_->queuedBytes() : 0;
    return outboxBytes_;
}

void Session::sendControl(const net::SharedBuffer& packet) { send(net::Frame{packet, false}); }

// Several sends in one loop turn leave in one polling response.
void Session::scheduleFlush() {
    if (flushScheduled_ || !pendingGet_ || upgrading_) return;
    flushScheduled_ = true;
    boost::asio::post(context_, [self = shared_from_this()] {
        self->flushScheduled_ = false;
        self->flushPoll();
    });
}

void Session::flushPoll() {
    if (!pendingGet_ || outbox_.empty() || upgrading_) return;
    answerPendingGet(drainOutbox());
}

std::string Session::drainOutbox() {
    std::size_t size = 0;
    for (const auto& f : outbox_) size += f.bytes->size() + 1;
    std::string payload;
    payload.reserve(size);
    for (const auto& f : outbox_) codec::appendToPayload(payload, *f.bytes, f.binary);
    outbox_.clear();
    outboxBytes_ = 0;
    return payload;
}

void Session::answerPendingGet(std::string body) {
    auto conn = std::move(pendingGet_);
    pendingGet_.reset();
    net::Response res = std::move(*pendingTemplate_);
    pendingTemplate_.reset();
    res.result(http::status::ok);
    res.set(http::field::content_type, "text/plain; charset=UTF-8");
    res.body() = std::move(body);
    conn->respond(std::move(res));
}

// ---------------------------------------------------------------------------------------------
// Polling
// ---------------------------------------------------------------------------------------------

void Session::onPollingRequest(const std::shared_ptr<net::HttpConnection>& conn, const net::Request& req,
                               net::Response&& templ) {
    // The pong is overdue but its timer has not run yet (a busy thread, or this request came
    // through another one): the session is already over, whichever of the two ran first.
    if (!closed_ && pongOverdue()) close(CloseReason::PingTimeout);
    if (probe_) {
        // The client may have sent "2probe" or "5" on the probe just before this request, which
        // came on another connection (maybe through another io thread): frames it sent first are
        // acted on first. "5" makes this request one for an upgraded session.
        probe_->readPending();
        if (!closed_ && transport_ != TransportType::Polling)
            return conn->respond(server_.errorResponse(Errc::BadRequest, std::move(templ)));
    }
    if (closed_ && !draining_) return conn->respond(server_.errorResponse(Errc::UnknownSid, std::move(templ)));
    if (req.method() == http::verb::get) return onPollingGet(conn, std::move(templ));
    if (draining_) return conn->respond(server_.errorResponse(Errc::BadRequest, std::move(templ)));
    if (req.method() == http::verb::post) return onPollingPost(conn, req, std::move(templ));
    conn->respond(server_.errorResponse(Errc::BadRequest, std::move(templ)));
}

void Session::onPollingGet(const std::shared_ptr<net::HttpConnection>& conn, net::Response&& templ) {
    if (draining_) {
        // Closed with packets still queued: they go first, the close packet on the GET after.
        pendingGet_ = conn;
        pendingTemplate_ = std::make_unique<net::Response>(std::move(templ));
        if (!outbox_.empty()) return answerPendingGet(drainOutbox());
        answerPendingGet(std::string(drainLast_));
        draining_ = false;
        drainTimer_.reset();
        server_.remove(sid_);
        return;
    }
    if (pendingGet_) {
        // Two GETs at once is a broken client: refuse the second and end the session.
        conn->respond(server_.errorResponse(Errc::BadRequest, std::move(templ)));
        close(CloseReason::TransportError);
        return;
    }
    pendingGet_ = conn;
    pendingTemplate_ = std::make_unique<net::Response>(std::move(templ));
    // A client that drops its held GET is gone (the reference closes the session too).
    conn->onAbort([weak = weak_from_this(), raw = conn.get()] {
        auto self = weak.lock();
        if (!self || self->pendingGet_.get() != raw) return;
        self->pendingGet_.reset();
        self->close(CloseReason::TransportClose);
    });
    if (upgrading_) return answerPendingGet("6");
    if (!outbox_.empty()) flushPoll();
}

void Session::onPollingPost(const std::shared_ptr<net::HttpConnection>& conn, const net::Request& req,
                            net::Response&& templ) {
    const auto& body = req.body();
    if (body.size() > server_.config().maxPayload) {
        net::Response res = std::move(templ);
        res.result(http::status::payload_too_large);
        res.set(http::field::content_type, "text/plain; charset=UTF-8");
        res.body() = "Payload Too Large";
        conn->respond(std::move(res));
        close(CloseReason::PayloadTooLarge);
        return;
    }
    auto packets = codec::decodePayload(body);
    if (!packets) {
        conn->respond(server_.errorResponse(Errc::BadRequest, std::move(templ)));
        close(CloseReason::ParseError);
        return;
    }
    net::Response res = std::move(templ);
    res.result(http::status::ok);
    res.set(http::field::content_type, "text/html");
    res.body() = "ok";
    conn->respond(std::move(res));
    auto self = shared_from_this(); // a packet may close us
    for (auto& p : *packets) {
        if (closed_) break;
        onPacket(std::move(p));
    }
}

// ---------------------------------------------------------------------------------------------
// Packets from the client, whatever the transport
// ---------------------------------------------------------------------------------------------

void Session::onPacket(codec::Packet&& packet) {
    switch (packet.type) {
    case PacketType::Pong:
        awaitingPong_ = false;
        schedulePing();
        break;
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

// What a WebSocket's close callback means for the session.
static CloseReason closeReasonOf(boost::system::error_code ec) {
    if (ec == boost::beast::websocket::error::message_too_big) return CloseReason::PayloadTooLarge;
    if (ec == boost::asio::error::no_buffer_space) return CloseReason::SlowConsumer;
    return CloseReason::TransportClose;
}

void Session::attachWebSocket(std::shared_ptr<net::WsConnection> ws) {
    ws_ = std::move(ws);
    ws_->setMaxQueuedBytes(server_.config().maxOutboundBytes);
    const net::WsConnection* raw = ws_.get();
    ws_->start(
        [self = shared_from_this(), raw](std::string_view data, bool binary) { self->onWsMessage(raw, data, binary); },
        [self = shared_from_this(), raw](boost::system::error_code ec) {
            if (self->ws_.get() != raw || self->closed_) return;
            self->close(closeReasonOf(ec));
        });
}

void Session::onWsMessage(const net::WsConnection* from, std::string_view data, bool binary) {
    if (closed_) return;
    if (probe_ && from == probe_.get()) return onProbeMessage(data, binary);
    if (from != ws_.get()) return;
    if (binary) return onPacket(codec::Packet{PacketType::Message, true, std::string(data)});
    auto packet = codec::parseText(data);
    if (!packet) return close(CloseReason::ParseError);
    onPacket(std::move(*packet));
}

void Session::onUpgradeRequest(const std::shared_ptr<net::HttpConnection>& conn, net::Request&& req,
                               net::Response&& refusal) {
    if (closed_) {
        conn->respond(server_.errorResponse(Errc::BadRequest, std::move(refusal)));
        return;
    }
    if (transport_ != TransportType::Polling || probe_) {
        // A second WebSocket for a session that has one, or is probing one: accepted and closed
        // at once, as the reference does, so a client sees a close rather than an HTTP error;
        // the session and its transport are left untouched.
        acceptAndClose(conn, std::move(req));
        return;
    }
    auto ws = conn->upgrade();
    ws->setMaxQueuedBytes(server_.config().maxOutboundBytes);
    probe_ = ws;
    ws->accept(
        std::move(req), server_.config().maxPayload, [self = shared_from_this(), ws](boost::system::error_code ec) {
            if (ec || self->closed_ || self->probe_ != ws) {
                if (self->probe_ == ws) self->probe_.reset();
                ws->close();
                return;
            }
            const net::WsConnection* raw = ws.get();
            ws->start([self, raw](std::string_view data, bool binary) { self->onWsMessage(raw, data, binary); },
                      [self, raw](boost::system::error_code closeEc) {
                          // A probe cut off for not reading ends the session, as the
                          // WebSocket it was to become would.
                          if (self->probe_.get() == raw && closeEc == boost::asio::error::no_buffer_space)
                              self->close(CloseReason::SlowConsumer);
                          else if (self->probe_.get() == raw)
                              self->abortUpgrade();
                          else if (self->ws_.get() == raw && !self->closed_)
                              self->close(closeReasonOf(closeEc));
                      });
            self->upgradeTimer_ =
                std::make_unique<boost::asio::steady_timer>(self->context_, self->server_.config().upgradeTimeout);
            self->upgradeTimer_->async_wait([self, raw](boost::system::error_code tec) {
                if (!tec && self->probe_.get() == raw) self->abortUpgrade();
            });
        });
}

void Session::acceptAndClose(const std::shared_ptr<net::HttpConnection>& conn, net::Request&& req) {
    auto ws = conn->upgrade();
    ws->accept(std::move(req), server_.config().maxPayload, [ws](boost::system::error_code ec) {
        if (ec) return; // a bad key or version was refused with its HTTP error
        // Reading, so that the client's close reply ends the connection; nothing is delivered.
        ws->start([](std::string_view, bool) {}, [ws](boost::system::error_code) {});
        ws->close();
    });
}

void Session::onProbeMessage(std::string_view data, bool binary) {
    if (!binary && data == "2probe") {
        // At once: the client may already have sent requests on its polling connections, and
        // their answers (a 400 once the upgrade completes) must not overtake this reply.
        probe_->sendNow(net::Frame{kProbeReply, false});
        // The client pauses polling now; release its held GET so it can.
        upgrading_ = true;
        if (pendingGet_) answerPendingGet("6");
        return;
    }
    if (!binary && data == "5" && upgrading_) return completeUpgrade();
    // Anything else on a probe is a broken upgrade.
    abortUpgrade();
}

void Session::completeUpgrade() {
    upgradeTimer_.reset();
    transport_ = TransportType::WebSocket;
    ws_ = std::move(probe_);
    probe_.reset();
    ws_->setMaxQueuedBytes(server_.config().maxOutboundBytes);
    upgrading_ = false;
    if (pendingGet_) answerPendingGet("6");
    for (auto& f : outbox_) ws_->send(std::move(f));
    outbox_.clear();
    outboxBytes_ = 0;
}

// Ends a pending upgrade: the probe WebSocket is closed and forgotten; polling goes on.
void Session::dropProbe() {
    upgradeTimer_.reset();
    if (probe_) {
        probe_->detach();
        probe_->close();
        probe_.reset();
    }
    upgrading_ = false;
}

void Session::abortUpgrade() {
    dropProbe();
    if (pendingGet_ && !outbox_.empty()) scheduleFlush();
}

// ---------------------------------------------------------------------------------------------
// Heartbeat: ping every pingInterval; the pong timeout starts when the ping is queued.
// ---------------------------------------------------------------------------------------------

void Session::schedulePing() {
    if (closed_) return;
    pingTimer_.expires_after(server_.config().pingInterval);
    pingTimer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec) self->onPingTimer();
    });
}

bool Session::pongOverdue() const { return awaitingPong_ && std::chrono::steady_clock::now() >= pingTimer_.expiry(); }

void Session::onPingTimer() {
    if (closed_) return;
    if (awaitingPong_) return close(CloseReason::PingTimeout);
    awaitingPong_ = true;
    sendControl(kPing);
    // The pong is due pingTimeout after the ping was due, not after this timer happened to run:
    // a client that waited pingInterval + pingTimeout finds the session closed. A timer that
    // ran very late still gives the client half the timeout to answer.
    const auto timeout = server_.config().pingTimeout;
    pingTimer_.expires_at(std::max(pingTimer_.expiry() + timeout, std::chrono::steady_clock::now() + timeout / 2));
    pingTimer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec) self->onPingTimer();
    });
}

// ---------------------------------------------------------------------------------------------
// Close
// ---------------------------------------------------------------------------------------------

void Session::close(CloseReason reason) {
    if (closed_) return;
    closed_ = true;
    if (reason == CloseReason::SlowConsumer && server_.metrics())
        server_.metrics()->slowConsumersClosed.fetch_add(1, std::memory_order_relaxed);
    if (reason == CloseReason::SlowConsumer)
        spdlog::info("session {} from {}: closed, more than {} bytes queued for a client that does not read", sid_,
                     handshake_->remoteAddress, server_.config().maxOutboundBytes);
    pingTimer_.cancel();
    dropProbe();

    bool keepForDrain = false;
    if (transport_ == TransportType::Polling) {
        const bool graceful = reason == CloseReason::ServerClose || reason == CloseReason::Shutdown;
        if (graceful && !outbox_.empty()) {
            // The last packets (e.g. a DISCONNECT) must reach the client before the close packet,
            // which a client acts on at once: send them now, the close on the next GET.
            if (pendingGet_) answerPendingGet(drainOutbox());
            keepForDrain = true;
        } else if (pendingGet_) {
            // A client's own close gets a noop (it is gone); anything else gets the close packet.
            std::string body = drainOutbox();
            codec::appendToPayload(body, reason == CloseReason::ClientClose ? "6" : "1", false);
            answerPendingGet(std::move(body));
        } else if (reason == CloseReason::ClientClose) {
            // The client's GET may have left before its close and still be on its way: on
            // another connection, possibly through another io thread, it can reach us after
            // the POST. It gets the noop it would have got had it come first; requests after
            // that one get 400.
            outbox_.clear();
            drainLast_ = "6";
            keepForDrain = true;
        }
    } else if (ws_) {
        ws_->detach();
        ws_->close(reason == CloseReason::PayloadTooLarge ? net::ws::CloseCode::TooBig : net::ws::CloseCode::Normal);
    }

    if (keepForDrain) {
        draining_ = true;
        drainTimer_ = std::make_unique<boost::asio::steady_timer>(context_, kDrainGrace);
        drainTimer_->async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (ec || !self->draining_) return;
            self->draining_ = false;
            self->outbox_.clear();
            self->server_.remove(self->sid_);
        });
    } else {
        outbox_.clear();
        server_.remove(sid_);
    }
    finishClose(reason);
}

void Session::finishClose(CloseReason reason) {
    auto handler = std::move(handler_);
    handler_.reset();
    if (handler) handler->onClose(reason);
}

} // namespace parley::engineio
