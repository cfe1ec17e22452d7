#pragma once

#include "engineio/Config.hpp"
#include "engineio/Handler.hpp"
#include "engineio/RequestInfo.hpp"
#include "engineio/codec/Packet.hpp"
#include "net/HttpConnection.hpp"
#include "net/SharedBuffer.hpp"
#include "net/WsConnection.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace parley::engineio {

class Server;

/// What the handshake request carried, kept for the layers above (auth, logging). Headers
/// are not kept: they cost about a kilobyte per connection and nothing above reads them.
struct Handshake {
    std::string url;           ///< request target of the handshake, query included
    std::string remoteAddress; ///< "ip:port"
    std::chrono::system_clock::time_point issued;
};

/// One Engine.IO session (one sid): its transport (polling, WebSocket, or polling being
/// upgraded), outbound queue, heartbeat and close. Lives on one io thread for its whole life.
class Session : public std::enable_shared_from_this<Session> {
public:
    Session(Server& server, std::string sid, TransportType transport, std::shared_ptr<const Handshake> handshake,
            boost::asio::io_context& context);

    const std::string& id() const noexcept { return sid_; }
    TransportType transport() const noexcept { return transport_; }
    const Handshake& handshake() const noexcept { return *handshake_; }
    /// Shared, so that the layers above can keep it past the session without a copy.
    const std::shared_ptr<const Handshake>& handshakePtr() const noexcept { return handshake_; }
    boost::asio::io_context& context() noexcept { return context_; }
    bool isOpen() const noexcept { return !closed_; }

    /// Queues one message: a full text packet ("4..." built once and shared), or raw bytes
    /// when `frame.binary`. Dropped once the session is closed.
    void send(net::Frame frame);

    /// Closes the session after flushing what is queued. Safe to call more than once.
    void close(CloseReason reason = CloseReason::ServerClose);

    // --- Called by Server on the owner thread -------------------------------------------------
    void start(std::shared_ptr<SessionHandler> handler);
    void onPollingRequest(const std::shared_ptr<net::HttpConnection>& conn, const net::Request& req,
                          net::Response&& templ);
    void attachWebSocket(std::shared_ptr<net::WsConnection> ws);
    void onUpgradeRequest(const std::shared_ptr<net::HttpConnection>& conn, net::Request&& req,
                          net::Response&& refusal);

private:
    void onPollingGet(const std::shared_ptr<net::HttpConnection>& conn, net::Response&& templ);
    void onPollingPost(const std::shared_ptr<net::HttpConnection>& conn, const net::Request& req,
                       net::Response&& templ);
    void onPacket(codec::Packet&& packet);
    void onWsMessage(const net::WsConnection* from, std::string_view data, bool binary);
    void onProbeMessage(std::string_view data, bool binary);
    void acceptAndClose(const std::shared_ptr<net::HttpConnection>& conn, net::Request&& req);
    void completeUpgrade();
    void abortUpgrade();
    void dropProbe();

    void sendControl(const net::SharedBuffer& packet);
    /// Bytes queued for the client on its current transport.
    std::uint64_t backlog() const noexcept;
    void scheduleFlush();
    void flushPoll();
    void answerPendingGet(std::string body);
    std::string drainOutbox();

    void schedulePing();
    void onPingTimer();
    bool pongOverdue() const;
    void finishClose(CloseReason reason);

    Server& server_;
    std::string sid_;
    TransportType transport_;
    std::shared_ptr<const Handshake> handshake_;
    boost::asio::io_context& context_;
    std::shared_ptr<SessionHandler> handler_;

    // Polling transport
    std::vector<net::Frame> outbox_;
    std::uint64_t outboxBytes_ = 0;
    std::shared_ptr<net::HttpConnection> pendingGet_;
    std::unique_ptr<net::Response> pendingTemplate_; ///< the held GET's response, while one is held
    bool flushScheduled_ = false;

    // WebSocket transport, and the probe during an upgrade
    std::shared_ptr<net::WsConnection> ws_;
    std::shared_ptr<net::WsConnection> probe_;
    bool upgrading_ = false;

    boost::asio::steady_timer pingTimer_;
    // Created when needed: most sessions never upgrade or drain, and a timer is 120 bytes.
    std::unique_ptr<boost::asio::steady_timer> upgradeTimer_;
    std::unique_ptr<boost::asio::steady_timer> drainTimer_;
    bool awaitingPong_ = false;
    bool closed_ = false;
    bool slowConsumer_ = false;        ///< over maxOutboundBytes: closing on the next turn
    bool draining_ = false;            ///< closed, waiting for one more GET to take the last packets
    std::string_view drainLast_ = "1"; ///< what that GET gets once the queue is empty
};

} // namespace parley::engineio
