#pragma once

#include "core/Metrics.hpp"

#include <atomic>
#include <cstdint>

namespace parley::cluster {

/// What the Redis connections count for /metrics (relaxed atomics: each figure stands alone and
/// is read only for reporting; several connections on several threads may share one).
struct RedisMetrics {
    std::atomic<std::uint64_t> redisReconnects{0};     ///< connections lost or not opened, each followed by a retry
    std::atomic<std::uint64_t> redisCommandsFailed{0}; ///< commands completed with an error (not an error reply)
    std::atomic<std::uint64_t> redisPublishErrors{0};  ///< publish() calls that failed or got an error reply

    /// Registers every figure above with `registry`, which refers to them from then on.
    void registerWith(core::MetricsRegistry& registry) const;
};

} // namespace parley::cluster
