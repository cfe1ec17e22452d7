#pragma once

#include "chat/PresenceTracker.hpp"
#include "chat/RateLimiter.hpp"

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::chat {

/// The chat layer's state that a cluster shares between its processes: the message rate limit
/// and presence. ChatService speaks only to these two interfaces; the single-process
/// implementations below are the in-memory ones, and app/ may give it others (e.g. on Redis).

/// The outcome of taking a slot of the message rate limit.
struct Admission {
    bool admitted = false;
    std::int64_t retryAfterMs = 0; ///< when refused: until a slot frees (0 when admitted)
    std::uint64_t ticket = 0;      ///< which slot, for refund(); 0: a slot of the in-memory limiter
};

/// "May this user send a message now?", with a refund for a send that turned out not to count.
/// Thread-safe: called from any io thread.
class SendLimit {
public:
    using Done = std::function<void(Admission)>;
    virtual ~SendLimit() = default;

    /// Takes a slot for a message of `userId` at `nowMs` if the answer is known at once (the
    /// in-memory limiter always knows: no post, no allocation); nullopt: ask acquire().
    virtual std::optional<Admission> tryAcquire(std::string_view userId, std::int64_t nowMs) = 0;
    /// Takes a slot; `done` runs on `ctx`, once. Used only after tryAcquire() said nullopt.
    virtual void acquire(boost::asio::io_context& ctx, std::string_view userId, std::int64_t nowMs, Done done) = 0;
    /// Gives back the slot of an admitted send (a retry, or a send the store refused).
    virtual void refund(std::string_view userId, const Admission& admission) = 0;
    /// Forgets what can no longer matter (bounded memory); called now and then.
    virtual void prune(std::int64_t nowMs) = 0;
};

/// The in-memory limiter of one process, behind a mutex.
class LocalSendLimit final : public SendLimit {
public:
    LocalSendLimit(std::size_t limit, std::int64_t windowMs) : limiter_(limit, windowMs) {}

    std::optional<Admission> tryAcquire(std::string_view userId, std::int64_t nowMs) override;
    void acquire(boost::asio::io_context& ctx, std::string_view userId, std::int64_t nowMs, Done done) override;
    void refund(std::string_view userId, const Admission& admission) override;
    void prune(std::int64_t nowMs) override;

private:
    std::mutex mutex_;
    RateLimiter limiter_; // guarded by mutex_
};

/// Who is online, and when contacts hear of it (the throttle of PresenceTracker: a leading
/// update, at most one per window, exactly one trailing update when the state at the end of the
/// window differs from the last one told). Every call and every decision happens on one thread
/// (io thread 0, the caller's): a decision is handed to the handler, at once or later.
class PresenceState {
public:
    using Decision = PresenceTracker::Decision;
    /// broadcastNow: tell the contacts now; checkAtMs: call onTimer(userId) then (this clock).
    using DecisionHandler = std::function<void(const std::string& userId, const Decision& decision)>;
    virtual ~PresenceState() = default;

    /// Where decisions go; set once, before the first call.
    virtual void onDecision(DecisionHandler handler) = 0;
    /// A socket of `userId` connected / disconnected on this process.
    virtual void connect(const std::string& userId, std::int64_t nowMs) = 0;
    virtual void disconnect(const std::string& userId, std::int64_t nowMs) = 0;
    /// The check that a decision's checkAtMs asked for.
    virtual void onTimer(const std::string& userId, std::int64_t nowMs) = 0;
    /// Forgets what can no longer matter (bounded memory); called now and then.
    virtual void prune(std::int64_t nowMs) = 0;

    /// What each user's contacts were last told, and when, in the order of `userIds`: the
    /// throttled state, not the state itself, so that a snapshot and the updates after it tell
    /// one story (a change not told yet is told later, by its trailing update).
    using ToldDone = std::function<void(std::vector<ToldPresence> told)>;
    /// `done` runs on this thread (io thread 0), once, possibly inside the call; `userIds` need
    /// only live during the call.
    virtual void toldOf(const std::vector<std::string_view>& userIds, ToldDone done) = 0;
};

/// The PresenceTracker of one process: every decision is made at once, inside the call.
class LocalPresence final : public PresenceState {
public:
    explicit LocalPresence(std::int64_t windowMs) : tracker_(windowMs) {}

    void onDecision(DecisionHandler handler) override { handler_ = std::move(handler); }
    void connect(const std::string& userId, std::int64_t nowMs) override;
    void disconnect(const std::string& userId, std::int64_t nowMs) override;
    void onTimer(const std::string& userId, std::int64_t nowMs) override;
    void prune(std::int64_t nowMs) override { tracker_.prune(nowMs); }
    void toldOf(const std::vector<std::string_view>& userIds, ToldDone done) override;

private:
    void hand(const std::string& userId, const Decision& d);

    PresenceTracker tracker_;
    DecisionHandler handler_;
};

} // namespace parley::chat
