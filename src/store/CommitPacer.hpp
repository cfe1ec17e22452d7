#pragma once

#include <array>
#include <chrono>
#include <cstddef>

namespace parley::store {

/// Decides when the store thread commits a batch of writes: at once, or after waiting a little
/// for more writes to share the commit (and its sync of the WAL).
///
/// Each commit costs a sync, a few context switches and wake-ups whatever it carries, so at
/// around a thousand writes per second most of the store thread's time goes to commits of one
/// write. Waiting up to `maxDelay` for company fixes that, but every write in the batch pays
/// the wait, so the pacer waits only where it pays: when the writes expected during the full
/// delay (rate x maxDelay, the rate measured over the last kWindow writes) are at least
/// `minGain` (another write is likely) and at most `maxGain` (busier than that, the commits
/// fill by themselves while the previous one syncs). A quiet server, a family's chats, never
/// waits; a busy one never waits either. The default band, 0.5 to 3.5, is measured: at 2.85
/// writes per delay the wait cut CPU per delivery by about a seventh with ack p99 2.2-2.7 ms,
/// once checkpoints no longer ran inside commits (WalCheckpointer); before that, their stalls
/// on top of the wait pushed p99 past 3 ms there.
///
/// Pure bookkeeping without a clock of its own: the caller passes the times. Owned by one
/// thread at a time (the store queue's lock).
class CommitPacer {
public:
    using Clock = std::chrono::steady_clock;

    struct Options {
        std::chrono::microseconds maxDelay{0}; ///< 0: never wait
        double minGain = 0.5;                  ///< wait only if rate x maxDelay >= this ...
        double maxGain = 3.5;                  ///< ... and <= this
    };

    explicit CommitPacer(Options options) : options_(options) {}

    /// A write was queued at `now`.
    void arrived(Clock::time_point now);

    /// When a batch whose oldest write was queued at `oldest` should commit: `oldest` itself
    /// when waiting does not pay, else `oldest + maxDelay`.
    Clock::time_point commitAt(Clock::time_point oldest) const;

    /// Writes per second over the last kWindow writes; 0 until that many have arrived.
    double rate() const;

    /// A batch this large commits without waiting for its deadline.
    static constexpr std::size_t kFullBatch = 64;
    /// Arrivals the rate is measured over.
    static constexpr std::size_t kWindow = 32;

private:
    Options options_;
    std::array<Clock::time_point, kWindow> arrivals_{}; // ring of the last kWindow arrival times
    std::size_t next_ = 0;                              // where the next arrival goes
    std::size_t count_ = 0;                             // arrivals seen, up to kWindow
};

} // namespace parley::store
