#include "store/StoreExecutor.hpp"

#include <spdlog/spdlog.h>

namespace parley::store {

StoreExecutor::StoreExecutor(std::unique_ptr<Store> store) : store_(std::move(store)) {
    thread_ = std::thread([this] { loop(); });
}

StoreExecutor::~StoreExecutor() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
}

void StoreExecutor::enqueue(Job job) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(job));
    }
    cv_.notify_one();
}

void StoreExecutor::loop() {
    std::deque<Job> batch;
    while (true) {
        {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty() && stopping_) return;
            batch.swap(queue_); // everything queued so far is one batch: the group commit
        }
        runBatch(batch);
        batch.clear();
    }
}

void StoreExecutor::runBatch(std::deque<Job>& batch) {
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
        std::string commitError;
        try {
            store_->begin();
            for (std::size_t j = i; j < end; ++j) {
                store_->savepoint();
                try {
                    batch[j].execute(*store_);
                    store_->releaseSavepoint();
                } catch (const std::exception& e) {
                    // This write failed alone (its own error is recorded in its job)...
                    try {
                        store_->rollbackToSavepoint();
                        store_->releaseSavepoint();
                    } catch (const std::exception&) {
                        // ...unless the database rolled the whole transaction back (disk full,
                        // I/O error): then the batch fails, with the real cause.
                        throw StoreError(e.what());
                    }
                }
            }
            store_->commit();
        } catch (const std::exception& e) {
            commitError = e.what();
            spdlog::error("store commit failed: {}", commitError);
            try {
                store_->rollback();
            } catch (const std::exception&) {
            }
        }
        for (std::size_t j = i; j < end; ++j) batch[j].complete(commitError);
        i = end;
    }
}

} // namespace parley::store
