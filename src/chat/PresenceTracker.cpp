#include "chat/PresenceTracker.hpp"

namespace parley::chat {

PresenceTracker::Decision PresenceTracker::connect(std::string_view userId, std::int64_t nowMs) {
    const std::string key(userId);
    auto& state = users_[key];
    ++state.sockets;
    return change(key, state, nowMs);
}

PresenceTracker::Decision PresenceTracker::disconnect(std::string_view userId, std::int64_t nowMs) {
    const std::string key(userId);
    auto it = users_.find(key);
    if (it == users_.end() || it->second.sockets == 0) return {};
    --it->second.sockets;
    return change(key, it->second, nowMs);
}

PresenceTracker::Decision PresenceTracker::onTimer(std::string_view userId, std::int64_t nowMs) {
    const std::string key(userId);
    auto it = users_.find(key);
    if (it == users_.end()) return {};
    auto& state = it->second;
    state.timerPending = false;
    Decision d;
    const Presence current = state.sockets > 0 ? Presence::Online : Presence::Offline;
    if (current != state.lastSent) {
        d.broadcastNow = current;
        state.lastSent = current;
        state.lastSentAt = nowMs;
        state.everSent = true;
    }
    return d;
}

PresenceTracker::Decision PresenceTracker::change(const std::string&, State& state, std::int64_t nowMs) {
    Decision d;
    const Presence current = state.sockets > 0 ? Presence::Online : Presence::Offline;
    // A trailing check is already due: it will send the final state, whatever happens now.
    if (state.timerPending) return d;
    if (current == state.lastSent) return d;
    if (!state.everSent || nowMs - state.lastSentAt >= windowMs_) {
        d.broadcastNow = current;
        state.lastSent = current;
        state.lastSentAt = nowMs;
        state.everSent = true;
        return d;
    }
    state.timerPending = true;
    d.checkAtMs = state.lastSentAt + windowMs_;
    return d;
}

bool PresenceTracker::idle(const State& s, std::int64_t nowMs) const {
    // Offline, last said offline, no check due, and the window is over: a reconnect may
    // broadcast at once, so there is nothing left to remember.
    return s.sockets == 0 && s.lastSent == Presence::Offline && !s.timerPending && nowMs - s.lastSentAt >= windowMs_;
}

std::size_t PresenceTracker::prune(std::int64_t nowMs) {
    return std::erase_if(users_, [&](const auto& entry) { return idle(entry.second, nowMs); });
}

void PresenceTracker::assumeTold(std::int64_t nowMs) {
    for (auto& [user, state] : users_) {
        state.lastSent = state.sockets > 0 ? Presence::Online : Presence::Offline;
        state.lastSentAt = nowMs - windowMs_;
        state.everSent = true;
        state.timerPending = false;
    }
}

ToldPresence PresenceTracker::told(std::string_view userId) const {
    auto it = users_.find(userId);
    if (it == users_.end() || !it->second.everSent) return {};
    return {it->second.lastSent == Presence::Online, it->second.lastSentAt};
}

bool PresenceTracker::isOnline(std::string_view userId) const {
    auto it = users_.find(userId);
    return it != users_.end() && it->second.sockets > 0;
}

} // namespace parley::chat
