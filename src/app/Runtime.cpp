#include "app/Runtime.hpp"

#include "chat/ErrorReply.hpp"
#include "cluster/LocalAdapter.hpp"
#include "cluster/PollingForwarder.hpp"
#include "cluster/RedisAdapter.hpp"
#include "core/Log.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <sodium.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <functional>
#include <future>
#include <stdexcept>
#include <thread>

namespace parley::app {

void initLogging(const std::string& level, const std::string& format) {
    const auto lvl = spdlog::level::from_str(level);
    if (lvl == spdlog::level::off && level != "off") throw std::invalid_argument("--log-level: unknown level " + level);
    auto logger = spdlog::stdout_logger_mt("parley");
    spdlog::set_default_logger(logger);
    if (format == "json")
        spdlog::set_formatter(std::make_unique<core::JsonLogFormatter>());
    else
        spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
    spdlog::set_level(lvl);
    // Lines reach a pipe (tests, systemd) as they happen.
    spdlog::flush_on(spdlog::level::trace);
}

namespace {
net::PeerLimitsConfig peerLimitsOf(const Config& config) {
    net::PeerLimitsConfig peers{config.maxConnectionsPerIp, config.handshakesPerSecond, config.handshakeBurst, {}};
    for (const auto& cidr : config.trustedProxies) {
        auto parsed = net::Cidr::parse(cidr);
        if (!parsed) throw std::invalid_argument("--trusted-proxy: not an address or CIDR: '" + cidr + "'");
        peers.trustedProxies.push_back(*parsed);
    }
    return peers;
}
} // namespace

Runtime::Runtime(Config config)
    : config_(std::move(config)), peers_(std::make_unique<net::PeerLimits>(peerLimitsOf(config_))),
      threads_(config_.effectiveThreads()) {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    netMetrics_.registerWith(metrics_);
    engineioMetrics_.registerWith(metrics_);
    socketioMetrics_.registerWith(metrics_);
    socketio::Config sio;
    sio.connectTimeout = config_.connectTimeout;
    sio.decode.maxAttachments = config_.maxAttachments;
    sio.decode.maxJsonDepth = config_.maxJsonDepth;
    sio.decode.maxEventNameBytes = config_.maxEventNameBytes;
    sio.maxAttachmentBytes = config_.maxPayload;
    sio.maxNamespacesPerConnection = config_.maxNamespaces;
    sio.maxRoomsPerSocket = config_.maxRoomsPerSocket;
    sio.maxPendingAcks = config_.maxPendingAcks;
    if (!config_.redis.empty()) {
        auto address = cluster::RedisAddress::parse(config_.redis);
        if (!address)
            throw std::invalid_argument("--redis: expected redis://host:port[/db], got '" + config_.redis + "'");
        bus_ = std::make_unique<cluster::RedisBus>(threads_, cluster::RedisBusOptions{*address}, clusterMetrics_);
        clusterMetrics_.registerWith(metrics_);
    }
    io_ = std::make_unique<socketio::Server>(
        threads_, sio,
        [bus = bus_.get()](const std::string& nsp, net::IoThreads& threads) -> std::unique_ptr<socketio::Adapter> {
            if (bus) return std::make_unique<cluster::RedisAdapter>(*bus, threads, nsp);
            return std::make_unique<cluster::LocalAdapter>(threads, nsp);
        });
    answerPing();
    io_->setMetrics(&socketioMetrics_);
    engines_.emplace_back(engineConfig("/socket.io/"), *io_, threads_);
    engines_.back().setMetrics(&engineioMetrics_);
    engines_.back().setPeerLimits(peers_.get());
    router_.mount(engines_.back());
    if (bus_) {
        // A held GET is answered within the ping interval; one unanswered for longer than a
        // session may live without a pong is lost.
        const auto timeout = config_.pingInterval + config_.pingTimeout + std::chrono::seconds(5);
        forwarder_ = std::make_unique<cluster::PollingForwarder>(*bus_, engines_.back(), timeout);
        forwarder_->start();
    }
    router_.setCorsOrigins(config_.corsOrigins);
    router_.add(boost::beast::http::verb::get, "/metrics",
                [this](const std::shared_ptr<net::HttpConnection>& conn, net::Request&& req, http::PathParams&&) {
                    net::Response res{boost::beast::http::status::ok, req.version()};
                    res.set(boost::beast::http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
                    res.body() = metrics_.render();
                    conn->respond(std::move(res));
                });
}

// Another server of the cluster (Parley or Node) asks who is there: serverSideEmit("parley:ping",
// ..., ack) gets {server: "parley", sockets: <sockets connected to this process>}.
void Runtime::answerPing() {
    io_->of("/").onServerSide("parley:ping", [this](std::span<const boost::json::value>,
                                                    socketio::ServerSideReply reply) {
        if (reply)
            reply(boost::json::object{{"server", "parley"},
                                      {"sockets", socketioMetrics_.socketsConnected.load(std::memory_order_relaxed)}});
    });
}

Runtime::~Runtime() {
    threads_.stop();
    threads_.join();
}

engineio::Config Runtime::engineConfig(std::string path) const {
    engineio::Config c;
    c.path = std::move(path);
    c.pingInterval = config_.pingInterval;
    c.pingTimeout = config_.pingTimeout;
    c.maxPayload = config_.maxPayload;
    c.maxOutboundBytes = config_.maxOutboundBytes;
    c.volatileBacklogBytes = config_.volatileBacklogBytes;
    c.corsOrigins = config_.corsOrigins;
    return c;
}

engineio::Server& Runtime::mountEngine(engineio::Config config, engineio::Handler& handler) {
    engines_.emplace_back(std::move(config), handler, threads_);
    engines_.back().setMetrics(&engineioMetrics_);
    engines_.back().setPeerLimits(peers_.get());
    router_.mount(engines_.back());
    return engines_.back();
}

// Every connection is a descriptor, and the usual soft limit (1024) would refuse the
// 1025th client: take the hard limit the system grants, as Node does.
static void raiseDescriptorLimit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
    const auto soft = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) == 0)
        spdlog::debug("descriptor limit raised from {} to {}", soft, limit.rlim_max);
}

