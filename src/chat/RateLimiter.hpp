#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace parley::chat {

/// Sliding-window limiter: at most `limit` events per `windowMs` per key, counting the
/// events of the last windowMs exactly (a timestamp per accepted event, at most `limit`
/// kept per key). Not thread-safe: one owner.
class RateLimiter {
public:
    RateLimiter(std::size_t limit, std::int64_t windowMs) : limit_(limit), windowMs_(windowMs) {}

    /// True if tryAcquire(key, nowMs) would succeed now. Counts nothing.
    bool allows(std::string_view key, std::int64_t nowMs) const;

    /// True (and the event is counted) if `key` has had fewer than `limit` events in
    /// (nowMs - windowMs, nowMs]; false otherwise (nothing counted).
    bool tryAcquire(std::string_view key, std::int64_t nowMs);

    /// Takes back the newest event of `key` (one tryAcquire that turned out not to count: a
    /// retry, or a send that failed). Nothing when `key` has none.
    void refund(std::string_view key);

    /// How long until tryAcquire(key, ...) can succeed: 0 if it would now, else the ms until the
    /// oldest counted event of `key` leaves the window (never more than windowMs; windowMs
    /// when the limit is 0).
    std::int64_t retryAfterMs(std::string_view key, std::int64_t nowMs) const;

    /// Forgets every event of `key` (e.g. the failures of an account that then logged in).
    void forget(std::string_view key);

    /// Forgets keys with no event inside the window (bounded memory); returns how many.
    std::size_t prune(std::int64_t nowMs);

    std::size_t keyCount() const noexcept { return events_.size(); }

private:
    // The times of a key's last `limit` accepted events (fewer until it has had that many), as a
    // ring: one allocation per key, none per event. The window has room for another event when
    // fewer than `limit` were accepted or the oldest of the last `limit` has left it.
    struct Events {
        std::vector<std::int64_t> times;
        std::size_t oldest = 0; // index of the oldest time in `times`
        std::int64_t newest() const { return times[(oldest + times.size() - 1) % times.size()]; }
    };
    // Lookups by string_view: no std::string is built to find a key.
    struct KeyHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view key) const noexcept { return std::hash<std::string_view>{}(key); }
    };

    bool hasRoom(const Events& events, std::int64_t nowMs) const {
        return events.times.size() < limit_ || events.times[events.oldest] <= nowMs - windowMs_;
    }

    std::size_t limit_;
    std::int64_t windowMs_;
    std::unordered_map<std::string, Events, KeyHash, std::equal_to<>> events_;
};

} // namespace parley::chat
