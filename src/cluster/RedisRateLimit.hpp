#pragma once

#include "cluster/Redis.hpp"
#include "cluster/RedisScript.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/result.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace parley::cluster {

/// The chat's message rate limit shared by every node of a cluster: a sliding window of
/// `limit` sends per `windowMs` per user, counted in Redis.
///
/// Each user has a sorted set `parley:rl:<userId>` of the sends in the window, scored by
/// Redis's clock (so the nodes' clocks never disagree about the window) and named
/// `<nodeUid>:<ticket>` (unique in the cluster). One script, atomically: drop the members that
/// left the window (score <= now - window: an event exactly one window old has left it), count,
/// admit and ZADD when there is room, PEXPIRE the set by one window; it answers {admitted,
/// retryAfterMs}. A refund is the ZREM of the send's member.
///
/// Redis away or slow (no answer within `answerWithin`): acquire() answers an error and the
/// caller decides alone (the node's in-memory limiter); a send is never refused because Redis
/// is down. When the slow answer comes after all and admitted the send, the slot is given back:
/// the send was counted elsewhere.
///
/// Threads: the connection's io_context (the home thread) for everything but available().
class RedisRateLimit : public std::enable_shared_from_this<RedisRateLimit> {
public:
    struct Options {
        std::size_t limit = 10;
        std::int64_t windowMs = 10'000;
        std::chrono::milliseconds answerWithin{250};
    };
    struct Answer {
        bool admitted = false;
        std::int64_t retryAfterMs = 0;
        std::uint64_t ticket = 0; ///< the send's slot in Redis (refund()); nonzero
    };
    /// An error: Redis away or too slow; nothing is counted in Redis for this send.
    using Done = std::function<void(boost::system::result<Answer>)>;

    /// `home` is the io_context of `redis`.
    static std::shared_ptr<RedisRateLimit> create(boost::asio::io_context& home, std::shared_ptr<RedisConnection> redis,
                                                  std::string nodeUid, Options options);

    /// The connection's state changed (its onState handler must call this).
    void onState(bool connected);
    /// Whether acquire() may succeed now (any thread): false when the connection is down.
    bool available() const noexcept { return available_.load(std::memory_order_relaxed); }

    void acquire(std::string_view userId, Done done);
    void refund(std::string_view userId, std::uint64_t ticket);
    /// Answers every acquire() still waiting with an error; stops the timer.
    void close();

private:
    struct Waiting {
        std::uint64_t ticket;
        std::string userId;
        std::chrono::steady_clock::time_point deadline;
        Done done; // empty once answered (by the deadline)
    };

    RedisRateLimit(boost::asio::io_context& home, std::shared_ptr<RedisConnection> redis, std::string nodeUid,
                   Options options);
    std::string key(std::string_view userId) const;
    std::string member(std::uint64_t ticket) const;
    void onReply(std::uint64_t ticket, boost::system::result<RedisReply> reply);
    void armTimer();
    void onDeadline();

    std::shared_ptr<RedisConnection> redis_;
    std::string nodeUid_;
    Options options_;
    std::string limitArg_, windowArg_;
    RedisScript script_;
    boost::asio::steady_timer timer_;
    bool timerArmed_ = false;
    std::atomic<bool> available_{false};
    std::uint64_t nextTicket_ = 0;
    std::deque<Waiting> waiting_; // in the order asked: deadlines ascend
};

} // namespace parley::cluster
