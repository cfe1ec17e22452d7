#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace parley::store {

/// Checkpoints a WAL database on a thread of its own, so that copying the log's pages into the
/// database file, and syncing it, does not hold up the commits (and acks) behind it.
///
/// SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold, on the
/// writer's connection: that commit's writes, and every write queued behind them, wait for a
/// few hundred page copies and a sync of the database file. With the automatic checkpoint off,
/// SqliteStore asks this class for a checkpoint instead; it opens a connection of its own and
/// runs a PASSIVE one, which copies what it can without taking the writer's lock, while the
/// writer keeps committing.
///
/// A log that keeps being written is never wholly copied by a concurrent checkpoint, and SQLite
/// starts writing the log from its beginning again only once it has been. So after each
/// checkpoint here, catchUpWanted() turns true, and the writer, when it has nothing queued,
/// looks at lastProgress(): if the checkpoint left a few pages (those committed meanwhile), it
/// copies them itself with a PASSIVE checkpoint on its own connection, and its next write
/// restarts the log; if it left more, it asks for another pass here, which leaves fewer. The
/// log's size therefore stays near the threshold, and the writer never copies much.
///
/// The connection copies through pacedCheckpointVfs(), so the copy yields the CPU and the disk
/// to the commits every few dozen pages.
class WalCheckpointer {
public:
    /// `path` and `vfs` as the writer opened them. `beforeCheckpoint`, when set, runs on the
    /// checkpointer's thread before each checkpoint (tests use it to hold one in progress).
    WalCheckpointer(std::string path, const char* vfs, std::function<void()> beforeCheckpoint = {});
    ~WalCheckpointer(); ///< finishes a checkpoint in progress, then stops
    WalCheckpointer(const WalCheckpointer&) = delete;
    WalCheckpointer& operator=(const WalCheckpointer&) = delete;

    /// Asks for a checkpoint; returns at once. Requests made while one runs are merged into
    /// one more checkpoint after it.
    void request();

    /// True once a checkpoint has finished since the last takeCatchUp().
    bool catchUpWanted() const { return catchUp_.load(std::memory_order_acquire); }
    void takeCatchUp() { catchUp_.store(false, std::memory_order_release); }

    /// Checkpoints finished, successful or not (for tests and diagnostics).
    std::uint64_t completed() const { return completed_.load(std::memory_order_acquire); }

    /// The last checkpoint's outcome: the log's length when it ran and how much of it is now
    /// in the database file (both in frames), or nullopt if it failed.
    struct Progress {
        int logFrames = 0;
        int copiedFrames = 0;
    };
    std::optional<Progress> lastProgress() const;

private:
    void loop();
    void checkpointOnce();

    std::string path_;
    const char* vfs_;
    std::function<void()> beforeCheckpoint_;
    std::mutex mutex_;
    std::condition_variable cv_;
    // Idle: nothing asked since the thread last took a request (a checkpoint may be running).
    // Requested: a checkpoint is wanted; the requests made meanwhile are this one. Stopping: the
    // destructor asked the thread to end, which it does before any further checkpoint.
    enum class Phase { Idle, Requested, Stopping };
    Phase phase_ = Phase::Idle;
    bool failing_ = false; // the last checkpoint failed (logged once until one succeeds)
    std::atomic<bool> catchUp_{false};
    std::atomic<std::uint64_t> completed_{0};
    // The last checkpoint's Progress, packed (log frames in the high half), or kFailed.
    static constexpr std::uint64_t kFailed = ~std::uint64_t{0};
    std::atomic<std::uint64_t> progress_{kFailed};
    std::thread thread_;
};

} // namespace parley::store
