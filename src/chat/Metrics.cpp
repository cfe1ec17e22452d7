#include "chat/Metrics.hpp"

namespace parley::chat {

void Metrics::registerWith(core::MetricsRegistry& registry) const {
    registry.addCounter("parley_chat_messages_stored_total", "Chat messages stored (retries not counted).",
                        messagesStored);
    registry.addCounter("parley_password_hashes_total",
                        "Password hashes computed by login, unknown emails included (each one Argon2id verification).",
                        passwordHashes);
    registry.addCounter("parley_logins_refused_total",
                        "Logins refused with RATE_LIMITED: per-address or per-account limit, or the hash queue full.",
                        loginsRefused);
    registry.addHistogram(
        "parley_chat_message_ack_seconds",
        "Time from a socket's message:send to its ack being sent, the sender's wait less the network; "
        "result ok: stored, or a retry's stored copy; error: refused, or not stored.",
        "result", {{"ok", &messageAckOk}, {"error", &messageAckError}});
}

} // namespace parley::chat
