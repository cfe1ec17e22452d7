#pragma once

#include "core/Assert.hpp"
#include "store/CommitPacer.hpp"
#include "store/Metrics.hpp"
#include "store/Store.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace parley::store {

/// Runs store work on a dedicated thread and posts each result back to the caller's
/// io_context, so no network thread ever blocks on the database.
///
/// Writes are group-committed: the thread takes every write queued so far, runs them in ONE
/// transaction (each inside its own savepoint, so one failing write does not undo the
/// others), commits, and only then completes them. A completed write is therefore durable.
/// Reads run outside write transactions, in queue order with the writes. While writes arrive
/// fast, a batch may wait a little for more of them (Options::pacing, CommitPacer).
class StoreExecutor {
public:
    struct Options {
        /// How long a batch may wait for more writes to share its commit, and when it does
        /// (CommitPacer). The default delay 0 commits every batch at once.
        CommitPacer::Options pacing{};
        /// Counts commits and the writes they carried, and times both (parley_store_*); may be
        /// null.
        Metrics* metrics = nullptr;
        /// A commit that takes at least `slowCommit` is logged as a warning, at most one line per
        /// `slowCommitWarningEvery`, which counts the slow commits it stands for. Every ack waits
        /// for its commit, so a stalling disk is the first thing an operator should hear of (the
        /// sync of a healthy disk takes well under a millisecond). 0: never.
        std::chrono::microseconds slowCommit{std::chrono::milliseconds(100)};
        std::chrono::milliseconds slowCommitWarningEvery{10000};
    };

    /// `error` is empty on success, else the StoreError's text.
    template <class T>
    using Callback = std::function<void(std::string error, T value)>;

    explicit StoreExecutor(std::unique_ptr<Store> store) : StoreExecutor(std::move(store), Options{}) {}
    StoreExecutor(std::unique_ptr<Store> store, Options options);
    ~StoreExecutor(); ///< finishes queued work, then stops
    StoreExecutor(const StoreExecutor&) = delete;
    StoreExecutor& operator=(const StoreExecutor&) = delete;

    /// Runs fn(store) on the store thread; `done(error, result)` runs on `ctx`.
    template <class T>
    void read(boost::asio::io_context& ctx, std::function<T(Store&)> fn, Callback<T> done) {
        enqueue(makeJob<T>(false, ctx, std::move(fn), std::move(done)));
    }
    template <class T>
    void write(boost::asio::io_context& ctx, std::function<T(Store&)> fn, Callback<T> done) {
        enqueue(makeJob<T>(true, ctx, std::move(fn), std::move(done)));
    }

    /// Runs fn(store) on the store thread and waits for it (start-up and CLI only).
    template <class T>
    T runSync(std::function<T(Store&)> fn);

private:
    // execute() runs on the store thread (inside a savepoint for writes); complete() runs there
    // after the transaction's outcome is known and posts the caller's callback.
    struct Job {
        bool isWrite = false;
        bool mayWait = false; // a write whose commit may wait for company (not runSync's)
        std::function<void(Store&)> execute;
        std::function<void(const std::string& commitError)> complete;
        std::chrono::steady_clock::time_point queuedAt{}; // set when metrics are kept
    };

    template <class T>
    Job makeJob(bool isWrite, boost::asio::io_context& ctx, std::function<T(Store&)> fn, Callback<T> done);
    void enqueue(Job job);
    void loop();
    // With the lock held: waits, if the pacer says so, for more writes to join the batch.
    void waitForCompany(std::unique_lock<std::mutex>& lock);
    void runBatch(std::deque<Job>& batch);
    // Runs the writes batch[first, last) in one transaction; returns the commit's error (empty
    // when it committed, or when its only write failed alone).
    std::string runWrites(std::deque<Job>& batch, std::size_t first, std::size_t last);
    // Times a commit that succeeded (metrics) and warns of a slow one (store thread).
    void noteCommit(std::chrono::steady_clock::duration took, std::size_t writes);

    std::unique_ptr<Store> store_;
    Options options_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<Job> queue_;
    CommitPacer pacer_;
    CommitPacer::Clock::time_point oldestQueuedAt_{}; // when the oldest job in queue_ was queued
    bool urgentQueued_ = false;                       // queue_ holds a job that never waits (a read, runSync)
    // What the store thread is doing, as enqueue() needs to know it. Running: taking or running
    // batches. Waiting: in waitForCompany, where a write does not wake it. Stopping: the
    // destructor asked it to finish the queue and end; nothing may be queued any more.
    enum class Phase { Running, Waiting, Stopping };
    Phase phase_ = Phase::Running;
    // Slow commits (store thread only): when the last warning was logged, and what came since.
    std::optional<std::chrono::steady_clock::time_point> lastSlowWarning_;
    std::uint64_t slowSinceWarning_ = 0;
    std::chrono::steady_clock::duration slowestSinceWarning_{};
    std::thread thread_;
};

} // namespace parley::store

#include "store/StoreExecutor.ipp"
