#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

namespace parley::chat {

/// Sliding-window limiter: at most `limit` events per `windowMs` per key, counting the
/// events of the last windowMs exactly (a timestamp per accepted event, at most `limit`
/// kept per key). Not thread-safe: one owner.
class RateLimiter {
public:
    RateLimiter(std::size_t limit, std::int64_t windowMs) : limit_(limit), windowMs_(windowMs) {}

    /// True (and the event is counted) if `key` has had fewer than `limit` events in
    /// (nowMs - windowMs, nowMs]; false otherwise (nothing counted).
    bool tryAcquire(std::string_view key, std::int64_t nowMs);

    /// Forgets keys with no event inside the window (bounded memory); returns how many.
    std::size_t prune(std::int64_t nowMs);

    std::size_t keyCount() const noexcept { return events_.size(); }

private:
    std::size_t limit_;
    std::int64_t windowMs_;
    std::unordered_map<std::string, std::deque<std::int64_t>> events_;
};

} // namespace parley::chat
