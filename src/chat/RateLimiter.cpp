#include "chat/RateLimiter.hpp"

namespace parley::chat {

bool RateLimiter::tryAcquire(std::string_view key, std::int64_t nowMs) {
    auto it = events_.find(std::string(key));
    if (it == events_.end()) it = events_.emplace(std::string(key), std::deque<std::int64_t>{}).first;
    auto& times = it->second;
    // An event at exactly nowMs - windowMs has left the window.
    while (!times.empty() && times.front() <= nowMs - windowMs_) times.pop_front();
    if (times.size() >= limit_) return false;
    times.push_back(nowMs);
    return true;
}

std::size_t RateLimiter::prune(std::int64_t nowMs) {
    return std::erase_if(events_, [&](const auto& entry) {
        return entry.second.empty() || entry.second.back() <= nowMs - windowMs_;
    });
}

} // namespace parley::chat
