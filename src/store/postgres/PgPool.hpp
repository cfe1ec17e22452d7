#pragma once

#include "store/Metrics.hpp"
#include "store/postgres/PgConnection.hpp"
#include "store/postgres/PgPacer.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace parley::store {

struct PgPoolOptions {
    std::string uri;
    std::size_t size = 4;
    /// Jobs one connection may have in flight (pipelined) once every connection is busy.
    std::size_t pipelineDepth = 4;
    /// The most ordered jobs (submitOrdered) one transaction carries.
    std::size_t maxBatch = 64;
    /// How long ordered jobs may wait for company while they arrive fast (PgPacer).
    PgPacer::Options pacing{};
    std::chrono::milliseconds connectTimeout{3000};
    /// Reconnection waits: the first retry after a failed attempt waits retryMin, each further
    /// one twice as long, up to retryMax. A connection that breaks is re-made at once.
    std::chrono::milliseconds retryMin{100};
    std::chrono::milliseconds retryMax{2000};
    Metrics* metrics = nullptr;
};

/// A fixed number of PgConnections and the jobs waiting for one. A job goes to an idle
/// connection, else is pipelined onto the least busy one (up to pipelineDepth), else waits in
/// the queue. Every job ends by its deadline: a queued one fails with Unavailable; a connection
/// whose oldest job passes it is dropped (its jobs fail with Unavailable) and re-made.
///
/// Ordered jobs (submitOrdered) wait in one queue of their own and go out in batches: the
/// statements of up to maxBatch of them and one sync, so one transaction and one WAL flush. A
/// batch goes to a connection with no batch in flight (the least busy one), once the pacer
/// (PgPacer) says waiting for more no longer pays. Jobs of one key commit in the order
/// submitted: a job whose key has a batch in flight stays queued, in its place, until that
/// batch is answered, so at most one connection carries a key's jobs at a time, and a later
/// job never overtakes an earlier one. Keys are told apart by a table of kKeySlots counters: two
/// keys on one counter only wait for each other more often. Across the processes that share the
/// database, a batch's first statement takes a transaction-level advisory lock per key, in
/// ascending order (no deadlock): the batches of one key commit one at a time cluster-wide, and
/// each statement of a batch sees every earlier commit of its keys (an append reads the chat's
/// last message to place the new one after it).
///
/// While no connection is up and the last attempt to make one failed, the database is "down":
/// jobs fail at once with Unavailable rather than waiting. Connections are re-made in the
/// background with backoff; when one succeeds, the others try again at once.
///
/// Not thread-safe: every call is on the io_context's one thread (the store's).
class PgPool final : private PgConnection::Owner {
public:
    PgPool(boost::asio::io_context& ioc, PgPoolOptions options);
    ~PgPool();
    PgPool(const PgPool&) = delete;
    PgPool& operator=(const PgPool&) = delete;

    /// Opens every connection and starts the deadline sweep.
    void start();
    /// Runs the job (its finish runs exactly once, on this thread).
    void submit(std::unique_ptr<PgJob> job);
    /// Runs the job after every ordered job of the same key submitted before it, batched with
    /// others (so its statements must not fail for a reason of its own: a failure fails the
    /// whole batch).
    void submitOrdered(std::size_t key, std::unique_ptr<PgJob> job);
    /// Closes every connection and fails every job with Unavailable; nothing runs afterwards.
    void stop();
    /// Runs `done` once no write job is queued or in flight (at once when none is).
    void whenWritesDone(std::function<void()> done);

private:
    struct Slot {
        explicit Slot(boost::asio::io_context& ioc) : retry(ioc) {}
        std::shared_ptr<PgConnection> connection;
        boost::asio::steady_timer retry;
        std::chrono::milliseconds backoff{0};
    };
    using Clock = std::chrono::steady_clock;
    static constexpr std::size_t kKeySlots = 4096;

    void open(Slot& slot);
    void scheduleRetry(Slot& slot);
    Slot& slotOf(const PgConnection& connection);
    PgConnection* pick() const;
    PgConnection* pickForBatch() const;
    bool down() const;
    void dispatch();
    void sendOrdered();
    PgBatch takeBatch();
    static std::unique_ptr<PgJob> lockJob(const PgBatch& batch);
    void armPace(Clock::time_point at);
    void releaseKey(PgJob& job);
    void failQueued();
    void fail(PgJob& job);
    // A write job's finish has run: the last one runs the waiters of whenWritesDone.
    void settled(const PgJob& job);
    void armSweep();
    void sweep();

    void connected(PgConnection& connection) override;
    void connectFailed(PgConnection& connection, const std::string& why) override;
    void lost(PgConnection& connection, const std::string& why) override;
    void answered(PgConnection& connection, PgBatch& jobs, std::size_t committedWrites,
                  std::chrono::steady_clock::duration took) override;
    void finished(PgConnection& connection, PgJob& job, PgReply& reply) override;

    boost::asio::io_context& ioc_;
    PgPoolOptions options_;
    std::vector<std::unique_ptr<Slot>> slots_;
    std::deque<std::unique_ptr<PgJob>> queue_;
    std::deque<std::unique_ptr<PgJob>> ordered_; // submitOrdered's jobs waiting, in order
    // Per key slot (orderKey % kKeySlots): the ordered jobs in flight.
    std::array<std::uint16_t, kKeySlots> keysInFlight_{};
    PgPacer pacer_;
    boost::asio::steady_timer paceTimer_;
    Clock::time_point paceAt_ = Clock::time_point::max(); // when paceTimer_ fires; max: not armed
    boost::asio::steady_timer sweep_;
    std::size_t writesOpen_ = 0; // write jobs submitted whose finish has not run
    std::vector<std::function<void()>> writesDone_;
    bool lastConnectFailed_ = false;
    bool stopped_ = false;
};

} // namespace parley::store
