#pragma once

#include "chat/ChatService.hpp"
#include "chat/SharedState.hpp"
#include "cluster/Redis.hpp"
#include "cluster/RedisPresence.hpp"
#include "cluster/RedisRateLimit.hpp"
#include "core/Metrics.hpp"
#include "net/IoThreads.hpp"

#include <atomic>
#include <memory>
#include <string>
#include <unordered_set>

namespace parley::app {

/// What the cluster's chat state counts for /metrics.
struct ClusterStateMetrics {
    std::atomic<std::uint64_t> rateLimitFallbacks{0}; ///< sends limited by this node alone (Redis away or slow)
    std::atomic<std::uint64_t> presenceFallbacks{0};  ///< presence changes decided by this node alone (Redis away)
    void registerWith(core::MetricsRegistry& registry) const;
};

/// chat::SendLimit on Redis (cluster::RedisRateLimit), with this node's in-memory limiter for
/// the sends Redis cannot answer in time: a user is never refused because Redis is down.
class RedisSendLimit final : public chat::SendLimit {
public:
    RedisSendLimit(net::IoThreads& threads, std::shared_ptr<cluster::RedisRateLimit> redis, std::size_t limit,
                   std::int64_t windowMs, ClusterStateMetrics& metrics);

    std::optional<chat::Admission> tryAcquire(std::string_view userId, std::int64_t nowMs) override;
    void acquire(boost::asio::io_context& ctx, std::string_view userId, std::int64_t nowMs, Done done) override;
    void refund(std::string_view userId, const chat::Admission& admission) override;
    void prune(std::int64_t nowMs) override { local_.prune(nowMs); }

private:
    chat::Admission alone(std::string_view userId, std::int64_t nowMs);

    net::IoThreads& threads_;
    std::shared_ptr<cluster::RedisRateLimit> redis_; // io thread 0
    chat::LocalSendLimit local_;
    ClusterStateMetrics& metrics_;
};

/// chat::PresenceState on Redis (cluster::RedisPresence). While Redis is away this node decides
/// alone with a PresenceTracker of its own sockets, taking the state its contacts were last told
/// to be the current one at the moment it takes over. Io thread 0 only.
class RedisPresenceState final : public chat::PresenceState {
public:
    RedisPresenceState(std::shared_ptr<cluster::RedisPresence> redis, std::int64_t windowMs,
                       ClusterStateMetrics& metrics);

    void onDecision(DecisionHandler handler) override { handler_ = std::move(handler); }
    void connect(const std::string& userId, std::int64_t nowMs) override;
    void disconnect(const std::string& userId, std::int64_t nowMs) override;
    void onTimer(const std::string& userId, std::int64_t nowMs) override;
    void prune(std::int64_t nowMs) override;
    void toldOf(const std::vector<std::string_view>& userIds, ToldDone done) override;

private:
    void change(const std::string& userId, int delta, std::int64_t nowMs);
    void fromRedis(const std::string& userId, const cluster::RedisPresence::Decision& d);
    bool alone(std::int64_t nowMs);

    std::shared_ptr<cluster::RedisPresence> redis_;
    chat::PresenceTracker local_; // every change is fed to it; its decisions count only while alone_
    bool alone_ = false;
    std::unordered_set<std::string> redisChecks_; // users whose pending check Redis asked for
    DecisionHandler handler_;
    ClusterStateMetrics& metrics_;
};

/// The chat state of a node of a cluster: a Redis connection of its own on io thread 0 (so that
/// the rate limit's answers never wait behind the adapter's publishes, and the connection's
/// resets never touch the adapter's), the rate limit and presence on it.
class ClusterChatState {
public:
    ClusterChatState(net::IoThreads& threads, const cluster::RedisAddress& address, const std::string& nodeUid,
                     const chat::ChatConfig& config, core::MetricsRegistry& registry);
    ~ClusterChatState();

    /// Closes the Redis connection and its users on io thread 0, and waits (at most 2 s) until
    /// they have let go of each other. Call it while the io threads still run (Runtime::onStop).
    void stop();

    chat::SharedChatState shared() noexcept { return {limit_.get(), presenceState_.get()}; }

private:
    net::IoThreads& threads_;
    ClusterStateMetrics metrics_;
    std::shared_ptr<cluster::RedisConnection> redis_;
    std::shared_ptr<cluster::RedisRateLimit> rateLimit_;
    std::shared_ptr<cluster::RedisPresence> presence_;
    std::unique_ptr<RedisSendLimit> limit_;
    std::unique_ptr<RedisPresenceState> presenceState_;
};

} // namespace parley::app
