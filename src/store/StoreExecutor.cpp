#include "store/StoreExecutor.hpp"

#include <spdlog/spdlog.h>

namespace parley::store {

StoreExecutor::StoreExecutor(std::unique_ptr<Store> store, Options options)
    : store_(std::move(store)), options_(options), pacer_(options.pacing) {
    thread_ = std::thread([this] { loop(); });
}

StoreExecutor::~StoreExecutor() {
    {
        std::lock_guard lock(mutex_);
        phase_ = Phase::Stopping;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
}

void StoreExecutor::enqueue(Job job) {
    const bool paced = options_.pacing.maxDelay.count() > 0;
    // Outside the lock. The pacer needs the time, and so does the write's timing.
    const auto now = paced || options_.metrics ? CommitPacer::Clock::now() : CommitPacer::Clock::time_point{};
    job.queuedAt = now;
    bool wake = true;
    {
        std::lock_guard lock(mutex_);
        // The store thread stops once the queue is empty after Stopping: a job queued later would
        // never complete (nor its callback run).
        PARLEY_ASSERT(phase_ != Phase::Stopping, "store work queued while the StoreExecutor is being destroyed");
        if (paced) {
            if (queue_.empty()) oldestQueuedAt_ = now;
            if (job.mayWait) pacer_.arrived(now);
        }
        if (!job.mayWait) urgentQueued_ = true;
        queue_.push_back(std::move(job));
        // A write does not interrupt the store thread's wait for company: that wait is for it.
        wake = phase_ != Phase::Waiting || urgentQueued_ || queue_.size() >= CommitPacer::kFullBatch;
    }
    if (wake) cv_.notify_one();
}

void StoreExecutor::loop() {
    std::deque<Job> batch;
    while (true) {
        {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [this] { return phase_ == Phase::Stopping || !queue_.empty(); });
            if (queue_.empty() && phase_ == Phase::Stopping) return;
            waitForCompany(lock);
            PARLEY_ASSERT(batch.empty(), "the previous batch was completed and cleared");
            batch.swap(queue_); // everything queued so far is one batch: the group commit
            urgentQueued_ = false;
        }
        runBatch(batch);
        batch.clear();
        bool idle = false;
        {
            std::lock_guard lock(mutex_);
            idle = queue_.empty();
        }
        store_->maintain(idle); // after the results: housekeeping never delays one
    }
}

void StoreExecutor::waitForCompany(std::unique_lock<std::mutex>& lock) {
    if (options_.pacing.maxDelay.count() <= 0 || urgentQueued_ || phase_ == Phase::Stopping) return;
    const auto at = pacer_.commitAt(oldestQueuedAt_);
    if (at <= oldestQueuedAt_) return;
    phase_ = Phase::Waiting;
    cv_.wait_until(lock, at, [this] {
        return phase_ == Phase::Stopping || urgentQueued_ || queue_.size() >= CommitPacer::kFullBatch;
    });
    // The destructor may have moved it on to Stopping meanwhile, which must stay.
    if (phase_ == Phase::Waiting) phase_ = Phase::Running;
}

void StoreExecutor::runBatch(std::deque<Job>& batch) {
    // (thread_ was assigned before any job could be queued: enqueue's lock orders the two.)
    PARLEY_ASSERT(std::this_thread::get_id() == thread_.get_id(), "store work runs on the store thread only");
    // Reads and writes keep their queue order. Consecutive writes share one transaction.
    std::size_t i = 0;
    while (i < batch.size()) {
        if (!batch[i].isWrite) {
            try {
                batch[i].execute(*store_);
            } catch (const std::exception& e) {
                spdlog::error("store read failed: {}", e.what());
            }
            batch[i].complete({});
            ++i;
            continue;
        }
        std::size_t end = i;
        while (end < batch.size() && batch[end].isWrite) ++end;
        const std::string commitError = runWrites(batch, i, end);
        if (options_.metrics) { // then enqueue() stamped every job
            const auto now = std::chrono::steady_clock::now();
            for (std::size_t j = i; j < end; ++j) options_.metrics->storeWriteSeconds.observe(now - batch[j].queuedAt);
        }
        for (std::size_t j = i; j < end; ++j) batch[j].complete(commitError);
        i = end;
    }
}

std::string StoreExecutor::runWrites(std::deque<Job>& batch, std::size_t first, std::size_t last) {
    // Each write runs in its own savepoint, so that one failing does not undo the others. A write
    // alone in its transaction needs none: rolling the transaction back undoes exactly that write,
    // and a savepoint is not free (two statements, and a copy of every page the write changes).
    PARLEY_ASSERT(first < last && last <= batch.size(), "runWrites takes a non-empty range of the batch");
    const bool isolate = last - first > 1;
    try {
        store_->begin();
        for (std::size_t j = first; j < last; ++j) {
            if (isolate) store_->savepoint();
            try {
                batch[j].execute(*store_);
                if (isolate) store_->releaseSavepoint();
            } catch (const std::exception& e) {
                // This write failed alone (its own error is recorded in its job)...
                try {
                    if (isolate) {
                        store_->rollbackToSavepoint();
                        store_->releaseSavepoint();
                    } else {
                        store_->rollback();
                    }
                } catch (const std::exception&) {
                    // ...unless the database rolled the whole transaction back (disk full,
                    // I/O error): then the batch fails, with the real cause.
                    throw StoreError(e.what());
                }
                if (!isolate) return {}; // rolled back: nothing is left to commit
            }
        }
        const auto committing = std::chrono::steady_clock::now();
        store_->commit();
        noteCommit(std::chrono::steady_clock::now() - committing, last - first);
        return {};
    } catch (const std::exception& e) {
        spdlog::error("store commit failed: {}", e.what());
        try {
            store_->rollback();
        } catch (const std::exception&) {}
        return e.what();
    }
}

void StoreExecutor::noteCommit(std::chrono::steady_clock::duration took, std::size_t writes) {
    if (options_.metrics) {
        options_.metrics->storeCommits.fetch_add(1, std::memory_order_relaxed);
        options_.metrics->storeCommittedWrites.fetch_add(writes, std::memory_order_relaxed);
        options_.metrics->storeCommitSeconds.observe(took);
    }
    if (options_.slowCommit.count() > 0 && took >= options_.slowCommit) {
        ++slowSinceWarning_;
        slowestSinceWarning_ = std::max(slowestSinceWarning_, took);
    }
    if (slowSinceWarning_ == 0) return;
    // The first slow commit is told at once; later ones at most once per interval, counted, and
    // told at the first commit after it, slow or not, so that none goes unmentioned for long.
    const auto now = std::chrono::steady_clock::now();
    if (lastSlowWarning_ && now - *lastSlowWarning_ < options_.slowCommitWarningEvery) return;
    using Ms = std::chrono::duration<double, std::milli>;
    if (slowSinceWarning_ == 1)
        spdlog::warn("store: a commit took {:.1f} ms (writing and syncing the WAL); every ack waits for its commit",
                     Ms(slowestSinceWarning_).count());
    else
        spdlog::warn("store: {} commits took {:.0f} ms or more since the last warning, the slowest {:.1f} ms "
                     "(writing and syncing the WAL); every ack waits for its commit",
                     slowSinceWarning_, Ms(options_.slowCommit).count(), Ms(slowestSinceWarning_).count());
    lastSlowWarning_ = now;
    slowSinceWarning_ = 0;
    slowestSinceWarning_ = {};
}

} // namespace parley::store
