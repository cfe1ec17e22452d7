#pragma once

#include "core/Metrics.hpp"

#include <atomic>
#include <cstdint>

namespace parley::chat {

/// What the chat product counts for /metrics, its REST login included (relaxed atomics: each
/// figure stands alone and is read only for reporting).
struct Metrics {
    std::atomic<std::uint64_t> messagesStored{0}; ///< chat messages stored (retries not counted)
    std::atomic<std::uint64_t> passwordHashes{0}; ///< Argon2id verifications run by login (unknown emails too)
    std::atomic<std::uint64_t> loginsRefused{0};  ///< logins answered RATE_LIMITED (limits or a full hash queue)

    /// Registers every figure above with `registry`, which refers to them from then on.
    void registerWith(core::MetricsRegistry& registry) const;
};
} // namespace parley::chat
