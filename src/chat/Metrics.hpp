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
    /// A socket's message:send, from its handler's start to its ack, built and about to be sent:
    /// acks {ok:true} (a new message or a retry's stored copy) and error acks (refused, or the
    /// store failed), shown as parley_chat_message_ack_seconds{result="ok"|"error"}.
    core::DurationHistogram messageAckOk;
    core::DurationHistogram messageAckError;

    /// Registers every figure above with `registry`, which refers to them from then on.
    void registerWith(core::MetricsRegistry& registry) const;
};
} // namespace parley::chat
