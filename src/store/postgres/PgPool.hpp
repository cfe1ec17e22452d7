#pragma once

#include "store/Metrics.hpp"
#include "store/postgres/PgConnection.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
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
/// Ordered jobs (submitOrdered) go to the connection their key names, and only to it: they wait
/// in its queue, first in first out, while it reconnects (until their deadline), and are sent
/// in that order, so they commit in the order submitted. They are group-committed: while one
/// batch of them is in flight on a connection, those queued after it wait and then go out
/// together as the next batch (one transaction, up to maxBatch jobs): one WAL flush for all.
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
    /// Runs the job on connection `key % size`, after every ordered job submitted there before
    /// it, batched with others (so its statements must not fail for a reason of its own: a
    /// failure fails the whole batch).
    void submitOrdered(std::size_t key, std::unique_ptr<PgJob> job);
    /// Closes every connection and fails every job with Unavailable; nothing runs afterwards.
    void stop();

private:
    struct Slot {
        explicit Slot(boost::asio::io_context& ioc) : retry(ioc) {}
        std::shared_ptr<PgConnection> connection;
        boost::asio::steady_timer retry;
        std::chrono::milliseconds backoff{0};
        std::deque<std::unique_ptr<PgJob>> ordered; ///< waiting for this connection, in order
    };

    void open(Slot& slot);
    void scheduleRetry(Slot& slot);
    Slot& slotOf(const PgConnection& connection);
    PgConnection* pick() const;
    bool down() const;
    void dispatch();
    void sendOrdered(Slot& slot);
    void failQueued();
    void fail(PgJob& job);
    void armSweep();
    void sweep();

    void connected(PgConnection& connection) override;
    void connectFailed(PgConnection& connection, const std::string& why) override;
    void lost(PgConnection& connection, const std::string& why) override;
    void answered(PgConnection& connection, std::size_t committedWrites,
                  std::chrono::steady_clock::duration took) override;
    void finished(PgConnection& connection, PgJob& job, PgReply& reply) override;

    boost::asio::io_context& ioc_;
    PgPoolOptions options_;
    std::vector<std::unique_ptr<Slot>> slots_;
    std::deque<std::unique_ptr<PgJob>> queue_;
    boost::asio::steady_timer sweep_;
    bool lastConnectFailed_ = false;
    bool stopped_ = false;
};

} // namespace parley::store
