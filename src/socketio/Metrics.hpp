#pragma once

#include "core/Metrics.hpp"

#include <atomic>
#include <cstdint>

namespace parley::socketio {

/// What Socket.IO counts for /metrics (a relaxed atomic, read only for reporting).
struct Metrics {
    std::atomic<std::int64_t> socketsConnected{0}; ///< sockets now connected, all namespaces

    /// Registers every figure above with `registry`, which refers to them from then on.
    void registerWith(core::MetricsRegistry& registry) const;
};
} // namespace parley::socketio
