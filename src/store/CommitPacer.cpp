#include "store/CommitPacer.hpp"

#include <algorithm>

namespace parley::store {

void CommitPacer::arrived(Clock::time_point now) {
    arrivals_[next_] = now;
    next_ = (next_ + 1) % kWindow;
    count_ = std::min(count_ + 1, kWindow);
}

double CommitPacer::rate() const {
    if (count_ < kWindow) return 0;
    // The ring is full: next_ holds the oldest arrival, the slot before it the newest.
    const auto newest = arrivals_[(next_ + kWindow - 1) % kWindow];
    const auto oldest = arrivals_[next_];
    const double seconds = std::chrono::duration<double>(newest - oldest).count();
    // kWindow arrivals in the same instant: faster than anything measurable.
    if (seconds <= 0) return 1e12;
    return static_cast<double>(kWindow - 1) / seconds;
}

CommitPacer::Clock::time_point CommitPacer::commitAt(Clock::time_point oldest) const {
    if (options_.maxDelay.count() <= 0 || count_ < kWindow) return oldest;
    const double gain = rate() * std::chrono::duration<double>(options_.maxDelay).count();
    if (gain < options_.minGain || gain > options_.maxGain) return oldest;
    return oldest + options_.maxDelay;
}

} // namespace parley::store
