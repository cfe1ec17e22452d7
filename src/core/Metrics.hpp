#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace parley::core {

/// Process-wide counters for /metrics (Prometheus text format). One instance, owned by the
/// runtime and handed to the layers that count; relaxed atomics, since each figure stands
/// alone and is read only for reporting.
struct Metrics {
    std::atomic<std::int64_t> sessionsOpen{0};      ///< Engine.IO sessions now open
    std::atomic<std::uint64_t> sessionsOpened{0};   ///< Engine.IO sessions opened since start
    std::atomic<std::int64_t> socketsConnected{0};  ///< Socket.IO sockets now connected (all namespaces)
    std::atomic<std::uint64_t> messagesStored{0};   ///< chat messages stored (retries not counted)
    std::atomic<std::uint64_t> connectionsRefused{0}; ///< TCP connections over the per-address limit
    std::atomic<std::uint64_t> handshakesRefused{0};  ///< handshakes over the per-address rate
    std::atomic<std::uint64_t> slowConsumersClosed{0}; ///< sessions cut off for not reading
    std::atomic<std::uint64_t> volatileDropped{0};   ///< volatile packets dropped for a backed-up client
    std::atomic<std::uint64_t> storeCommits{0};      ///< store transactions committed
    std::atomic<std::uint64_t> storeCommittedWrites{0}; ///< writes those transactions carried

    /// The Prometheus text exposition of every figure.
    std::string render() const;
};

} // namespace parley::core
