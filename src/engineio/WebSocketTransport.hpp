#pragma once

#include "engineio/Handler.hpp"
#include "net/HttpConnection.hpp"
#include "net/SharedBuffer.hpp"
#include "net/WsConnection.hpp"

#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <memory>
#include <string_view>

namespace parley::engineio {

class Session;

/// A session's WebSocket side: the WebSocket that carries the session (from its handshake or
/// from a completed upgrade) and, during an upgrade from polling, the probe: "2probe" gets
/// "3probe", "5" makes the probe the session's WebSocket, anything else or upgradeTimeout
/// without "5" abandons it. Lives inside its Session, on the session's thread.
///
/// Every connection the session takes gets the next number, which its callbacks carry: a
/// callback acts only while its number is still the one of the role it reports for, so a
/// connection dropped (and maybe freed, its address reused) is never taken for a later one.
class WebSocketTransport {
public:
    explicit WebSocketTransport(Session& session) noexcept : session_(session) {}

    /// The WebSocket of a WebSocket handshake: it carries the session from now on.
    void attach(std::shared_ptr<net::WsConnection> ws);
    /// Whether a WebSocket carries the session (it stays set once the session is closed).
    bool carries() const noexcept { return ws_ != nullptr; }
    /// Queues one message on the session's WebSocket; only once carries().
    void send(net::Frame frame) { ws_->send(std::move(frame)); }
    /// Bytes waiting in the session's WebSocket's send queue.
    std::uint64_t queuedBytes() const noexcept { return ws_ ? ws_->queuedBytes() : 0; }
    /// Closes the session's WebSocket after what is queued; nothing more is reported.
    void close(CloseReason reason);

    /// Takes `conn` (an upgrade request `req` with the session's sid) as the probe.
    void openProbe(const std::shared_ptr<net::HttpConnection>& conn, net::Request&& req);
    bool probing() const noexcept { return probe_ != nullptr; }
    /// Acts now on what the probe has already received (its "2probe", its "5").
    void readProbe() { probe_->readPending(); }
    /// The probe becomes the session's WebSocket (its "5").
    void promoteProbe();
    /// Closes and forgets the probe, if any; nothing more of it is reported.
    void dropProbe();

    /// Answers a WebSocket request that may not take over its session (one already has a
    /// WebSocket, or is probing one): accepted and closed at once, as the reference does, so a
    /// client sees a close rather than an HTTP error.
    static void acceptAndClose(const std::shared_ptr<net::HttpConnection>& conn, net::Request&& req,
                               std::uint64_t maxPayload);

private:
    void start(net::WsConnection& ws, std::uint32_t number);
    void onProbeAccepted(const std::shared_ptr<net::WsConnection>& ws, std::uint32_t number,
                         boost::system::error_code ec);
    void onMessage(std::uint32_t number, std::string_view data, bool binary);
    void onProbeMessage(std::string_view data, bool binary);
    void onClosed(std::uint32_t number, boost::system::error_code ec);

    Session& session_;
    std::shared_ptr<net::WsConnection> ws_;
    std::shared_ptr<net::WsConnection> probe_;
    // Created when needed: most sessions never upgrade, and a timer is 120 bytes.
    std::unique_ptr<boost::asio::steady_timer> upgradeTimer_;
    std::uint32_t wsNumber_ = 0;    ///< of ws_; 0 while there is none
    std::uint32_t probeNumber_ = 0; ///< of probe_; 0 while there is none
    std::uint32_t lastNumber_ = 0;  ///< the last number given
};

} // namespace parley::engineio
