#include "cluster/RedisBus.hpp"

#include "cluster/RedisAdapter.hpp"
#include "core/Assert.hpp"
#include "core/Uuid.hpp"

#include <spdlog/spdlog.h>

#include <future>

namespace parley::cluster {

namespace {
constexpr auto kDropLogInterval = std::chrono::seconds(5);

RedisOptions connectionOptions(const RedisBusOptions& bus, std::string name, RedisMetrics& metrics) {
    RedisOptions o;
    o.address = bus.address;
    o.name = std::move(name);
    o.metrics = &metrics;
    return o;
}
} // namespace

// Six characters as @socket.io/redis-adapter's own uids: Node nodes only compare them.
RedisBus::RedisBus(net::IoThreads& threads, RedisBusOptions options, Metrics& metrics)
    : threads_(threads), options_(std::move(options)), metrics_(metrics), uid_(core::randomAlnum(6)) {
    auto& home = threads_.context(kHome);
    pub_ = RedisConnection::create(home, connectionOptions(options_, "parley-pub-" + uid_, metrics_.redis));
    sub_ = RedisConnection::create(home, connectionOptions(options_, "parley-sub-" + uid_, metrics_.redis));
}

RedisBus::~RedisBus() = default;

void RedisBus::start() {
    started_ = true;
    auto state = [this](std::atomic<bool>& flag, const char* which) {
        return [this, &flag, which](bool up) {
            flag.store(up);
            metrics_.connected.store(connected() ? 1 : 0, std::memory_order_relaxed);
            if (up)
                spdlog::info("cluster: redis {} connection up ({})", which, options_.address.describe());
            else
                spdlog::warn("cluster: redis {} connection lost; reconnecting", which);
        };
    };
    threads_.postTo(kHome, [this, state] {
        pub_->onState(state(pubUp_, "publish"));
        sub_->onState(state(subUp_, "subscribe"));
        sub_->onMessage([this](std::string_view channel, std::string_view payload) { onMessage(channel, payload); });
        std::vector<std::string> patterns, channels;
        for (RedisAdapter* a : adapters_) {
            patterns.push_back(a->broadcastPrefix() + "*");
            channels.push_back(a->requestChannel());
            channels.push_back(a->responseChannel());
            channels.push_back(a->ownResponseChannel());
        }
        for (const auto& [channel, handler] : served_) channels.push_back(channel);
        sub_->psubscribe(std::move(patterns));
        sub_->subscribe(std::move(channels));
        pub_->start();
        sub_->start();
    });
}

void RedisBus::stop() {
    // Waits (briefly: the io threads may already be gone) for both connections to be closed on
    // their own thread, so that nothing of theirs runs after the bus is destroyed.
    auto closed = std::make_shared<std::promise<void>>();
    threads_.postTo(kHome, [pub = pub_, sub = sub_, closed] {
        pub->close();
        sub->close();
        closed->set_value();
    });
    closed->get_future().wait_for(std::chrono::seconds(2));
}

void RedisBus::flush(std::function<void()> done) {
    threads_.postTo(kHome, [this, done = std::move(done)]() mutable {
        if (!pub_->connected()) return done();
        pub_->command({"PING"}, [done = std::move(done)](const boost::system::result<RedisReply>&) { done(); });
    });
}

void RedisBus::attach(RedisAdapter& adapter) {
    adapters_.push_back(&adapter);
    if (!started_) return; // start() subscribes to every adapter's channels
    threads_.postTo(kHome, [this, a = &adapter] {
        sub_->psubscribe({a->broadcastPrefix() + "*"});
        sub_->subscribe({a->requestChannel(), a->responseChannel(), a->ownResponseChannel()});
    });
}

void RedisBus::serveChannel(std::string channel, std::function<void(std::string_view)> handler) {
    PARLEY_ASSERT(!started_, "RedisBus::serveChannel after start()");
    served_.emplace_back(std::move(channel), std::move(handler));
}

void RedisBus::publish(std::string channel, std::string payload, std::function<void(long long)> done) {
    auto send = [this, channel = std::move(channel), payload = std::move(payload), done = std::move(done)]() mutable {
        if (!pub_->connected()) {
            metrics_.publishFailed.fetch_add(1, std::memory_order_relaxed);
            if (done) done(-1);
            return;
        }
        pub_->publish(channel, payload, [this, done = std::move(done)](boost::system::result<RedisReply> reply) {
            const bool failed = !reply || reply->type == RedisReply::Type::Error;
            if (failed) metrics_.publishFailed.fetch_add(1, std::memory_order_relaxed);
            if (done) done(failed || reply->type != RedisReply::Type::Integer ? -1 : reply->integer);
        });
        metrics_.published.fetch_add(1, std::memory_order_relaxed);
    };
    if (net::IoThreads::ownIndex(threads_) == kHome) return send();
    threads_.postTo(kHome, std::move(send));
}

void RedisBus::onMessage(std::string_view channel, std::string_view payload) {
    if (payload.size() > options_.maxMessageBytes) return dropped(channel, "too large", payload.size());
    for (const auto& [served, handler] : served_)
        if (channel == served) return handler(payload);
    // The longest prefix wins: namespace "/a" must not take "/ab"'s messages (their channels
    // differ already at the '#' after the name, so at most one adapter matches each kind).
    for (RedisAdapter* a : adapters_) {
        if (channel.starts_with(a->broadcastPrefix())) return a->onBroadcast(channel, payload);
        if (channel == a->requestChannel()) return a->onRequest(channel, payload);
        // Responses answer requests; this node makes none that wait for answers yet.
        if (channel == a->responseChannel() || channel == a->ownResponseChannel()) return;
    }
}

void RedisBus::dropped(std::string_view channel, std::string_view why, std::size_t bytes) {
    const auto total = metrics_.dropped.fetch_add(1, std::memory_order_relaxed) + 1;
    const auto now = std::chrono::steady_clock::now();
    if (now - lastDropLog_ < kDropLogInterval) return;
    lastDropLog_ = now;
    spdlog::warn("cluster: dropped a bus message on '{}' ({} bytes): {}; {} dropped so far", channel, bytes, why,
                 total);
}

} // namespace parley::cluster
