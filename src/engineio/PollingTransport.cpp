#include "engineio/PollingTransport.hpp"

#include "core/Assert.hpp"
#include "engineio/Server.hpp"
#include "engineio/Session.hpp"
#include "engineio/codec/Payload.hpp"

#include <boost/asio/post.hpp>

namespace parley::engineio {

namespace http = boost::beast::http;

namespace {
// How long a closed polling session waits for the GET that takes its last packets.
constexpr std::chrono::seconds kDrainGrace{5};

void respondOk(const std::shared_ptr<net::Responder>& conn, net::Response&& templ, std::string body) {
    net::Response res = std::move(templ);
    res.result(http::status::ok);
    res.set(http::field::content_type, "text/plain; charset=UTF-8");
    res.body() = std::move(body);
    conn->respond(std::move(res));
}

// Whether `held` is the very connection `current` points to. Owners, not addresses, are
// compared: a connection freed and another allocated at its address is not the same one.
bool sameConnection(const std::shared_ptr<net::Responder>& current,
                    const std::weak_ptr<net::Responder>& held) noexcept {
    return current && !current.owner_before(held) && !held.owner_before(current);
}
} // namespace

// ---------------------------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------------------------

void PollingTransport::send(net::Frame frame) {
    const std::uint64_t limit = session_.server_.config().maxOutboundBytes;
    const bool wasWithin = outboxBytes_ <= limit;
    outboxBytes_ += frame.bytes->size();
    outbox_.push_back(std::move(frame));
    // A client that stops polling must not make us hold its messages without bound.
    if (wasWithin && outboxBytes_ > limit) {
        // Closed on the next turn, not inside send(): the caller may be mid-broadcast. Posted
        // once per crossing of the bound; a second close finds the session closed.
        boost::asio::post(session_.context(),
                          [self = session_.shared_from_this()] { self->close(CloseReason::SlowConsumer); });
        return;
    }
    scheduleFlush();
}

// Several sends in one loop turn leave in one polling response. None leaves while an upgrade
// is pending: the client has paused polling, and what is queued goes to the WebSocket.
void PollingTransport::scheduleFlush() {
    if (flushScheduled_ || !pendingGet_ || session_.state() == SessionState::Upgrading) return;
    flushScheduled_ = true;
    boost::asio::post(session_.context(), [self = session_.shared_from_this()] {
        self->polling_.flushScheduled_ = false;
        self->polling_.flush();
    });
}

void PollingTransport::flush() {
    if (!pendingGet_ || outbox_.empty() || session_.state() == SessionState::Upgrading) return;
    answer(takePayload());
}

std::string PollingTransport::takePayload() {
    std::size_t size = 0;
    for (const auto& f : outbox_) size += f.bytes->size() + 1;
    std::string payload;
    payload.reserve(size);
    for (const auto& f : outbox_) codec::appendToPayload(payload, *f.bytes, f.binary);
    clearQueue();
    return payload;
}

void PollingTransport::clearQueue() noexcept {
    outbox_.clear();
    outboxBytes_ = 0;
}

void PollingTransport::answer(std::string body) {
    auto conn = std::move(pendingGet_);
    pendingGet_.reset();
    net::Response templ = std::move(*pendingTemplate_);
    pendingTemplate_.reset();
    respondOk(conn, std::move(templ), std::move(body));
}

void PollingTransport::releaseGet() {
    if (pendingGet_) answer("6");
}

void PollingTransport::resume() {
    if (pendingGet_ && !outbox_.empty()) scheduleFlush();
}

void PollingTransport::moveQueueTo(WebSocketTransport& ws) {
    for (auto& f : outbox_) ws.send(std::move(f));
    clearQueue();
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

void PollingTransport::onGet(const std::shared_ptr<net::Responder>& conn, net::Response&& templ) {
    if (pendingGet_) {
        // Two GETs at once is a broken client: refuse the second and end the session.
        conn->respond(session_.server_.errorResponse(Errc::BadRequest, std::move(templ)));
        session_.close(CloseReason::TransportError);
        return;
    }
    hold(conn, std::move(templ));
    if (session_.state() == SessionState::Upgrading) return answer("6");
    flush();
}

void PollingTransport::hold(const std::shared_ptr<net::Responder>& conn, net::Response&& templ) {
    pendingGet_ = conn;
    pendingTemplate_ = std::make_unique<net::Response>(std::move(templ));
    // A client that drops its held GET is gone (the reference closes the session too).
    conn->onAbort([weak = session_.weak_from_this(), held = std::weak_ptr<net::Responder>(conn)] {
        auto self = weak.lock();
        if (!self || !sameConnection(self->polling_.pendingGet_, held)) return;
        self->polling_.pendingGet_.reset();
        self->polling_.pendingTemplate_.reset();
        self->close(CloseReason::TransportClose);
    });
}

void PollingTransport::onPost(const std::shared_ptr<net::Responder>& conn, const net::Request& req,
                              net::Response&& templ) {
    const auto& body = req.body();
    if (body.size() > session_.server_.config().maxPayload) {
        net::Response res = std::move(templ);
        res.result(http::status::payload_too_large);
        res.set(http::field::content_type, "text/plain; charset=UTF-8");
        res.body() = "Payload Too Large";
        conn->respond(std::move(res));
        session_.close(CloseReason::PayloadTooLarge);
        return;
    }
    auto packets = codec::decodePayload(body);
    if (!packets) {
        conn->respond(session_.server_.errorResponse(Errc::BadRequest, std::move(templ)));
        session_.close(CloseReason::ParseError);
        return;
    }
    net::Response res = std::move(templ);
    res.result(http::status::ok);
    res.set(http::field::content_type, "text/html");
    res.body() = "ok";
    conn->respond(std::move(res));
    auto self = session_.shared_from_this(); // a packet may close the session
    for (auto& p : *packets) {
        if (!session_.isOpen()) break;
        session_.onPacket(std::move(p));
    }
}

bool PollingTransport::onDrainGet(const std::shared_ptr<net::Responder>& conn, net::Response&& templ) {
    // Closed with packets still queued: they go first, the last answer on the GET after.
    if (!outbox_.empty()) {
        respondOk(conn, std::move(templ), takePayload());
        return false;
    }
    respondOk(conn, std::move(templ), std::string(drainLast_));
    drainTimer_.reset();
    return true;
}

// ---------------------------------------------------------------------------------------------
// Close
// ---------------------------------------------------------------------------------------------

namespace {
bool isGraceful(CloseReason reason) noexcept {
    return reason == CloseReason::ServerClose || reason == CloseReason::Shutdown;
}
} // namespace

bool PollingTransport::drainsOnClose(CloseReason reason) const noexcept {
    if (isGraceful(reason) && !outbox_.empty()) return true;
    return !pendingGet_ && reason == CloseReason::ClientClose;
}

// Each branch matches drainsOnClose(): the draining ones arm the drain timer.
void PollingTransport::close(CloseReason reason) {
    if (isGraceful(reason) && !outbox_.empty()) {
        // The last packets (e.g. a DISCONNECT) must reach the client before the close packet,
        // which a client acts on at once: send them now, the close on the next GET.
        if (pendingGet_) answer(takePayload());
        return armDrainTimer();
    }
    if (pendingGet_) {
        // A client's own close gets a noop (it is gone); anything else gets the close packet.
        std::string body = takePayload();
        codec::appendToPayload(body, reason == CloseReason::ClientClose ? "6" : "1", false);
        return answer(std::move(body));
    }
    clearQueue();
    if (reason == CloseReason::ClientClose) {
        // The client's GET may have left before its close and still be on its way: on another
        // connection, possibly through another io thread, it can reach us after the POST. It
        // gets the noop it would have got had it come first; requests after that one get 400.
        drainLast_ = "6";
        armDrainTimer();
    }
}

void PollingTransport::armDrainTimer() {
    PARLEY_ASSERT(session_.state() == SessionState::Draining, "drain timer armed for a session not draining");
    drainTimer_ = std::make_unique<boost::asio::steady_timer>(session_.context(), kDrainGrace);
    drainTimer_->async_wait([self = session_.shared_from_this()](boost::system::error_code ec) {
        if (ec || self->state() != SessionState::Draining) return;
        self->polling_.clearQueue();
        self->finishDrain();
    });
}

} // namespace parley::engineio
