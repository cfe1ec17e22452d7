#pragma once

#include "store/CommitPacer.hpp"

#include <chrono>
#include <cstddef>

namespace parley::store {

/// Decides when the appends queued for PostgreSQL go out as one transaction: at once, or a
/// little later so that more of them share its commit.
///
/// On PostgreSQL a commit costs the database far more CPU than the INSERT it carries (a
/// transaction, a WAL flush, the wake-ups of the backend and the WAL writer), so appends that
/// commit alone cost about as much as Node's. The pacer holds the oldest queued append for as
/// long as `company` more appends take to arrive at the measured rate (rate measured over the
/// last CommitPacer::kWindow arrivals), never longer than `maxDelay`, and sends at once when
/// that many are already queued. It does not wait at all when fewer than `minGain` appends
/// are expected within `maxDelay`: a quiet store commits each append on arrival. The wait
/// shrinks as the rate grows, so a busy store pays less latency per commit it saves.
///
/// Pure bookkeeping without a clock of its own: the caller passes the times. Used on one
/// thread (the store's).
class PgPacer {
public:
    using Clock = std::chrono::steady_clock;

    struct Options {
        std::chrono::microseconds maxDelay{0}; ///< the longest hold; 0: never wait
        double minGain = 0.5;                  ///< wait only if rate x maxDelay >= this
        double company = 2;                    ///< the appends worth waiting for, beyond the oldest
    };

    explicit PgPacer(Options options) : options_(options), arrivals_(CommitPacer::Options{}) {}

    /// An append was queued at `now`.
    void arrived(Clock::time_point now) { arrivals_.arrived(now); }

    /// When the `queued` appends waiting, the oldest queued at `oldest`, should be sent:
    /// `oldest` itself when waiting does not pay, else up to `oldest + maxDelay`.
    Clock::time_point commitAt(Clock::time_point oldest, std::size_t queued) const;

    /// Appends per second over the last CommitPacer::kWindow; 0 until that many have arrived.
    double rate() const { return arrivals_.rate(); }

private:
    Options options_;
    CommitPacer arrivals_; // only its rate: its own waiting is off (maxDelay 0)
};

} // namespace parley::store
