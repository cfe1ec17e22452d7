#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace parley::engineio {

class Session;

/// A session's heartbeat: a ping every pingInterval; the pong is due pingTimeout after the
/// ping was due. A missing pong closes the session with CloseReason::PingTimeout.
class Heartbeat {
public:
    Heartbeat(Session& session, boost::asio::io_context& context) : session_(session), timer_(context) {}

    /// Schedules the first ping.
    void start();
    /// The client answered: the next ping is pingInterval from now.
    void onPong();
    /// The pong is late, whether or not the timer has run yet.
    bool pongOverdue() const;
    void stop() { timer_.cancel(); }

private:
    void scheduleNext();
    void onTimer();

    Session& session_;
    boost::asio::steady_timer timer_;
    bool awaitingPong_ = false;
};

} // namespace parley::engineio