int Runtime::run() {
    net::HttpLimits limits;
    limits.bodyLimit = config_.maxPayload;
    limits.requestTimeout = config_.requestTimeout;
    limits.headerLimit = config_.maxHeaderBytes;
    limits.accessLog = config_.accessLog;
    listener_ = std::make_shared<net::Listener>(threads_, router_, limits, peers_.get(), &netMetrics_);
    const boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address(config_.host), config_.effectivePort());
    const unsigned short port = listener_->listen(endpoint);

    // A write fault must come back as an error code, never as a signal that kills the process:
    // a peer gone mid-write (SIGPIPE), a file grown past RLIMIT_FSIZE (SIGXFSZ).
    std::signal(SIGPIPE, SIG_IGN);
    std::signal(SIGXFSZ, SIG_IGN);
    raiseDescriptorLimit();

    // The first signal starts the drain; a second one (an impatient operator) cuts it short.
    std::promise<int> stopped;
    boost::asio::signal_set signals(threads_.context(0), SIGINT, SIGTERM);
    std::function<void(boost::system::error_code, int)> onSignal = [&](boost::system::error_code ec, int signo) {
        if (ec) return;
        if (signalled_++ == 0)
            stopped.set_value(signo);
        else
            hurry_.store(true);
        signals.async_wait(onSignal);
    };
    signals.async_wait(onSignal);

    // The count of refusals kept out of the log is written once a second, also after a burst ends.
    boost::asio::steady_timer refusalSummary(threads_.context(0));
    std::function<void()> everySecond = [&] {
        refusalSummary.expires_after(std::chrono::seconds(1));
        refusalSummary.async_wait([&](boost::system::error_code ec) {
            if (ec) return;
            chat::flushRefusalLog();
            everySecond();
        });
    };
    everySecond();

    listener_->start();
    if (bus_) bus_->start();
    threads_.start();
    spdlog::info("listening on {}:{} ({} io threads{})", config_.host, port, threads_.size(),
                 config_.conformance ? ", conformance profile" : "");
    // Scripts learn the port (--port 0) from this line: it is printed whatever the log level.
    if (!spdlog::should_log(spdlog::level::info)) {
        std::printf("listening on %s:%u\n", config_.host.c_str(), static_cast<unsigned>(port));
        std::fflush(stdout);
    }
    for (auto& hook : listeningHooks_) hook(port);

    drain(stopped.get_future().get());
    for (auto& hook : stopHooks_) hook();
    if (forwarder_) forwarder_->stop();
    if (bus_) bus_->stop();
    threads_.stop();
    threads_.join();
    spdlog::info("stopped");
    return 0;
}

