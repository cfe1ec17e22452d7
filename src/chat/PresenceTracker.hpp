#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace parley::chat {

enum class Presence { Offline, Online };

/// The state a user's contacts were last told, and when (atMs 0: never told, so offline).
struct ToldPresence {
    bool online = false;
    std::int64_t atMs = 0;
};

/// Online state per user across devices, with the contract's throttle: at most one
/// broadcast per user per window (2 s). The first transition goes out at once (leading);
/// if the state at the end of the window differs from the last one sent, exactly one
/// trailing broadcast follows. Pure logic: the owner performs broadcasts and timers.
/// Not thread-safe: one owner.
class PresenceTracker {
public:
    struct Decision {
        std::optional<Presence> broadcastNow;  ///< send this status now
        std::optional<std::int64_t> checkAtMs; ///< call onTimer(user) at this time
    };

    explicit PresenceTracker(std::int64_t windowMs = 2000) : windowMs_(windowMs) {}

    /// A socket of `userId` connected / disconnected.
    Decision connect(std::string_view userId, std::int64_t nowMs);
    Decision disconnect(std::string_view userId, std::int64_t nowMs);
    /// The trailing check scheduled by an earlier decision.
    Decision onTimer(std::string_view userId, std::int64_t nowMs);

    /// Takes every user's current state as already told, with no check due and the window over
    /// (the next change is told at once): for a tracker that takes over from another one that
    /// was in charge until now.
    void assumeTold(std::int64_t nowMs);

    bool isOnline(std::string_view userId) const;
    /// What the user's contacts were last told (not the state itself, which may be newer while a
    /// trailing check is due).
    ToldPresence told(std::string_view userId) const;
    /// Forgets users that are offline, said so, and whose window has passed (bounded memory;
    /// call it now and then). Returns how many were forgotten.
    std::size_t prune(std::int64_t nowMs);
    std::size_t trackedUsers() const noexcept { return users_.size(); }

private:
    struct State {
        int sockets = 0;
        Presence lastSent = Presence::Offline;
        std::int64_t lastSentAt = 0;
        bool everSent = false;
        bool timerPending = false;
    };

    Decision change(const std::string& userId, State& state, std::int64_t nowMs);
    bool idle(const State& s, std::int64_t nowMs) const;

    std::int64_t windowMs_;
    // Lookups by string_view: no std::string is built to find a key (a snapshot asks for
    // thousands).
    struct KeyHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view key) const noexcept { return std::hash<std::string_view>{}(key); }
    };
    std::unordered_map<std::string, State, KeyHash, std::equal_to<>> users_;
};

} // namespace parley::chat
