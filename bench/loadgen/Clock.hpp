#pragma once

#include <chrono>
#include <cstdint>
#include <thread>

namespace parley::bench {

/// Nanoseconds on the steady clock: the generator's one time base.
inline std::int64_t nowNs() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

inline std::chrono::steady_clock::time_point toTimePoint(std::int64_t ns) {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(ns));
}

inline std::int64_t secondsToNs(double seconds) { return static_cast<std::int64_t>(seconds * 1e9); }

/// Sleeps on the calling thread until `ns` (steady clock); returns at once if it is past.
inline void sleepUntilNs(std::int64_t ns) { std::this_thread::sleep_until(toTimePoint(ns)); }

/// Polls `done` every millisecond until it holds or `deadlineNs` passes. Returns done().
/// Only the orchestrating main thread waits this way; the io threads never block.
template <class Pred>
bool waitUntil(Pred done, std::int64_t deadlineNs) {
    while (!done()) {
        if (nowNs() >= deadlineNs) return done();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

} // namespace parley::bench