bool Runtime::waitUntil(std::chrono::steady_clock::time_point deadline, const std::function<bool()>& done) const {
    // The main thread has nothing else to do: a short poll keeps the io threads free of it.
    for (;;) {
        if (done()) return true;
        if (hurry_.load() || std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

bool Runtime::waitFor(std::chrono::steady_clock::time_point deadline,
                      const std::function<void(std::function<void()>)>& step) const {
    // Shared: a step that finishes after the deadline must find something to tell.
    auto finished = std::make_shared<std::atomic<bool>>(false);
    step([finished] { finished->store(true); });
    return waitUntil(deadline, [&finished] { return finished->load(); });
}

// Every client is told to reconnect by its transport closing (a WebSocket close frame, a
// polling close packet): socket.io-client's Manager reconnects after "transport close",
// never after a Socket.IO DISCONNECT ("io server disconnect"), which the drain does not send.
// The clients come back 0.5-1.5 s later (the client's own randomised first delay), which
// spreads their arrival on the other nodes by itself.
void Runtime::drain(int signo) {
    using Clock = std::chrono::steady_clock;
    const auto started = Clock::now();
    const auto deadline = started + config_.drainTimeout;
    spdlog::info("signal {}: draining (at most {} s)", signo, config_.drainTimeout.count());
    listener_->stop();
    for (auto& steps : drainSteps_)
        if (steps.begin) steps.begin();
    const auto busy = [this] {
        return std::any_of(drainSteps_.begin(), drainSteps_.end(),
                           [](const DrainSteps& steps) { return steps.busy && steps.busy(); });
    };
    bool clean = waitUntil(deadline, [&] { return !busy(); });
    const auto sessions = engineioMetrics_.sessionsOpen.load();
    for (auto& engine : engines_) engine.closeAll();
    // A WebSocket closes at once; a polling session's close packet waits for the client's next
    // GET, and a client that does not poll again learns it from its next request failing. What
    // was taken is settled already: a second is enough to let the close packets go out.
    const auto closed = std::min(deadline, Clock::now() + std::chrono::seconds(1));
    waitUntil(closed, [this] { return engineioMetrics_.sessionsOpen.load() <= 0; });
    // The close frames and last polling answers were queued by now; give them a moment to leave.
    waitUntil(std::min(deadline, Clock::now() + std::chrono::milliseconds(100)), [] { return false; });
    // Closing wrote too (recovery records marked disconnected): the store finishes everything,
    // then every answer it caused has gone out.
    for (auto& steps : drainSteps_)
        if (steps.settle) clean = waitFor(deadline, steps.settle) && clean;
    clean = waitUntil(deadline, [&] { return !busy(); }) && clean;
    if (bus_) clean = waitFor(deadline, [this](std::function<void()> done) { bus_->flush(std::move(done)); }) && clean;
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    if (clean)
        spdlog::info("drained in {} ms ({} sessions closed)", took, sessions);
    else
        spdlog::warn("drain cut short after {} ms ({}): {} sessions were open", took,
                     hurry_.load() ? "second signal" : "--drain-timeout", sessions);
}

} // namespace parley::app
