#include "chat/SocketBudgets.hpp"

namespace parley::chat {

bool SocketBudgets::take(Key key, std::int64_t nowMs, const StoreBudget& budget) {
    if (budget.perWindow == 0) return true;
    Entry& entry = entries_[key];
    if (entry.used == 0 || nowMs - entry.windowStartMs >= budget.windowMs) {
        entry.windowStartMs = nowMs;
        entry.used = 0;
    }
    if (entry.used >= budget.perWindow) return false;
    ++entry.used;
    return true;
}

bool SocketBudgets::lastSeenDue(Key key, std::int64_t nowMs, std::int64_t everyMs) {
    Entry& entry = entries_[key];
    if (entry.lastSeenWritten && nowMs - entry.lastSeenWrittenMs < everyMs) return false;
    entry.lastSeenWritten = true;
    entry.lastSeenWrittenMs = nowMs;
    return true;
}

} // namespace parley::chat
