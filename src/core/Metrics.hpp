#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace parley::core {

/// A Prometheus histogram of durations: fixed bounds from 0.1 ms to 5 s in 1-2-5 steps, so a
/// sync of a fast disk (a few hundred microseconds) and a stalled one (hundreds of milliseconds)
/// both land in a bucket of their own. observe() is a few relaxed atomic adds, safe from any
/// thread; render() reads each figure once, and derives the count from the buckets so that the
/// +Inf bucket and _count always agree.
class DurationHistogram {
public:
    static constexpr std::size_t kBounds = 15;

    void observe(std::chrono::nanoseconds duration) noexcept;

    /// The i-th upper bound (i < kBounds); above the last is the +Inf bucket.
    static std::chrono::nanoseconds bound(std::size_t i) noexcept;

    struct Snapshot {
        std::array<std::uint64_t, kBounds + 1> buckets{}; ///< per bucket, NOT cumulative; [kBounds] = +Inf
        std::uint64_t count = 0;
        std::uint64_t sumNanoseconds = 0;
    };
    Snapshot snapshot() const noexcept;

    /// Appends the HELP, TYPE, _bucket (cumulative), _sum and _count lines of `name`.
    void render(std::string& out, const char* name, const char* help) const;

private:
    std::array<std::atomic<std::uint64_t>, kBounds + 1> buckets_{};
    std::atomic<std::uint64_t> sumNanoseconds_{0};
};

/// Process-wide counters for /metrics (Prometheus text format). One instance, owned by the
/// runtime and handed to the layers that count; relaxed atomics, since each figure stands
/// alone and is read only for reporting.
struct Metrics {
    std::atomic<std::int64_t> sessionsOpen{0};          ///< Engine.IO sessions now open
    std::atomic<std::uint64_t> sessionsOpened{0};       ///< Engine.IO sessions opened since start
    std::atomic<std::int64_t> socketsConnected{0};      ///< Socket.IO sockets now connected (all namespaces)
    std::atomic<std::uint64_t> messagesStored{0};       ///< chat messages stored (retries not counted)
    std::atomic<std::uint64_t> connectionsRefused{0};   ///< TCP connections over the per-address limit
    std::atomic<std::uint64_t> handshakesRefused{0};    ///< handshakes over the per-address rate
    std::atomic<std::uint64_t> slowConsumersClosed{0};  ///< sessions cut off for not reading
    std::atomic<std::uint64_t> volatileDropped{0};      ///< volatile packets dropped for a backed-up client
    std::atomic<std::uint64_t> passwordHashes{0};       ///< Argon2id verifications run by login (unknown emails too)
    std::atomic<std::uint64_t> loginsRefused{0};        ///< logins answered RATE_LIMITED (limits or a full hash queue)
    std::atomic<std::uint64_t> storeCommits{0};         ///< store transactions committed
    std::atomic<std::uint64_t> storeCommittedWrites{0}; ///< writes those transactions carried
    DurationHistogram storeCommitSeconds;               ///< each successful commit: the WAL's write and sync
    DurationHistogram storeWriteSeconds;                ///< each write, from its queueing to its commit's outcome

    /// The Prometheus text exposition of every figure.
    std::string render() const;
};

} // namespace parley::core
