#include "chat/SocketTokens.hpp"

#include "core/Time.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

namespace parley::chat {

SocketTokens::Entry& SocketTokens::entryOf(Key key) { return entries_.try_emplace(key, ctx_).first->second; }

void SocketTokens::arm(Key key, std::int64_t deadlineMs, Expired onExpire) {
    if (deadlineMs == 0) {
        const auto it = entries_.find(key);
        if (it == entries_.end()) return;
        it->second.timer.cancel();
        it->second.deadlineMs = 0;
        it->second.onExpire = nullptr;
        return;
    }
    Entry& entry = entryOf(key);
    entry.deadlineMs = deadlineMs;
    entry.onExpire = std::move(onExpire);
    entry.armId = ++nextArmId_;
    wait(key, entry);
}

std::int64_t SocketTokens::deadline(Key key) const {
    const auto it = entries_.find(key);
    return it == entries_.end() ? 0 : it->second.deadlineMs;
}

// Setting the expiry cancels the previous wait; its handler then sees operation_aborted, and one
// that had already completed sees an armId that is no longer current.
void SocketTokens::wait(Key key, Entry& entry) {
    const std::int64_t delay = std::clamp<std::int64_t>(entry.deadlineMs - core::nowMs(), 0, kMaxWaitMs);
    entry.timer.expires_after(std::chrono::milliseconds(delay));
    entry.timer.async_wait([this, key, armId = entry.armId](const boost::system::error_code& ec) {
        if (!ec) fired(key, armId);
    });
}

void SocketTokens::fired(Key key, std::uint64_t armId) {
    const auto it = entries_.find(key);
    if (it == entries_.end() || it->second.armId != armId || it->second.deadlineMs == 0) return;
    Entry& entry = it->second;
    // Early when the deadline was beyond one wait, or the wall clock was set back.
    if (core::nowMs() < entry.deadlineMs) return wait(key, entry);
    Expired onExpire = std::move(entry.onExpire);
    entry.onExpire = nullptr;
    entry.deadlineMs = 0;
    // Last: the callback may forget(key), which destroys `entry`.
    if (onExpire) onExpire();
}

SocketTokens::Renewal SocketTokens::beginRenewal(Key key, std::int64_t nowMs, const RenewLimit& limit) {
    Entry& entry = entryOf(key);
    if (entry.renewing) return Renewal::Busy;
    if (entry.renewalsInWindow == 0 || nowMs - entry.windowStartMs >= limit.windowMs) {
        entry.windowStartMs = nowMs;
        entry.renewalsInWindow = 0;
    }
    if (limit.perWindow != 0 && entry.renewalsInWindow >= limit.perWindow) return Renewal::OverBudget;
    ++entry.renewalsInWindow;
    entry.renewing = true;
    return Renewal::Started;
}

void SocketTokens::endRenewal(Key key) {
    const auto it = entries_.find(key);
    if (it != entries_.end()) it->second.renewing = false;
}

void SocketTokens::forget(Key key) { entries_.erase(key); }

} // namespace parley::chat
