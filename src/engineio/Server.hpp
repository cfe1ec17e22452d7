#pragma once

#include "engineio/Config.hpp"
#include "engineio/Errc.hpp"
#include "engineio/Forwarder.hpp"
#include "engineio/Handler.hpp"
#include "engineio/Metrics.hpp"
#include "engineio/Session.hpp"
#include "net/HttpConnection.hpp"
#include "net/IoThreads.hpp"

#include <deque>
#include <memory>
#include <string>
#include <unordered_map>

namespace parley::engineio {

/// One Engine.IO endpoint. Sessions are sharded by owner thread: the sid names its thread,
/// and a request that arrives on another thread is moved to the owner before it is handled.
class Server {
public:
    Server(Config config, Handler& handler, net::IoThreads& threads);

    const Config& config() const noexcept { return config_; }

    /// Handles a request whose path starts with config().path, on the connection's thread.
    void handle(const std::shared_ptr<net::HttpConnection>& conn, net::Request&& req);

    /// A request under config().path whose body was over the limit: its session (if any) ends.
    void onOversized(const net::Request& header);

    /// Closes every session with CloseReason::Shutdown (posted to each thread).
    void closeAll();

    /// Counts sessions into `metrics` (optional; set before serving).
    void setMetrics(Metrics* metrics) noexcept { metrics_ = metrics; }
    /// Rate-limits handshakes per address (optional; set before serving; must outlive us).
    void setPeerLimits(net::PeerLimits* peers) noexcept { peers_ = peers; }
    Metrics* metrics() const noexcept { return metrics_; }

    /// Cluster mode (set both before serving): every sid this server makes ends with `suffix`,
    /// which names this process, and a polling request for a sid that does not end with it goes
    /// to `forwarder` (which must outlive us). A WebSocket upgrade for such a sid is refused as
    /// an unknown session: the client keeps polling.
    void setSidSuffix(std::string suffix) { sidSuffix_ = std::move(suffix); }
    void setForwarder(Forwarder* forwarder) noexcept { forwarder_ = forwarder; }
    /// A polling request that another process forwarded to us, the sid's owner: served exactly as
    /// one that arrived here, answered through `responder`. Any thread.
    void handleForwarded(std::shared_ptr<net::Responder> responder, net::Request&& req);

    // --- For Session ---------------------------------------------------------------------------
    void remove(const std::string& sid);
    net::Response errorResponse(Errc e, net::Response&& templ) const;

private:
    struct Shard {
        std::unordered_map<std::string, std::shared_ptr<Session>> sessions;
    };

    void handshake(const std::shared_ptr<net::HttpConnection>& conn, net::Request&& req, const RequestInfo& info,
                   net::Response&& templ);
    net::Response responseTemplate(const net::Request& req) const;
    void preflight(const std::shared_ptr<net::HttpConnection>& conn, const net::Request& req);
    std::string newSid(std::size_t thread) const;
    /// Whether `sid` is one this process makes (always, outside cluster mode).
    bool ownsSid(const std::string& sid) const noexcept;
    void forward(const std::shared_ptr<net::HttpConnection>& conn, net::Request&& req, const RequestInfo& info);
    net::Response notHere(net::Response&& templ) const;
    /// A polling request on the sid's owner thread: to its session, or answered 400.
    void poll(const std::shared_ptr<net::Responder>& responder, const net::Request& req, const std::string& sid);
    std::size_t ownerOf(const std::string& sid) const;
    std::shared_ptr<const Handshake> makeHandshake(const net::Request& req,
                                                   const std::shared_ptr<net::HttpConnection>& conn,
                                                   const boost::asio::ip::address& client) const;
    /// False if corsOrigins is set and the request carries an Origin not in it.
    bool originAllowed(const net::Request& req) const;
    /// The client's address: the TCP peer, or whom a trusted proxy forwards for (PeerLimits).
    boost::asio::ip::address clientIp(const net::Request& req, const std::shared_ptr<net::HttpConnection>& conn) const;

    Config config_;
    Handler& handler_;
    net::IoThreads& threads_;
    std::deque<Shard> shards_; // shards_[i] is touched only by io thread i
    Metrics* metrics_ = nullptr;
    net::PeerLimits* peers_ = nullptr;
    std::string sidSuffix_;
    Forwarder* forwarder_ = nullptr;
    void counted(bool opened);
};

} // namespace parley::engineio
