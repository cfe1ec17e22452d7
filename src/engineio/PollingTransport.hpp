#pragma once

#include "engineio/Handler.hpp"
#include "net/HttpConnection.hpp"
#include "net/SharedBuffer.hpp"

#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace parley::engineio {

class Session;
class WebSocketTransport;

/// A session's long-polling side: the GET held until there is something to say (one at a
/// time), the outbox it takes, the POSTed packets, and the last GET of a closed session.
/// Lives inside its Session, on the session's thread; what it may do depends on the
/// session's state (paused while Upgrading, the last answers while Draining).
class PollingTransport {
public:
    explicit PollingTransport(Session& session) noexcept : session_(session) {}

    /// Queues one packet for the next GET. Sends of one loop turn leave in one response.
    void send(net::Frame frame);
    /// Bytes queued for the client.
    std::uint64_t queuedBytes() const noexcept { return outboxBytes_; }
    bool holdsGet() const noexcept { return pendingGet_ != nullptr; }

    /// A GET of an open session: held until there is something to send.
    void onGet(const std::shared_ptr<net::Responder>& conn, net::Response&& templ);
    /// A POST of an open session: its packets go to the session, in order.
    void onPost(const std::shared_ptr<net::Responder>& conn, const net::Request& req, net::Response&& templ);
    /// A GET of a draining session: gets what is queued, or, once nothing is, the last answer.
    /// True when it got the last answer: the session is over.
    bool onDrainGet(const std::shared_ptr<net::Responder>& conn, net::Response&& templ);

    /// Answers the held GET, if any, with a noop: the client may pause polling, or the GET
    /// belongs to a session that has moved to a WebSocket.
    void releaseGet();
    /// Polling goes on after an upgrade was abandoned: what waited for it leaves.
    void resume();
    /// The upgrade is complete: what is queued goes to `ws`, in order.
    void moveQueueTo(WebSocketTransport& ws);

    /// Whether closing for `reason` leaves the session Draining: packets must still reach the
    /// client before the close packet, or the client's GET may still be on its way.
    bool drainsOnClose(CloseReason reason) const noexcept;
    /// The session closed for `reason` (it is now Draining as drainsOnClose() said, or Closed):
    /// answers the held GET and keeps or drops the queue accordingly.
    void close(CloseReason reason);

private:
    void scheduleFlush();
    void flush();
    void hold(const std::shared_ptr<net::Responder>& conn, net::Response&& templ);
    void answer(std::string body);
    std::string takePayload();
    void clearQueue() noexcept;
    void armDrainTimer();

    Session& session_;
    std::vector<net::Frame> outbox_;
    std::uint64_t outboxBytes_ = 0;
    std::shared_ptr<net::Responder> pendingGet_;
    std::unique_ptr<net::Response> pendingTemplate_; ///< the held GET's response, while one is held
    // Created when needed: most sessions never drain, and a timer is 120 bytes.
    std::unique_ptr<boost::asio::steady_timer> drainTimer_;
    std::string_view drainLast_ = "1"; ///< what the last GET of a draining session gets
    bool flushScheduled_ = false;
};

} // namespace parley::engineio
