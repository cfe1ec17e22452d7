#pragma once

#include <cstdint>
#include <unordered_map>

namespace parley::chat {

/// What one socket may make the store do with events other than message:send (which has the
/// contract's own limit): receipt:read (a write each) and typing:start in a chat whose room the
/// socket is not in (a membership read each) share `perWindow` operations in a fixed window of
/// `windowMs`. A `perWindow` of 0 sets no limit.
struct StoreBudget {
    std::uint32_t perWindow = 60;
    std::int64_t windowMs = 10'000;
};

/// The store budgets of the sockets of ONE io thread, and when each socket's presence:ping last
/// wrote lastSeenAt. A socket that has sent none of those events has no entry.
///
/// Every call on that io thread. Keys are the sockets' addresses: forget() a key when its socket
/// disconnects, before the address can be reused.
class SocketBudgets {
public:
    using Key = const void*;

    /// Counts one store operation of `key` at `nowMs`; false (nothing counted) past `budget`.
    bool take(Key key, std::int64_t nowMs, const StoreBudget& budget);
    /// Whether a presence:ping of `key` at `nowMs` writes lastSeenAt: the first does, then at most
    /// one every `everyMs` (the ping is answered either way).
    bool lastSeenDue(Key key, std::int64_t nowMs, std::int64_t everyMs);
    /// Drops `key`'s state. One hash lookup when it has none.
    void forget(Key key) { entries_.erase(key); }
    /// Sockets with any state on this thread.
    std::size_t size() const noexcept { return entries_.size(); }

private:
    struct Entry {
        std::int64_t windowStartMs = 0;
        std::uint32_t used = 0;
        bool lastSeenWritten = false;
        std::int64_t lastSeenWrittenMs = 0;
    };
    std::unordered_map<Key, Entry> entries_;
};

} // namespace parley::chat
