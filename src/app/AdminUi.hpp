#pragma once

#include "net/IoThreads.hpp"
#include "socketio/Observer.hpp"
#include "socketio/Server.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace parley::app {

struct AdminSettings {
    std::string username = "admin";
    std::string password;  ///< compared in constant time; never logged
    bool readonly = false; ///< no join, leave, emit or disconnect from the dashboard
    bool verbose = true;   ///< "development": sockets, rooms and events; otherwise server stats only
    bool cluster = false;  ///< other nodes' dashboards show this server's stats too
    /// event_received and event_sent told per second at most: a dashboard watching a busy server
    /// sees a sample, and the server does not spend a broadcast on every delivery.
    std::uint32_t eventsPerSecond = 1000;
    std::uint32_t failuresPerMinute = 10; ///< wrong passwords per address a minute; then refused unread
};

/// The server side of the socket.io admin UI (@socket.io/admin-ui): its `/admin` namespace,
/// behind a username and password, speaking the protocol of the package's `instrument()`.
/// - On connect: `session` (an id the page reconnects with instead of the password), `config`
///   (the features this server supports), in development mode `all_sockets` (this process's),
///   and `server_stats`, which every server of the cluster then sends every 2 s.
/// - In development mode, live: `socket_connected`, `socket_updated` (an upgrade),
///   `socket_disconnected`, `room_joined`, `room_left`, `event_received`, `event_sent`.
/// - Unless read-only, it obeys the page's `emit`, `join`, `leave` and `_disconnect`.
/// It watches the server (socketio::Observer) only while a dashboard is connected to this
/// process: otherwise the per-packet hooks are not called at all.
class AdminUi final : public socketio::Observer {
public:
    /// Adds the namespace to `io` (before serving) and becomes its observer.
    AdminUi(socketio::Server& io, net::IoThreads& threads, AdminSettings settings);
    ~AdminUi() override;
    AdminUi(const AdminUi&) = delete;
    AdminUi& operator=(const AdminUi&) = delete;

    /// Starts the stats timer (on io thread 0).
    void start();
    /// Stops it; from any thread.
    void stop();

    /// The namespace's name.
    static constexpr std::string_view kNamespace = "/admin";

    void connectionOpened() override;
    void connectionClosed(std::string_view reason) override;
    void packetReceived(std::size_t bytes) override;
    void packetSent(std::size_t bytes) override;
    void socketConnected(socketio::Socket& socket) override;
    void socketDisconnected(socketio::Socket& socket, std::string_view reason) override;
    void socketUpgraded(socketio::Socket& socket) override;
    void roomJoined(socketio::Socket& socket, const std::string& room) override;
    void roomLeft(socketio::Socket& socket, const std::string& room) override;
    void eventReceived(socketio::Socket& socket, const socketio::Event& event) override;
    void packetDelivered(socketio::Socket& socket, const socketio::EncodedPacket& packet) override;

private:
    void install();
    void authenticate(const std::shared_ptr<socketio::Socket>& socket, const socketio::Next& next);
    void onDashboard(const std::shared_ptr<socketio::Socket>& socket);
    void installCommands();
    void sendAllSockets(const std::shared_ptr<socketio::Socket>& dashboard);
    void tickStats();
    boost::json::object stats(bool takeEvents);
    boost::json::array takeAggregatedEvents();
    /// To the dashboards of this process.
    void tell(std::string_view event, const boost::json::array& args);
    /// Whether `socket` is one this observer reports on (not the dashboards themselves).
    bool observed(socketio::Socket& socket) const { return &socket.nsp() != &admin_; }
    bool takeEventBudget();

    std::string newSession();
    bool knownSession(std::string_view id);
    bool passwordMatches(std::string_view username, std::string_view password) const;

    socketio::Server& io_;
    net::IoThreads& threads_;
    socketio::Namespace& admin_;
    AdminSettings settings_;
    std::string serverId_;
    std::string hostname_;
    std::chrono::steady_clock::time_point started_;
    std::unique_ptr<boost::asio::steady_timer> statsTimer_; ///< io thread 0
    std::atomic<int> dashboards_{0};                        ///< dashboards connected to this process

    // What the aggregated events count between two stats.
    std::atomic<std::uint64_t> rawConnections_{0};
    std::atomic<std::uint64_t> packetsIn_{0};
    std::atomic<std::uint64_t> packetsOut_{0};
    std::atomic<std::uint64_t> bytesIn_{0};
    std::atomic<std::uint64_t> bytesOut_{0};
    std::atomic<std::int64_t> eventWindow_{0}; ///< the second eventsInWindow_ counts
    std::atomic<std::uint32_t> eventsInWindow_{0};

    mutable std::mutex mutex_;                                         // everything below
    std::map<std::string, std::uint64_t, std::less<>> disconnections_; ///< reason -> count since the last stats
    std::unordered_map<std::string, std::chrono::steady_clock::time_point> sessions_; ///< id -> expiry
    struct Failures {
        std::chrono::steady_clock::time_point since;
        std::uint32_t count = 0;
    };
    std::unordered_map<std::string, Failures> failures_; ///< by address
};

} // namespace parley::app
