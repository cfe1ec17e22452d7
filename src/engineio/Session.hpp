#pragma once

#include "engineio/Config.hpp"
#include "engineio/Handler.hpp"
#include "engineio/Heartbeat.hpp"
#include "engineio/PollingTransport.hpp"
#include "engineio/RequestInfo.hpp"
#include "engineio/SessionState.hpp"
#include "engineio/WebSocketTransport.hpp"
#include "engineio/codec/Packet.hpp"
#include "net/HttpConnection.hpp"
#include "net/SharedBuffer.hpp"
#include "net/WsConnection.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace parley::engineio {

class Server;

/// What the handshake request carried, kept for the layers above (auth, logging). Headers
/// are not kept: they cost about a kilobyte per connection and nothing above reads them.
struct Handshake {
    std::string url;           ///< request target of the handshake, query included
    std::string remoteAddress; ///< "ip:port"
    std::chrono::system_clock::time_point issued;
};

/// One Engine.IO session (one sid). Owns the session's state (SessionState; every change
/// through enter()) and orchestrates its parts: the polling side, the WebSocket side with
/// the upgrade probe, and the heartbeat. Lives on one io thread for its whole life.
class Session : public std::enable_shared_from_this<Session> {
public:
    Session(Server& server, std::string sid, TransportType transport, std::shared_ptr<const Handshake> handshake,
            boost::asio::io_context& context);

    const std::string& id() const noexcept { return sid_; }
    /// WebSocket once a WebSocket carries the session (also after it closed), else Polling.
    TransportType transport() const noexcept {
        return websocket_.carries() ? TransportType::WebSocket : TransportType::Polling;
    }
    SessionState state() const noexcept { return state_; }
    const Handshake& handshake() const noexcept { return *handshake_; }
    /// Shared, so that the layers above can keep it past the session without a copy.
    const std::shared_ptr<const Handshake>& handshakePtr() const noexcept { return handshake_; }
    boost::asio::io_context& context() noexcept { return context_; }
    bool isOpen() const noexcept { return engineio::isOpen(state_); }

    /// Queues one message: a full text packet ("4..." built once and shared), or raw bytes
    /// when `frame.binary`. Dropped once the session is closed.
    void send(net::Frame frame);

    /// Closes the session after flushing what is queued. Safe to call more than once.
    void close(CloseReason reason = CloseReason::ServerClose);

    // --- Called by Server on the owner thread -------------------------------------------------
    void start(std::shared_ptr<SessionHandler> handler);
    void onPollingRequest(const std::shared_ptr<net::Responder>& conn, const net::Request& req, net::Response&& templ);
    void attachWebSocket(std::shared_ptr<net::WsConnection> ws);
    void onUpgradeRequest(const std::shared_ptr<net::HttpConnection>& conn, net::Request&& req,
                          net::Response&& refusal);

private:
    // The parts report to the session through the private functions below.
    friend class Heartbeat;
    friend class PollingTransport;
    friend class WebSocketTransport;

    /// The one place the state changes; asserts isLegalTransition().
    void enter(SessionState next) noexcept;

    void onPacket(codec::Packet&& packet);
    /// Bytes queued for the client on its current transport.
    std::uint64_t backlog() const noexcept;

    void onProbeAnswered();
    void completeUpgrade();
    void abortUpgrade();

    void countClose(CloseReason reason);
    void finishDrain();
    void finishClose(CloseReason reason);

    Server& server_;
    std::string sid_;
    std::shared_ptr<const Handshake> handshake_;
    boost::asio::io_context& context_;
    std::shared_ptr<SessionHandler> handler_;
    SessionState state_;
    PollingTransport polling_{*this};
    WebSocketTransport websocket_{*this};
    Heartbeat heartbeat_;
};

} // namespace parley::engineio
