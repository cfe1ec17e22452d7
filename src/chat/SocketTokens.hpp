#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <unordered_map>

namespace parley::chat {

/// How often one socket may renew its token (auth:renew): at most `perWindow` renewals in a
/// fixed window of `windowMs` (each renewal is a signature check or a store lookup); a
/// `perWindow` of 0 sets no limit (one renewal in flight per socket still holds).
struct RenewLimit {
    std::uint32_t perWindow = 6;
    std::int64_t windowMs = 60'000;
};

/// The token state of the sockets of ONE io thread that need any: the expiry timer of a socket
/// whose token expires, and the renewal budget and in-flight renewal of a socket that renews.
/// A socket whose token never expires and that never renews has no entry (no timer, nothing
/// allocated). Each expiry is one steady_timer wait: nothing scans the sockets.
///
/// Every call on the io thread of the io_context given. Keys are the sockets' addresses:
/// forget() a key when its socket disconnects, before the address can be reused.
class SocketTokens {
public:
    using Key = const void*;
    using Expired = std::function<void()>;

    /// The longest single timer wait: a deadline further away is waited for in steps, so that
    /// no duration overflows and a wall clock set back is noticed.
    static constexpr std::int64_t kMaxWaitMs = 3'600'000;

    explicit SocketTokens(boost::asio::io_context& ctx) : ctx_(ctx) {}
    SocketTokens(const SocketTokens&) = delete;
    SocketTokens& operator=(const SocketTokens&) = delete;

    /// From now on `key`'s token is valid until `deadlineMs` (Unix ms, the system clock):
    /// `onExpire` runs on this thread, once, when the clock reaches it (at once for a deadline
    /// already past), unless arm() or forget() for `key` comes first. Replaces any earlier
    /// deadline and callback. A deadline of 0 (a token without expiry) only disarms.
    void arm(Key key, std::int64_t deadlineMs, Expired onExpire);
    /// The deadline armed for `key`; 0 when none.
    std::int64_t deadline(Key key) const;

    enum class Renewal { Started, Busy, OverBudget };
    /// Starts a renewal of `key`'s token at `nowMs`: Busy while another is in flight (not
    /// counted), OverBudget past `limit` (not counted); Started counts against the budget.
    Renewal beginRenewal(Key key, std::int64_t nowMs, const RenewLimit& limit);
    /// The renewal that beginRenewal() started is over, whatever its outcome.
    void endRenewal(Key key);

    /// Drops all of `key`'s state; its timer, if any, never fires. One hash lookup when the key
    /// has none.
    void forget(Key key);
    /// Sockets with any state on this thread.
    std::size_t size() const noexcept { return entries_.size(); }

private:
    struct Entry {
        explicit Entry(boost::asio::io_context& ctx) : timer(ctx) {}
        boost::asio::steady_timer timer;
        std::int64_t deadlineMs = 0; // 0: no expiry armed
        std::uint64_t armId = 0;     // the arm() that the pending wait serves
        Expired onExpire;
        std::int64_t windowStartMs = 0;
        std::uint32_t renewalsInWindow = 0;
        bool renewing = false;
    };

    Entry& entryOf(Key key);
    void wait(Key key, Entry& entry);
    void fired(Key key, std::uint64_t armId);

    boost::asio::io_context& ctx_;
    std::unordered_map<Key, Entry> entries_;
    std::uint64_t nextArmId_ = 0;
};

} // namespace parley::chat
