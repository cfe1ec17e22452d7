#pragma once

#include "core/Metrics.hpp"

#include <atomic>
#include <cstdint>

namespace parley::engineio {

/// What Engine.IO counts for /metrics (relaxed atomics: each figure stands alone and is read only
/// for reporting). One instance is shared by every engineio::Server of the process.
struct Metrics {
    std::atomic<std::int64_t> sessionsOpen{0};         ///< sessions now open
    std::atomic<std::uint64_t> sessionsOpened{0};      ///< sessions opened since start
    std::atomic<std::uint64_t> handshakesRefused{0};   ///< handshakes over the per-address rate
    std::atomic<std::uint64_t> slowConsumersClosed{0}; ///< sessions cut off for not reading
    std::atomic<std::uint64_t> volatileDropped{0};     ///< volatile packets dropped for a backed-up client

    /// Registers every figure above with `registry`, which refers to them from then on.
    void registerWith(core::MetricsRegistry& registry) const;
};
} // namespace parley::engineio
