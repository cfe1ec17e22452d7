#pragma once

#include "Member.hpp"
#include "Workers.hpp"

#include <boost/asio/steady_timer.hpp>

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

/// Starts members of one io thread at given times (steady clock, ascending): one timer, woken at
/// most once a millisecond, that starts every member then due. Used only on its own thread.
class PacedLauncher {
public:
    explicit PacedLauncher(boost::asio::io_context& ctx) : timer_(ctx) {}
    void launch(std::vector<std::pair<std::int64_t, Member*>> due);

private:
    void arm();

    boost::asio::steady_timer timer_;
    std::vector<std::pair<std::int64_t, Member*>> queue_;
    std::size_t next_ = 0;
    std::int64_t lastWakeNs_ = 0;
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

    /// Starts every member at its own time: member i of N at startNs + spanNs x i / N (a connect
    /// storm at a steady pace), whatever the others' handshakes are doing. Returns at once.
    void startPaced(std::int64_t startNs, std::int64_t spanNs);

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
    std::vector<std::unique_ptr<PacedLauncher>> paced_;
};

} // namespace parley::bench
