#pragma once

#include "store/postgres/PgJob.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/container/small_vector.hpp>

#include <libpq-fe.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>

namespace parley::store {

/// Jobs sent together: one pipeline sync, so one transaction (most often just one job).
using PgBatch = boost::container::small_vector<std::unique_ptr<PgJob>, 1>;

/// One non-blocking libpq connection driven by an io_context, in pipeline mode: jobs are sent
/// as soon as they are given (several may be in flight) and answered in order. The socket is
/// used only to wait for readiness; libpq does every read and write.
///
/// Lifecycle: connect() -> Owner::connected (every statement prepared, synchronous_commit on)
/// or Owner::connectFailed; later Owner::lost when the server or the network goes away. Each
/// job ends in exactly one Owner::finished, with its reply or Unavailable (a job in flight
/// when the connection dies may or may not have committed: it is never sent again). The server
/// runs what one connection sends in order, so transactions sent on one connection commit in
/// the order they were sent.
///
/// Not thread-safe: every call, and every callback, is on the io_context's one thread. Async
/// waits keep the object alive (shared_from_this); after close() they do nothing.
class PgConnection : public std::enable_shared_from_this<PgConnection> {
public:
    class Owner {
    public:
        virtual void connected(PgConnection& connection) = 0;
        virtual void connectFailed(PgConnection& connection, const std::string& why) = 0;
        /// The connection broke; its jobs have been finished with Unavailable.
        virtual void lost(PgConnection& connection, const std::string& why) = 0;
        /// The reply of one run() or runBatch() is in, `took` after it was sent, just before its
        /// `jobs` are finished: `committedWrites` of them are writes that committed (in one
        /// transaction).
        virtual void answered(PgConnection& connection, PgBatch& jobs, std::size_t committedWrites,
                              std::chrono::steady_clock::duration took) = 0;
        /// A job is done (or failed); the owner runs its finish.
        virtual void finished(PgConnection& connection, PgJob& job, PgReply& reply) = 0;

    protected:
        ~Owner() = default;
    };

    PgConnection(boost::asio::io_context& ioc, Owner& owner, std::string uri, std::chrono::milliseconds connectTimeout);
    ~PgConnection();
    PgConnection(const PgConnection&) = delete;
    PgConnection& operator=(const PgConnection&) = delete;

    /// Starts connecting (with the timeout given).
    void connect();
    /// Sends the job at once (the connection must be ready()).
    void run(std::unique_ptr<PgJob> job);
    /// Sends the jobs at once, in this order, as one transaction: their statements before one
    /// sync point, so that one commit (one WAL flush) carries them all. A statement that fails
    /// rolls back every job of the batch, and each gets the failure: only jobs whose statements
    /// cannot fail for a reason of their own belong together.
    void runBatch(PgBatch jobs);
    /// Finishes the jobs in flight with Unavailable (through Owner::finished) and closes the
    /// socket; no Owner callback follows.
    void close();

    bool ready() const { return state_ == State::Ready; }
    /// The runs and batches sent and not yet answered.
    std::size_t inFlight() const { return inFlight_.size(); }
    /// The batches (runBatch) among them.
    std::size_t batchesInFlight() const;
    /// The deadline of the oldest job in flight (max() when none).
    std::chrono::steady_clock::time_point oldestDeadline() const;

private:
    enum class State { Idle, Connecting, Preparing, Ready, Closed };

    // Jobs sent with one sync, or the preparation (no jobs), and the results received so far.
    struct Sent {
        PgBatch jobs;
        std::size_t statements = 0;
        std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
        std::chrono::steady_clock::time_point sentAt{};
        std::vector<PgResultPtr> results;
        PgResultPtr failed;
        bool batch = false; ///< sent by runBatch
    };

    void pollConnect();
    void adoptSocket();
    void prepareStatements();
    void send(Sent entry);
    bool sendCalls(const PgJob& job);
    bool flush();
    void waitRead();
    void waitWrite();
    void onReadable();
    bool drainResults();
    void accept(PgResultPtr result);
    void complete();
    void fail(const std::string& why);
    void finishAllUnavailable();
    std::string lastError() const;

    boost::asio::io_context& ioc_;
    Owner& owner_;
    std::string uri_;
    std::chrono::milliseconds connectTimeout_;
    PGconn* conn_ = nullptr;
    boost::asio::posix::stream_descriptor socket_;
    boost::asio::steady_timer connectTimer_;
    State state_ = State::Idle;
    std::deque<Sent> inFlight_;
    bool readWaiting_ = false;
    bool writeWaiting_ = false;
};

} // namespace parley::store
