#include "app/ClusterChatState.hpp"

#include "core/Time.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <future>

namespace parley::app {

void ClusterStateMetrics::registerWith(core::MetricsRegistry& registry) const {
    registry.addCounter("parley_cluster_rate_limit_fallbacks_total",
                        "Message sends rate limited by this node alone: Redis away or slower than its deadline.",
                        rateLimitFallbacks);
    registry.addCounter("parley_cluster_presence_fallbacks_total",
                        "Presence changes decided by this node alone while Redis was away.", presenceFallbacks);
}

// ---------------------------------------------------------------------------------------------
// Rate limit
// ---------------------------------------------------------------------------------------------

RedisSendLimit::RedisSendLimit(net::IoThreads& threads, std::shared_ptr<cluster::RedisRateLimit> redis,
                               std::size_t limit, std::int64_t windowMs, ClusterStateMetrics& metrics)
    : threads_(threads), redis_(std::move(redis)), local_(limit, windowMs), metrics_(metrics) {}

chat::Admission RedisSendLimit::alone(std::string_view userId, std::int64_t nowMs) {
    metrics_.rateLimitFallbacks.fetch_add(1, std::memory_order_relaxed);
    return *local_.tryAcquire(userId, nowMs);
}

std::optional<chat::Admission> RedisSendLimit::tryAcquire(std::string_view userId, std::int64_t nowMs) {
    if (!redis_->available()) return alone(userId, nowMs);
    return std::nullopt;
}

void RedisSendLimit::acquire(boost::asio::io_context& ctx, std::string_view userId, std::int64_t nowMs, Done done) {
    threads_.postTo(0, [this, &ctx, user = std::string(userId), nowMs, done = std::move(done)]() mutable {
        redis_->acquire(user, [this, &ctx, user, nowMs,
                               done = std::move(done)](boost::system::result<cluster::RedisRateLimit::Answer> r) {
            const chat::Admission a = r ? chat::Admission{r->admitted, r->retryAfterMs, r->ticket} : alone(user, nowMs);
            boost::asio::post(ctx, [a, done] { done(a); });
        });
    });
}

void RedisSendLimit::refund(std::string_view userId, const chat::Admission& admission) {
    if (admission.ticket == 0) return local_.refund(userId, admission);
    threads_.postTo(0, [this, user = std::string(userId), ticket = admission.ticket] { redis_->refund(user, ticket); });
}

// ---------------------------------------------------------------------------------------------
// Presence
// ---------------------------------------------------------------------------------------------

RedisPresenceState::RedisPresenceState(std::shared_ptr<cluster::RedisPresence> redis, std::int64_t windowMs,
                                       ClusterStateMetrics& metrics)
    : redis_(std::move(redis)), local_(windowMs), metrics_(metrics) {
    redis_->onDecision(
        [this](const std::string& userId, const cluster::RedisPresence::Decision& d) { fromRedis(userId, d); });
}

bool RedisPresenceState::alone(std::int64_t nowMs) {
    const bool away = !redis_->available();
    // Taking over: what the contacts were last told is taken to be the state now.
    if (away && !alone_) local_.assumeTold(nowMs);
    alone_ = away;
    return away;
}

void RedisPresenceState::connect(const std::string& userId, std::int64_t nowMs) { change(userId, +1, nowMs); }
void RedisPresenceState::disconnect(const std::string& userId, std::int64_t nowMs) { change(userId, -1, nowMs); }

void RedisPresenceState::change(const std::string& userId, int delta, std::int64_t nowMs) {
    const bool away = alone(nowMs);
    const auto d = delta > 0 ? local_.connect(userId, nowMs) : local_.disconnect(userId, nowMs);
    if (redis_->change(userId, delta) || !away) return;
    metrics_.presenceFallbacks.fetch_add(1, std::memory_order_relaxed);
    if ((d.broadcastNow || d.checkAtMs) && handler_) handler_(userId, d);
}

void RedisPresenceState::onTimer(const std::string& userId, std::int64_t nowMs) {
    if (redisChecks_.erase(userId) > 0 && redis_->timer(userId)) return;
    const auto d = local_.onTimer(userId, nowMs);
    if (alone(nowMs) && (d.broadcastNow || d.checkAtMs) && handler_) handler_(userId, d);
}

void RedisPresenceState::fromRedis(const std::string& userId, const cluster::RedisPresence::Decision& d) {
    if (!handler_) return;
    Decision out;
    if (d.check) {
        redisChecks_.insert(userId);
        out.checkAtMs = core::nowMs() + d.checkInMs;
    } else {
        out.broadcastNow = d.online ? chat::Presence::Online : chat::Presence::Offline;
    }
    handler_(userId, out);
}

// Redis away or silent: this node's own sockets are all it knows, and when it was told is
// unknown (atMs 0: any update wins over it).
void RedisPresenceState::toldOf(const std::vector<std::string_view>& userIds, ToldDone done) {
    auto alone = [this](const auto& ids, const ToldDone& answer) {
        std::vector<chat::ToldPresence> told;
        told.reserve(ids.size());
        for (const auto& id : ids) told.push_back({local_.isOnline(id), 0});
        answer(std::move(told));
    };
    if (!redis_->available()) return alone(userIds, done);
    std::vector<std::string> ids(userIds.begin(), userIds.end()); // kept for the fallback
    redis_->toldOf(ids, [alone, ids, done](boost::system::result<std::vector<cluster::RedisPresence::Told>> r) {
        if (!r) return alone(ids, done);
        std::vector<chat::ToldPresence> told;
        told.reserve(r->size());
        for (const auto& t : *r) told.push_back({t.online, t.atMs});
        done(std::move(told));
    });
}

void RedisPresenceState::prune(std::int64_t nowMs) {
    // While Redis decides, the local tracker only counts: its throttle state is void.
    if (!alone(nowMs)) local_.assumeTold(nowMs);
    local_.prune(nowMs);
}

// ---------------------------------------------------------------------------------------------
// The node's chat state on Redis
// ---------------------------------------------------------------------------------------------

ClusterChatState::ClusterChatState(net::IoThreads& threads, const cluster::RedisAddress& address,
                                   const std::string& nodeUid, const chat::ChatConfig& config,
                                   core::MetricsRegistry& registry)
    : threads_(threads) {
    metrics_.registerWith(registry);
    auto& home = threads.context(0);
    cluster::RedisOptions options;
    options.address = address;
    options.name = "parley-state-" + nodeUid;
    redis_ = cluster::RedisConnection::create(home, options);
    rateLimit_ =
        cluster::RedisRateLimit::create(home, redis_, nodeUid, {config.messagesPerWindow, config.rateWindowMs});
    cluster::RedisPresence::Options presence;
    presence.windowMs = config.presenceWindowMs;
    presence_ = cluster::RedisPresence::create(home, redis_, nodeUid, presence);
    limit_ =
        std::make_unique<RedisSendLimit>(threads, rateLimit_, config.messagesPerWindow, config.rateWindowMs, metrics_);
    presenceState_ = std::make_unique<RedisPresenceState>(presence_, config.presenceWindowMs, metrics_);
    redis_->onState([rate = rateLimit_, presence = presence_](bool up) {
        spdlog::info("chat state on redis: {}", up ? "connected" : "disconnected");
        rate->onState(up);
        presence->onState(up);
    });
    // Everything above runs on io thread 0 from now on.
    threads.postTo(0, [redis = redis_, presence = presence_] {
        redis->start();
        presence->start();
    });
}

void ClusterChatState::stop() {
    auto done = std::make_shared<std::promise<void>>();
    threads_.postTo(0, [this, redis = redis_, rate = rateLimit_, presence = presence_, done] {
        presence->close();
        rate->close();
        redis->close();
        // close() lets go of its handlers (which hold the rate limit and presence, which hold the
        // connection) on a later turn of this thread: wait for that turn too.
        threads_.postTo(0, [done] { done->set_value(); });
    });
    done->get_future().wait_for(std::chrono::seconds(2));
}

ClusterChatState::~ClusterChatState() {
    // The io threads may be stopped already: then nothing runs any more and closing is moot.
    auto close = [redis = redis_, rate = rateLimit_, presence = presence_] {
        presence->close();
        rate->close();
        redis->close();
    };
    threads_.postTo(0, close);
}

} // namespace parley::app
