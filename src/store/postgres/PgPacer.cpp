#include "store/postgres/PgPacer.hpp"

#include <algorithm>

namespace parley::store {

PgPacer::Clock::time_point PgPacer::commitAt(Clock::time_point oldest, std::size_t queued) const {
    using Seconds = std::chrono::duration<double>;
    if (options_.maxDelay.count() <= 0 || static_cast<double>(queued) >= 1 + options_.company) return oldest;
    const double perSecond = rate();
    const double maxDelay = Seconds(options_.maxDelay).count();
    if (perSecond * maxDelay < options_.minGain) return oldest;
    const double hold = std::min(maxDelay, options_.company / perSecond);
    return oldest + std::chrono::duration_cast<Clock::duration>(Seconds(hold));
}

} // namespace parley::store
