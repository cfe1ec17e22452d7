#pragma once

#include "core/Metrics.hpp"

#include <atomic>
#include <cstdint>

namespace parley::net {

/// What the network layer counts for /metrics (relaxed atomics: each figure stands alone and is
/// read only for reporting). Owned by whoever runs the layer; registerWith() shows it.
struct Metrics {
    std::atomic<std::uint64_t> connectionsRefused{0}; ///< TCP connections over the per-address limit

    /// Registers every figure above with `registry`, which refers to them from then on.
    void registerWith(core::MetricsRegistry& registry) const;
};
} // namespace parley::net
