#pragma once

#include "Member.hpp"
#include "Workers.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace parley::bench {

/// Starts members on one io thread with at most `limit` handshakes in flight, starting the next
/// as each one settles (ready or failed). Used only on its own thread.
class Launcher {
public:
    void launch(std::vector<Member*> members, std::size_t limit);

private:
    void pump();

    std::vector<Member*> queue_;
    std::size_t next_ = 0;
    std::size_t inFlight_ = 0;
    std::size_t limit_ = 0;
};

/// Every member of a run, spread over the io threads (member i on thread i % threads).
class Fleet {
public:
    Fleet(Workers& workers, RunShared& shared);
    ~Fleet();

    const std::vector<std::unique_ptr<Member>>& members() const noexcept { return members_; }
    std::size_t size() const noexcept { return members_.size(); }

    /// Starts (or restarts, dropping current connections) every member, `concurrency` handshakes
    /// in flight at once across all threads (0: all at once). Returns at once.
    void startAll(std::size_t concurrency);

    /// Waits until every member is ready or failed, or the deadline. True if all are ready.
    bool waitSettled(std::int64_t deadlineNs) const;

    /// Graceful close of every member, then waits up to `timeout` for the connections to end;
    /// the stragglers are cut. Returns how many had to be cut.
    std::size_t closeAll(std::chrono::milliseconds timeout);

    /// Runs fn(thread, members of that thread) on each io thread.
    void onEachThread(std::function<void(std::size_t, const std::vector<Member*>&)> fn);

private:
    Workers& workers_;
    RunShared& shared_;
    std::vector<std::unique_ptr<Member>> members_;
    std::vector<std::vector<Member*>> byThread_;
    std::vector<std::unique_ptr<Launcher>> launchers_;
};

} // namespace parley::bench
