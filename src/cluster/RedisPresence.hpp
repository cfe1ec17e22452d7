#pragma once

// Presence shared by the nodes of a cluster, in Redis.
//
// Contract (the chat's, as PresenceTracker states it for one process): a user is online while
// any socket of theirs is connected, on any node; contacts hear of a change at most once per
// window (2 s) per user: the first change at once (leading), and when the state at the end of
// the window differs from the last one told, exactly one trailing update. Exactly one node
// tells each update.
//
// Keys (one Redis, not Redis Cluster: the scripts name keys they are not given):
//   parley:presence:<user>    hash: n:<nodeUid> = sockets of the user on that node; total = their
//                             sum; sent = 0|1 the status last told (absent: never told), at = when
//                             (Redis's clock, ms); pend = when the trailing check is due, by = the
//                             node that holds it. No expiry while anything is online or pending;
//                             else it expires one window (+1 s) later: by then a change leads again.
//   parley:node:<uid>         this node is alive: SET PX nodeTtl (10 s), refreshed every 3 s.
//   parley:node:<uid>:users   the users this node has sockets of or holds a check for.
//   parley:nodes              every node uid with state in Redis.
//
// Every change runs one script, so each decision sees and leaves the throttle state whole:
//   change(user, ±1): the node's count, then decide: nothing when a check is pending or the
//     state is the one told; else tell now when never told or the window since `at` is over;
//     else set pend = at + window, by = this node, and answer "check in pend - now ms".
//   online(users): reads each user's total; decides nothing.
//   timer(user): only the holder (by) acts; early (clocks differ): check again later; else
//     clear pend and tell the state if it differs from the one last told.
// So each window has one leading and at most one trailing update, whichever nodes the sockets
// come and go on. A pend whose holder is gone is cleared by the sweep that removes the holder,
// and, as a last resort, taken over by any decision made more than 10 s after it was due.
//
// Node liveness: each node refreshes parley:node:<uid> every heartbeatEvery, and every node
// sweeps every sweepEvery with one script: for each node of parley:nodes whose key expired, it
// removes the node's counts and checks from its users (a batch at a time), decides for each, and
// answers the decisions, which the sweeping node carries out (the script's atomicity makes
// exactly one node announce each). A killed node's users are offline for their contacts within
// nodeTtl + sweepEvery (+ the throttle window when a change was told just before). A restarted
// node has a new uid: its old entries go like a dead node's.
//
// Redis away: change() and timer() answer false and the caller decides alone (best effort,
// this node's sockets only); the node's counts are kept here. When Redis is back (or a
// heartbeat finds the node's key gone: declared dead while alive), the node re-registers: one
// script sets its count of every user it holds (0 for users it no longer has), drops the checks
// it held (they may have been missed) and decides afresh for each.

#include "cluster/Redis.hpp"
#include "cluster/RedisScript.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

namespace parley::cluster {

/// Threads: the connection's io_context (home) for everything but available().
class RedisPresence : public std::enable_shared_from_this<RedisPresence> {
public:
    struct Options {
        std::int64_t windowMs = 2000;
        std::chrono::milliseconds heartbeatEvery{3000};
        std::chrono::milliseconds nodeTtl{10'000};
        std::chrono::milliseconds sweepEvery{2000};
        std::size_t sweepBatch = 500; // users of dead nodes handled per sweep script
    };
    /// What the cluster decided for a user, for this node to carry out: tell the contacts
    /// `online` now, or (check) call timer(user) in checkInMs.
    struct Decision {
        bool check = false;
        bool online = false;
        std::int64_t checkInMs = 0;
    };
    using DecisionHandler = std::function<void(const std::string& userId, const Decision& decision)>;

    static std::shared_ptr<RedisPresence> create(boost::asio::io_context& home, std::shared_ptr<RedisConnection> redis,
                                                 std::string nodeUid, Options options);

    /// Where decisions go (also those of sweeps and re-registrations). Set before start().
    void onDecision(DecisionHandler handler) { handler_ = std::move(handler); }
    /// Starts the heartbeat and the sweep.
    void start();
    /// Stops the heartbeat and the sweep for good (a reconnection does not start them again); the
    /// node's entries then expire as a dead node's.
    void close();
    /// The connection's state changed (its onState handler must call this).
    void onState(bool connected);
    bool available() const noexcept { return available_.load(std::memory_order_relaxed); }

    /// A socket of `userId` connected (+1) or disconnected (-1) on this node. Counted here in any
    /// case; false: Redis is away and nothing will be decided for this change.
    bool change(const std::string& userId, int delta);
    /// The check a decision asked for. false: Redis is away (the re-registration decides later).
    bool timer(const std::string& userId);
    /// The status last told of each user (sent) and when (at, Redis's clock; 0: never told), in
    /// the order of `userIds`, with one script; an error when Redis does not answer.
    struct Told {
        bool online = false;
        std::int64_t atMs = 0;
    };
    using ToldDone = std::function<void(boost::system::result<std::vector<Told>> told)>;
    void toldOf(const std::vector<std::string>& userIds, ToldDone done);

    const std::string& nodeUid() const noexcept { return nodeUid_; }
    std::uint64_t reregistrations() const noexcept { return reregistrations_.load(std::memory_order_relaxed); }

private:
    RedisPresence(boost::asio::io_context& home, std::shared_ptr<RedisConnection> redis, std::string nodeUid,
                  Options options);
    static std::string presenceKey(const std::string& userId) { return "parley:presence:" + userId; }
    void onPair(const std::string& userId, const boost::system::result<RedisReply>& reply);
    void onList(const boost::system::result<RedisReply>& reply);
    void hand(const std::string& userId, long long kind, long long value);
    void heartbeat(bool reregister);
    void reregister();
    void sweep();
    void every(boost::asio::steady_timer& timer, std::chrono::milliseconds period, void (RedisPresence::*fn)());
    void beat() { heartbeat(false); }

    std::shared_ptr<RedisConnection> redis_;
    std::string nodeUid_, nodeKey_, usersKey_, windowArg_;
    Options options_;
    RedisScript change_, timer_, heartbeat_, sweep_, reregister_, told_;
    boost::asio::steady_timer heartbeatTimer_, sweepTimer_;
    std::atomic<bool> available_{false};
    bool closed_ = false; // close() was called: no heartbeat, sweep or re-registration from here on
    std::atomic<std::uint64_t> reregistrations_{0};
    std::unordered_map<std::string, int> counts_; // this node's sockets per user (> 0 only)
    DecisionHandler handler_;
};

} // namespace parley::cluster
