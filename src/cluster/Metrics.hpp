#pragma once

#include "cluster/RedisMetrics.hpp"
#include "core/Metrics.hpp"

#include <atomic>
#include <cstdint>

namespace parley::cluster {

/// What the cluster bus counts for /metrics (relaxed atomics, read only for reporting).
struct Metrics {
    std::atomic<std::uint64_t> published{0};           ///< messages this node published
    std::atomic<std::uint64_t> publishFailed{0};       ///< publishes lost: Redis away or an error reply
    std::atomic<std::uint64_t> received{0};            ///< bus messages handled (own echoes excluded)
    std::atomic<std::uint64_t> dropped{0};             ///< bus messages dropped as malformed or too large
    std::atomic<std::uint64_t> pollsForwarded{0};      ///< polling requests sent to their session's owner
    std::atomic<std::uint64_t> pollForwardsFailed{0};  ///< of those, unanswered: owner gone or too late
    std::atomic<std::uint64_t> pollsServedForPeers{0}; ///< polling requests other nodes forwarded to us
    std::atomic<std::uint64_t> orderHeld{0};           ///< chat events held for a predecessor (ChainOrder)
    std::atomic<std::uint64_t> orderSkipped{0};        ///< predecessors given up: never arrived
    std::atomic<std::uint64_t> orderLate{0};           ///< chat events that came after their place
    std::atomic<std::int64_t> connected{0};            ///< 1 while both Redis connections are up
    RedisMetrics redis;                                ///< the bus's Redis connections

    void registerWith(core::MetricsRegistry& registry) const;
};

} // namespace parley::cluster
