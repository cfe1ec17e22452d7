#pragma once

#include "core/Metrics.hpp"

#include <atomic>
#include <cstdint>

namespace parley::store {

/// What the store counts for /metrics: commits, the writes they carried, and how long both took
/// (relaxed atomics: each figure stands alone and is read only for reporting).
struct Metrics {
    std::atomic<std::uint64_t> storeCommits{0};         ///< store transactions committed
    std::atomic<std::uint64_t> storeCommittedWrites{0}; ///< writes those transactions carried
    core::DurationHistogram storeCommitSeconds;         ///< each successful commit: the WAL's write and sync
    core::DurationHistogram storeWriteSeconds;          ///< each write, from its queueing to its commit's outcome

    /// Registers every figure above with `registry`, which refers to them from then on.
    void registerWith(core::MetricsRegistry& registry) const;
};
} // namespace parley::store
