#include "cluster/RedisRateLimit.hpp"

#include <boost/asio/error.hpp>

#include <algorithm>
#include <vector>

namespace parley::cluster {

namespace {

// KEYS[1] the user's set; ARGV limit, windowMs, member. Answers {1, 0} or {0, retryAfterMs}.
const std::string kScript = std::string(kLuaNowMs) + R"lua(
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
if limit <= 0 then return {0, window} end
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local retry = tonumber(oldest[2]) + window - now
if retry < 1 then retry = 1 end
if retry > window then retry = window end
return {0, retry}
)lua";

} // namespace

std::shared_ptr<RedisRateLimit> RedisRateLimit::create(boost::asio::io_context& home,
                                                       std::shared_ptr<RedisConnection> redis, std::string nodeUid,
                                                       Options options) {
    return std::shared_ptr<RedisRateLimit>(new RedisRateLimit(home, std::move(redis), std::move(nodeUid), options));
}

RedisRateLimit::RedisRateLimit(boost::asio::io_context& home, std::shared_ptr<RedisConnection> redis,
                               std::string nodeUid, Options options)
    : redis_(std::move(redis)), nodeUid_(std::move(nodeUid)), options_(options),
      limitArg_(std::to_string(options.limit)), windowArg_(std::to_string(options.windowMs)), script_(kScript),
      timer_(home) {}

void RedisRateLimit::onState(bool connected) {
    if (connected) script_.load(*redis_);
    available_.store(connected, std::memory_order_relaxed);
}

std::string RedisRateLimit::key(std::string_view userId) const {
    std::string k = "parley:rl:";
    k += userId;
    return k;
}

std::string RedisRateLimit::member(std::uint64_t ticket) const { return nodeUid_ + ":" + std::to_string(ticket); }

void RedisRateLimit::acquire(std::string_view userId, Done done) {
    if (!redis_->connected()) return done(boost::system::error_code(boost::asio::error::not_connected));
    const std::uint64_t ticket = ++nextTicket_;
    waiting_.push_back(Waiting{ticket, std::string(userId), std::chrono::steady_clock::now() + options_.answerWithin,
                               std::move(done)});
    script_.run(redis_, {key(userId), limitArg_, windowArg_, member(ticket)}, 1,
                [self = shared_from_this(), ticket](boost::system::result<RedisReply> r) {
                    self->onReply(ticket, std::move(r));
                });
    armTimer();
}

void RedisRateLimit::onReply(std::uint64_t ticket, boost::system::result<RedisReply> reply) {
    // Usually the oldest: replies come in order, but a NOSCRIPT retry overtakes nothing only
    // by chance.
    auto it = std::find_if(waiting_.begin(), waiting_.end(), [&](const Waiting& w) { return w.ticket == ticket; });
    if (it == waiting_.end()) return; // closed
    Waiting w = std::move(*it);
    waiting_.erase(it);
    const bool valid = reply && reply->type == RedisReply::Type::Array && reply->elements.size() == 2 &&
                       reply->elements[0].type == RedisReply::Type::Integer;
    const bool admitted = valid && reply->elements[0].integer == 1;
    if (!w.done) {
        // Answered already (too late): the caller counted the send itself.
        if (admitted) refund(w.userId, ticket);
        return;
    }
    if (!valid) return w.done(boost::system::errc::make_error_code(boost::system::errc::protocol_error));
    w.done(Answer{admitted, admitted ? 0 : reply->elements[1].integer, ticket});
}

void RedisRateLimit::refund(std::string_view userId, std::uint64_t ticket) {
    if (!redis_->connected()) return; // the member leaves the window by itself
    redis_->command({"ZREM", key(userId), member(ticket)}, {});
}

void RedisRateLimit::armTimer() {
    if (timerArmed_) return;
    auto it = std::find_if(waiting_.begin(), waiting_.end(), [](const Waiting& w) { return bool(w.done); });
    if (it == waiting_.end()) return;
    timerArmed_ = true;
    timer_.expires_at(it->deadline);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        self->timerArmed_ = false;
        if (!ec) self->onDeadline();
    });
}

void RedisRateLimit::onDeadline() {
    const auto now = std::chrono::steady_clock::now();
    std::vector<Done> late; // called after the walk: a callback may ask again
    for (auto& w : waiting_) {
        if (!w.done) continue;
        if (w.deadline > now) break;
        late.push_back(std::move(w.done));
        w.done = nullptr;
    }
    armTimer();
    for (auto& done : late) done(boost::system::error_code(boost::asio::error::timed_out));
}

void RedisRateLimit::close() {
    timer_.cancel();
    auto waiting = std::move(waiting_);
    waiting_.clear();
    for (auto& w : waiting)
        if (w.done) w.done(boost::system::error_code(boost::asio::error::operation_aborted));
}

} // namespace parley::cluster
