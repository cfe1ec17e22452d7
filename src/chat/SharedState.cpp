#include "chat/SharedState.hpp"

#include <boost/asio/post.hpp>

namespace parley::chat {

std::optional<Admission> LocalSendLimit::tryAcquire(std::string_view userId, std::int64_t nowMs) {
    std::lock_guard lock(mutex_);
    Admission a;
    a.admitted = limiter_.tryAcquire(userId, nowMs);
    if (!a.admitted) a.retryAfterMs = limiter_.retryAfterMs(userId, nowMs);
    return a;
}

// Never needed (tryAcquire always decides); answers on `ctx` like any other implementation.
void LocalSendLimit::acquire(boost::asio::io_context& ctx, std::string_view userId, std::int64_t nowMs, Done done) {
    boost::asio::post(ctx, [a = *tryAcquire(userId, nowMs), done = std::move(done)] { done(a); });
}

void LocalSendLimit::refund(std::string_view userId, const Admission&) {
    std::lock_guard lock(mutex_);
    limiter_.refund(userId);
}

void LocalSendLimit::prune(std::int64_t nowMs) {
    std::lock_guard lock(mutex_);
    limiter_.prune(nowMs);
}

void LocalPresence::connect(const std::string& userId, std::int64_t nowMs) {
    hand(userId, tracker_.connect(userId, nowMs));
}

void LocalPresence::disconnect(const std::string& userId, std::int64_t nowMs) {
    hand(userId, tracker_.disconnect(userId, nowMs));
}

void LocalPresence::onTimer(const std::string& userId, std::int64_t nowMs) {
    hand(userId, tracker_.onTimer(userId, nowMs));
}

void LocalPresence::toldOf(const std::vector<std::string_view>& userIds, ToldDone done) {
    std::vector<ToldPresence> told;
    told.reserve(userIds.size());
    for (const auto& id : userIds) told.push_back(tracker_.told(id));
    done(std::move(told));
}

void LocalPresence::hand(const std::string& userId, const Decision& d) {
    if ((d.broadcastNow || d.checkAtMs) && handler_) handler_(userId, d);
}

} // namespace parley::chat
