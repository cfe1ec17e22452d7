#pragma once

#include "app/Config.hpp"
#include "cluster/Metrics.hpp"
#include "cluster/PollingForwarder.hpp"
#include "cluster/RedisBus.hpp"
#include "core/Metrics.hpp"
#include "engineio/Metrics.hpp"
#include "engineio/Server.hpp"
#include "http/Router.hpp"
#include "net/IoThreads.hpp"
#include "net/Listener.hpp"
#include "net/Metrics.hpp"
#include "net/PeerLimits.hpp"
#include "socketio/Metrics.hpp"
#include "socketio/Server.hpp"

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

namespace parley::app {

/// Wires the layers of one process: io threads, the HTTP router, the Socket.IO server on
/// /socket.io/, any extra Engine.IO endpoints, the listener and signal handling.
class Runtime {
public:
    explicit Runtime(Config config);
    ~Runtime();

    const Config& config() const noexcept { return config_; }
    net::IoThreads& threads() noexcept { return threads_; }
    socketio::Server& io() noexcept { return *io_; }
    http::Router& router() noexcept { return router_; }
    /// What GET /metrics shows: the figures of net, engineio and socketio are registered by the
    /// constructor; an upper layer registers its own before run() (and keeps them alive until
    /// run() has returned).
    core::MetricsRegistry& metrics() noexcept { return metrics_; }
    const net::PeerLimits& peerLimits() const noexcept { return *peers_; }
    /// The cluster bus, or nullptr for a single process.
    cluster::RedisBus* bus() noexcept { return bus_.get(); }

    /// The Engine.IO settings of this configuration for an endpoint at `path`.
    engineio::Config engineConfig(std::string path) const;
    /// Adds a bare Engine.IO endpoint (e.g. the conformance echo on /engine.io/).
    engineio::Server& mountEngine(engineio::Config config, engineio::Handler& handler);

    /// Runs `hook` at shutdown, after the last answers went out and while the io threads still
    /// run (e.g. to close connections of an upper layer on their own thread). In order of adding.
    void onStop(std::function<void()> hook) { stopHooks_.push_back(std::move(hook)); }

    /// Runs `hook` with the port listened on, once run() has logged "listening on" (e.g. to say
    /// where a client is served). In order of adding.
    void onListening(std::function<void(unsigned short port)> hook) { listeningHooks_.push_back(std::move(hook)); }

    /// What an upper layer does in a drain (run()). Every member is optional and runs on the
    /// thread that called run(), which the io threads must not wait for.
    struct DrainSteps {
        /// Stop taking work that the drain could cut midway (new writes).
        std::function<void()> begin;
        /// True while work taken is unanswered (its write, broadcast or answer is to come).
        std::function<bool()> busy;
        /// Calls `done` (any thread) once the store has finished every write it took.
        std::function<void(std::function<void()> done)> settle;
    };
    void onDrain(DrainSteps steps) { drainSteps_.push_back(std::move(steps)); }

    /// Listens, logs "listening on HOST:PORT", serves until SIGINT/SIGTERM, then drains (see
    /// drain()) within --drain-timeout and stops. Returns the process exit code, 0 after a
    /// drain, also one cut short by its deadline or a second signal. Throws if the address
    /// cannot be bound.
    int run();

private:
    void answerPing();
    // Stops accepting, lets the upper layers finish what they took, closes every session so
    // that its client reconnects (elsewhere, through the balancer) and recovers, waits for the
    // store's writes and the bus's publishes; each wait ends at the deadline or a second signal.
    void drain(int signo);
    // Polls `done` until it holds (true) or the drain must end (false).
    bool waitUntil(std::chrono::steady_clock::time_point deadline, const std::function<bool()>& done) const;
    // Starts `step(finished)` and waits for `finished` as waitUntil does.
    bool waitFor(std::chrono::steady_clock::time_point deadline,
                 const std::function<void(std::function<void()>)>& step) const;

    Config config_;
    // The layers' figures, before everything that counts into them.
    net::Metrics netMetrics_;
    engineio::Metrics engineioMetrics_;
    socketio::Metrics socketioMetrics_;
    cluster::Metrics clusterMetrics_;
    core::MetricsRegistry metrics_;
    // Before the threads: connections still queued in their contexts give their slot back here.
    std::unique_ptr<net::PeerLimits> peers_;
    net::IoThreads threads_;
    std::unique_ptr<cluster::RedisBus> bus_; ///< set with --redis: this process is a cluster node
    std::unique_ptr<socketio::Server> io_;
    std::deque<engineio::Server> engines_;
    /// With the bus: polling requests for other nodes' sessions go to them (no sticky sessions).
    std::unique_ptr<cluster::PollingForwarder> forwarder_;
    http::Router router_;
    std::shared_ptr<net::Listener> listener_;
    std::vector<std::function<void()>> stopHooks_;
    std::vector<std::function<void(unsigned short)>> listeningHooks_;
    std::vector<DrainSteps> drainSteps_;
    int signalled_ = 0;              // signals received (io thread 0 only)
    std::atomic<bool> hurry_{false}; // a second signal: the drain ends at once
};

/// Sets up spdlog with `level` (throws std::invalid_argument on an unknown level).
void initLogging(const std::string& level, const std::string& format = "text");

} // namespace parley::app
