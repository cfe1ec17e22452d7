#pragma once

#include "cluster/Metrics.hpp"
#include "cluster/Redis.hpp"
#include "net/IoThreads.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::cluster {

class RedisAdapter;

struct RedisBusOptions {
    RedisAddress address;
    std::string key = "socket.io";                  ///< channel prefix, as @socket.io/redis-adapter's `key` option
    std::size_t maxMessageBytes = 16 * 1024 * 1024; ///< bus messages larger than this are dropped
};

/// This process's link to the cluster: a publishing and a subscribed Redis connection, both on
/// io thread 0, the node's uid, and the adapters of its namespaces, to which it routes what
/// arrives. Publishing may be called from any thread. Messages that cannot be understood are
/// counted, logged (at most every few seconds) and dropped.
class RedisBus {
public:
    RedisBus(net::IoThreads& threads, RedisBusOptions options, Metrics& metrics);
    ~RedisBus();
    RedisBus(const RedisBus&) = delete;
    RedisBus& operator=(const RedisBus&) = delete;

    /// Connects (in the background; reconnects by itself). Call before the io threads run.
    void start();
    /// Closes both connections; safe to call more than once. Call before the io threads stop.
    void stop();
    /// Runs `done` on the home thread once Redis has answered every publish made before the
    /// call (one PING behind them on the same connection), or at once while it is away: a
    /// draining process waits for it before stop(), which would drop what is still unsent.
    void flush(std::function<void()> done);

    const std::string& uid() const noexcept { return uid_; }
    const RedisBusOptions& options() const noexcept { return options_; }
    net::IoThreads& threads() noexcept { return threads_; }
    Metrics& metrics() noexcept { return metrics_; }
    /// The io thread that runs the connections and handles every bus message.
    static constexpr std::size_t kHome = 0;
    /// Both connections are up (for /readyz). Any thread.
    bool connected() const noexcept { return pubUp_.load() && subUp_.load(); }

    /// Registers the adapter of a namespace and subscribes to its channels. On the thread that
    /// makes namespaces (before serving, or on an io thread).
    void attach(RedisAdapter& adapter);
    /// PUBLISH from any thread; dropped (and counted) while Redis is away. `done`, if given,
    /// gets the number of subscribers that received it (-1: not published), on the home thread.
    void publish(std::string channel, std::string payload, std::function<void(long long receivers)> done = {});
    /// Subscribes to `channel` and hands what arrives on it to `handler`, on the home thread.
    /// Before start().
    void serveChannel(std::string channel, std::function<void(std::string_view payload)> handler);
    /// Counts and (rate-limited) logs a bus message that was dropped.
    void dropped(std::string_view channel, std::string_view why, std::size_t bytes);

private:
    void onMessage(std::string_view channel, std::string_view payload);

    net::IoThreads& threads_;
    RedisBusOptions options_;
    Metrics& metrics_;
    std::string uid_;
    std::shared_ptr<RedisConnection> pub_, sub_;
    std::vector<RedisAdapter*> adapters_;
    std::vector<std::pair<std::string, std::function<void(std::string_view)>>> served_;
    std::atomic<bool> pubUp_{false}, subUp_{false};
    bool started_ = false;
    std::chrono::steady_clock::time_point lastDropLog_{};
};

} // namespace parley::cluster
