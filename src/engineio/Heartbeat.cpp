#include "engineio/Heartbeat.hpp"

#include "engineio/Server.hpp"
#include "engineio/Session.hpp"

#include <algorithm>

namespace parley::engineio {

namespace {
// The same bytes for every session: built once.
const net::SharedBuffer kPing = net::makeSharedBuffer("2");
} // namespace

void Heartbeat::start() { scheduleNext(); }

void Heartbeat::onPong() {
    awaitingPong_ = false;
    scheduleNext();
}

void Heartbeat::scheduleNext() {
    if (!session_.isOpen()) return;
    timer_.expires_after(session_.server_.config().pingInterval);
    timer_.async_wait([self = session_.shared_from_this()](boost::system::error_code ec) {
        if (!ec) self->heartbeat_.onTimer();
    });
}

bool Heartbeat::pongOverdue() const { return awaitingPong_ && std::chrono::steady_clock::now() >= timer_.expiry(); }

void Heartbeat::onTimer() {
    if (!session_.isOpen()) return;
    if (awaitingPong_) return session_.close(CloseReason::PingTimeout);
    awaitingPong_ = true;
    session_.send(net::Frame{kPing, false});
    // The pong is due pingTimeout after the ping was due, not after this timer happened to run:
    // a client that waited pingInterval + pingTimeout finds the session closed. A timer that
    // ran very late still gives the client half the timeout to answer.
    const auto timeout = session_.server_.config().pingTimeout;
    timer_.expires_at(std::max(timer_.expiry() + timeout, std::chrono::steady_clock::now() + timeout / 2));
    timer_.async_wait([self = session_.shared_from_this()](boost::system::error_code ec) {
        if (!ec) self->heartbeat_.onTimer();
    });
}

} // namespace parley::engineio
