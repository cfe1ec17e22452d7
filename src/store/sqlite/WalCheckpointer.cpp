#include "store/sqlite/WalCheckpointer.hpp"

#include "store/sqlite/Synchronous.hpp"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <utility>

namespace parley::store {

WalCheckpointer::WalCheckpointer(std::string path, const char* vfs, std::function<void()> beforeCheckpoint)
    : path_(std::move(path)), vfs_(vfs), beforeCheckpoint_(std::move(beforeCheckpoint)) {
    thread_ = std::thread([this] { loop(); });
}

WalCheckpointer::~WalCheckpointer() {
    {
        std::lock_guard lock(mutex_);
        phase_ = Phase::Stopping;
    }
    cv_.notify_one();
    thread_.join();
}

void WalCheckpointer::request() {
    {
        std::lock_guard lock(mutex_);
        if (phase_ != Phase::Idle) return;
        phase_ = Phase::Requested;
    }
    cv_.notify_one();
}

void WalCheckpointer::loop() {
    while (true) {
        {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [this] { return phase_ != Phase::Idle; });
            if (phase_ == Phase::Stopping) return;
            phase_ = Phase::Idle;
        }
        checkpointOnce();
        // The catch-up first: whoever sees the count move (the writer's housekeeping after its
        // next commit, a test) must find the catch-up wanted too. The other way round, a commit
        // in between found the count moved and no catch-up, and asked for no further pass.
        catchUp_.store(true, std::memory_order_release);
        completed_.fetch_add(1, std::memory_order_acq_rel);
    }
}

std::optional<WalCheckpointer::Progress> WalCheckpointer::lastProgress() const {
    const std::uint64_t packed = progress_.load(std::memory_order_acquire);
    if (packed == kFailed) return std::nullopt;
    return Progress{static_cast<int>(packed >> 32), static_cast<int>(packed & 0xffffffffu)};
}

void WalCheckpointer::checkpointOnce() {
    if (beforeCheckpoint_) beforeCheckpoint_();
    // A connection per checkpoint: a few hundred microseconds a few times a second, and it can
    // never be left stale by the writer's reopening after a fault (a read-only mount, a full disk).
    sqlite3* db = nullptr;
    int code = sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, vfs_);
    int logFrames = 0;
    int copiedFrames = 0;
    bool notFull = false;
    if (code == SQLITE_OK) {
        // Closing the last connection (the writer may be reopening) must not delete the WAL,
        // which a read-only mount needs; and the copy must be synced before the log restarts.
        int persistWal = 1;
        sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persistWal);
        code = sqlite3_exec(db, "PRAGMA synchronous = FULL", nullptr, nullptr, nullptr);
        // Never copy without syncing the database file (the log restarts over what was copied).
        if (code == SQLITE_OK && synchronousLevel(db) != kSynchronousFull) {
            code = SQLITE_MISUSE;
            notFull = true;
        }
        if (code == SQLITE_OK)
            code = sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_PASSIVE, &logFrames, &copiedFrames);
    }
    const bool ok = code == SQLITE_OK || code == SQLITE_BUSY; // BUSY: another checkpoint is running
    progress_.store(ok ? static_cast<std::uint64_t>(static_cast<std::uint32_t>(logFrames)) << 32 |
                             static_cast<std::uint32_t>(copiedFrames)
                       : kFailed,
                    std::memory_order_release);
    if (ok) {
        if (failing_) spdlog::info("sqlite: checkpoints of {} work again", path_);
        failing_ = false;
        spdlog::debug("sqlite: checkpoint of {}: {} of {} log frames in the database", path_, copiedFrames, logFrames);
    } else if (!failing_) {
        failing_ = true;
        spdlog::warn("sqlite: checkpoint of {} failed: {}", path_,
                     notFull ? "its connection is not on synchronous=FULL"
                     : db    ? sqlite3_errmsg(db)
                             : sqlite3_errstr(code));
    }
    sqlite3_close_v2(db);
}

} // namespace parley::store
