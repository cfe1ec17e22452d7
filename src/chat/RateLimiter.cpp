#include "chat/RateLimiter.hpp"

#include <algorithm>
#include <limits>

namespace parley::chat {

bool RateLimiter::allows(std::string_view key, std::int64_t nowMs) const {
    if (limit_ == 0) return false;
    auto it = events_.find(key);
    return it == events_.end() || hasRoom(it->second, nowMs);
}

bool RateLimiter::tryAcquire(std::string_view key, std::int64_t nowMs) {
    if (limit_ == 0) return false;
    auto it = events_.find(key);
    if (it == events_.end()) {
        it = events_.emplace(std::string(key), Events{}).first;
        it->second.times.reserve(limit_);
    }
    auto& events = it->second;
    // An event at exactly nowMs - windowMs has left the window.
    if (!hasRoom(events, nowMs)) return false;
    if (events.times.size() < limit_) {
        events.times.push_back(nowMs);
    } else {
        events.times[events.oldest] = nowMs; // the newest now, in place of the oldest
        events.oldest = (events.oldest + 1) % limit_;
    }
    return true;
}

void RateLimiter::refund(std::string_view key) {
    auto it = events_.find(key);
    if (it == events_.end() || it->second.times.empty()) return;
    auto& events = it->second;
    if (events.times.size() < limit_) {
        events.times.pop_back(); // not yet a ring: the newest is the last
        return;
    }
    // A full ring: the newest sits just before the oldest. It becomes a time outside every window,
    // so it is the oldest now and the ring stays in order.
    const std::size_t newest = (events.oldest + limit_ - 1) % limit_;
    events.times[newest] = std::numeric_limits<std::int64_t>::min();
    events.oldest = newest;
}

std::int64_t RateLimiter::retryAfterMs(std::string_view key, std::int64_t nowMs) const {
    if (limit_ == 0) return windowMs_;
    auto it = events_.find(key);
    if (it == events_.end() || hasRoom(it->second, nowMs)) return 0;
    const auto& events = it->second;
    return std::clamp<std::int64_t>(events.times[events.oldest] + windowMs_ - nowMs, 1, windowMs_);
}

void RateLimiter::forget(std::string_view key) {
    if (auto it = events_.find(key); it != events_.end()) events_.erase(it);
}

std::size_t RateLimiter::prune(std::int64_t nowMs) {
    return std::erase_if(events_, [&](const auto& entry) { return entry.second.newest() <= nowMs - windowMs_; });
}

} // namespace parley::chat
