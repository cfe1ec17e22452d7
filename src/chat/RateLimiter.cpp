#include "chat/RateLimiter.hpp"

#include <algorithm>

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
