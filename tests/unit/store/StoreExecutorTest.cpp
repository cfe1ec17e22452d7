#include "store/StoreExecutor.hpp"

#include "ChatFixture.hpp"
#include "StoreVfs.hpp"
#include "TempDir.hpp"
#include "store/sqlite/SqliteStore.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <future>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace parley::store {
namespace {

using test::TempDir;

// A message of chat c1, each one later than the one before.
Message nextMessage(std::string id, std::string clientId, std::string senderId = "a") {
    // Atomic: one test builds a message on the store thread.
    static std::atomic<std::int64_t> clock{1000};
    return Message{std::move(id), "c1", std::move(senderId), "body", std::move(clientId), ++clock};
}

// Every write's callback result, as the caller's io_context saw it.
struct Outcome {
    bool fired = false;
    std::string error;
    std::thread::id thread;
};

bool allFired(const std::vector<Outcome>& outcomes) {
    for (const auto& outcome : outcomes)
        if (!outcome.fired) return false;
    return true;
}

// Every test runs on both VFSes of the store (StoreVfs.hpp).
class StoreExecutorTest : public ::testing::TestWithParam<test::Vfs> {
protected:
    std::string dbPath() const { return (dir_.path() / "parley.db").string(); }
    SqliteStore::Options storeOptions() const { return test::optionsFor(GetParam()); }

    void SetUp() override {
        auto store = std::make_unique<SqliteStore>(dbPath(), storeOptions());
        test::createGroupChat(*store, "c1", {"a", "b"});
        executor_ = std::make_unique<StoreExecutor>(std::move(store));
    }

    // Runs the io_context on the test thread until `done` holds (or a generous deadline passes:
    // a hang fails the test instead of stalling the suite).
    template <class Predicate>
    bool runUntil(Predicate done) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (!done() && std::chrono::steady_clock::now() < deadline) ctx_.run_one_for(std::chrono::milliseconds(50));
        return done();
    }

    // Queues a write that inserts `message`, recording its outcome in `out`.
    void writeMessage(const Message& message, Outcome& out) {
        executor_->write<bool>(
            ctx_,
            [message](Store& store) {
                store.insertMessage(message);
                return true;
            },
            [&out](std::string error, bool) {
                out.fired = true;
                out.error = std::move(error);
                out.thread = std::this_thread::get_id();
            });
    }

    // Queues a write that inserts `message` and then throws "failed after writing".
    void writeThenFail(const Message& message, Outcome& out) {
        executor_->write<bool>(
            ctx_,
            [message](Store& store) -> bool {
                store.insertMessage(message);
                throw StoreError("failed after writing");
            },
            [&out](std::string error, bool) {
                out.fired = true;
                out.error = std::move(error);
            });
    }

    // Parks the store thread inside a read until the returned promise is fulfilled, so that
    // everything queued meanwhile is taken as one batch (one group commit).
    std::shared_ptr<std::promise<void>> holdStoreThread() {
        auto gate = std::make_shared<std::promise<void>>();
        auto entered = std::make_shared<std::promise<void>>();
        auto entry = entered->get_future();
        executor_->read<bool>(
            ctx_,
            [opened = gate->get_future().share(), entered](Store&) {
                entered->set_value();
                opened.wait();
                return true;
            },
            [](std::string, bool) {});
        entry.wait();
        return gate;
    }

    bool exists(const std::string& messageId) {
        return executor_->runSync<bool>([messageId](Store& store) { return store.findMessage(messageId).has_value(); });
    }

    TempDir dir_;
    boost::asio::io_context ctx_;
    // Keeps run_one_for waiting for callbacks posted from the store thread.
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ = boost::asio::make_work_guard(ctx_);
    std::unique_ptr<StoreExecutor> executor_;
};

TEST_P(StoreExecutorTest, TwoHundredWritesAllCommitAndCallBackOnTheCallersThread) {
    constexpr int kWrites = 200;
    std::vector<Outcome> outcomes(kWrites);
    boost::asio::post(ctx_, [&] {
        for (int i = 0; i < kWrites; ++i)
            writeMessage(nextMessage("m" + std::to_string(i), "k" + std::to_string(i)), outcomes[i]);
    });
    ASSERT_TRUE(runUntil([&] { return allFired(outcomes); }));
    for (int i = 0; i < kWrites; ++i) {
        EXPECT_EQ(outcomes[i].error, "") << i;
        EXPECT_EQ(outcomes[i].thread, std::this_thread::get_id()) << i;
    }

    // Checked through a second connection after the executor is gone: the rows are on disk.
    executor_.reset();
    SqliteStore reopened(dbPath(), storeOptions());
    for (int i = 0; i < kWrites; ++i) EXPECT_TRUE(reopened.findMessage("m" + std::to_string(i))) << i;
    EXPECT_EQ(reopened.unreadCount("c1", "nobody"), kWrites);
}

TEST_P(StoreExecutorTest, AFailingWriteInABatchFailsAlone) {
    auto gate = holdStoreThread();
    Outcome first, duplicate, partial, last;
    writeMessage(nextMessage("m1", "k1"), first);
    writeMessage(nextMessage("m2", "k1"), duplicate); // same chat, sender and clientId as m1
    // A write that changes something and then throws must leave nothing behind.
    writeThenFail(nextMessage("m3", "k3"), partial);
    writeMessage(nextMessage("m4", "k4"), last);
    gate->set_value();

    ASSERT_TRUE(runUntil([&] { return first.fired && duplicate.fired && partial.fired && last.fired; }));
    EXPECT_EQ(first.error, "");
    EXPECT_NE(duplicate.error.find("UNIQUE"), std::string::npos) << duplicate.error;
    EXPECT_EQ(partial.error, "failed after writing");
    EXPECT_EQ(last.error, "");
    EXPECT_TRUE(exists("m1"));
    EXPECT_FALSE(exists("m2"));
    EXPECT_FALSE(exists("m3"));
    EXPECT_TRUE(exists("m4"));
}

// A write alone in its transaction runs without a savepoint: failing after a change, it must
// still leave nothing behind, and the next write must start on a clean connection.
TEST_P(StoreExecutorTest, AWriteAloneThatFailsAfterWritingLeavesNothingBehind) {
    Outcome partial, next;
    writeThenFail(nextMessage("m1", "k1"), partial);
    ASSERT_TRUE(runUntil([&] { return partial.fired; }));
    EXPECT_EQ(partial.error, "failed after writing");
    EXPECT_FALSE(exists("m1"));

    writeMessage(nextMessage("m2", "k1"), next); // the same clientId is free
    ASSERT_TRUE(runUntil([&] { return next.fired; }));
    EXPECT_EQ(next.error, "");
    EXPECT_TRUE(exists("m2"));
}

TEST_P(StoreExecutorTest, ReadsSeeEarlierWritesInQueueOrder) {
    auto gate = holdStoreThread();
    std::vector<std::int64_t> counts;
    auto readCount = [&] {
        executor_->read<std::int64_t>(
            ctx_, [](Store& store) { return store.unreadCount("c1", "nobody"); },
            [&counts](std::string error, std::int64_t count) {
                EXPECT_EQ(error, "");
                counts.push_back(count);
            });
    };
    Outcome w1, w2;
    readCount();
    writeMessage(nextMessage("m1", "k1"), w1);
    readCount();
    writeMessage(nextMessage("m2", "k2"), w2);
    readCount();
    gate->set_value();

    ASSERT_TRUE(runUntil([&] { return counts.size() == 3; }));
    EXPECT_EQ(counts, (std::vector<std::int64_t>{0, 1, 2}));
    EXPECT_TRUE(w1.fired);
    EXPECT_TRUE(w2.fired);
}

TEST_P(StoreExecutorTest, AFailingReadReportsItsError) {
    bool fired = false;
    std::string error;
    std::int64_t value = -1;
    executor_->read<std::int64_t>(
        ctx_, [](Store&) -> std::int64_t { throw StoreError("read broke"); },
        [&](std::string e, std::int64_t v) {
            fired = true;
            error = std::move(e);
            value = v;
        });
    ASSERT_TRUE(runUntil([&] { return fired; }));
    EXPECT_EQ(error, "read broke");
    EXPECT_EQ(value, 0);
}

TEST_P(StoreExecutorTest, RunSyncReturnsTheValue) {
    int result = executor_->runSync<int>([](Store& store) {
        store.insertMessage(nextMessage("m1", "k1"));
        return 42;
    });
    EXPECT_EQ(result, 42);
    EXPECT_TRUE(exists("m1"));
}

TEST_P(StoreExecutorTest, RunSyncPropagatesStoreErrorAsAnException) {
    executor_->runSync<bool>([](Store& store) {
        store.insertMessage(nextMessage("m1", "k1"));
        return true;
    });
    EXPECT_THROW(executor_->runSync<bool>([](Store& store) {
        store.insertMessage(nextMessage("m2", "k1"));
        return true;
    }),
                 StoreError);
    // The failed call left nothing behind and the executor still works.
    EXPECT_FALSE(exists("m2"));
    EXPECT_TRUE(exists("m1"));
}

TEST_P(StoreExecutorTest, DestructorFinishesQueuedWork) {
    auto gate = holdStoreThread();
    std::vector<Outcome> outcomes(20);
    for (int i = 0; i < 20; ++i)
        writeMessage(nextMessage("m" + std::to_string(i), "k" + std::to_string(i)), outcomes[i]);
    gate->set_value();
    executor_.reset();
    ASSERT_TRUE(runUntil([&] { return allFired(outcomes); }));
    for (const auto& outcome : outcomes) EXPECT_EQ(outcome.error, "");
    SqliteStore reopened(dbPath(), storeOptions());
    EXPECT_EQ(reopened.unreadCount("c1", "nobody"), 20);
}

// =============================================================================================
// Faults of the database itself: the writes they hit fail (never acknowledged), and the
// executor recovers on its own once the fault is gone, without a new store or executor.
// =============================================================================================

// While alive, no file of this process may grow past `bytes` (RLIMIT_FSIZE): a write beyond it
// fails with EFBIG, which SQLite reports as an I/O error or a full disk, as on a full disk.
// SIGXFSZ is ignored meanwhile (its default action kills the process); the server ignores it too.
class FileSizeLimit {
public:
    explicit FileSizeLimit(rlim_t bytes) {
        previousHandler_ = std::signal(SIGXFSZ, SIG_IGN);
        EXPECT_EQ(getrlimit(RLIMIT_FSIZE, &previous_), 0);
        rlimit limited = previous_;
        limited.rlim_cur = bytes;
        EXPECT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
    }
    ~FileSizeLimit() {
        setrlimit(RLIMIT_FSIZE, &previous_);
        std::signal(SIGXFSZ, previousHandler_);
    }
    FileSizeLimit(const FileSizeLimit&) = delete;
    FileSizeLimit& operator=(const FileSizeLimit&) = delete;

private:
    rlimit previous_{};
    void (*previousHandler_)(int) = nullptr;
};

class StoreExecutorFaultTest : public StoreExecutorTest {
protected:
    // Commits land in the WAL, appended at its end: limiting files to its current size makes
    // the next commit fail.
    rlim_t walSize() const { return std::filesystem::file_size(dir_.path() / "parley.db-wal"); }

    Outcome writeAndWait(const Message& message) {
        Outcome out;
        writeMessage(message, out);
        EXPECT_TRUE(runUntil([&] { return out.fired; }));
        return out;
    }
};

TEST_P(StoreExecutorFaultTest, AWriteThatCannotReachTheDiskFailsAndTheNextOneWorksOnceItCan) {
    ASSERT_EQ(writeAndWait(nextMessage("m1", "k1")).error, "");
    {
        FileSizeLimit full(walSize());
        Outcome failed = writeAndWait(nextMessage("m2", "k2"));
        EXPECT_NE(failed.error, "") << "a write that could not be written was acknowledged";
    }
    // The same executor and store, no restart: the next write reopens the connection.
    EXPECT_EQ(writeAndWait(nextMessage("m3", "k3")).error, "");
    EXPECT_TRUE(exists("m1"));
    EXPECT_FALSE(exists("m2"));
    EXPECT_TRUE(exists("m3"));
    // The same clientId as the failed write is free: nothing of it was kept.
    EXPECT_EQ(writeAndWait(nextMessage("m2b", "k2")).error, "");

    executor_.reset();
    SqliteStore reopened(dbPath(), storeOptions());
    EXPECT_TRUE(reopened.findMessage("m1"));
    EXPECT_FALSE(reopened.findMessage("m2"));
    EXPECT_TRUE(reopened.findMessage("m3"));
    EXPECT_TRUE(reopened.findMessage("m2b"));
}

TEST_P(StoreExecutorFaultTest, AFaultAtCommitFailsEveryWriteOfTheGroupCommitAndNoneIsKept) {
    ASSERT_EQ(writeAndWait(nextMessage("m0", "k0")).error, "");
    constexpr int kWrites = 20;
    std::vector<Outcome> outcomes(kWrites);
    {
        FileSizeLimit full(walSize());
        auto gate = holdStoreThread();
        for (int i = 0; i < kWrites; ++i)
            writeMessage(nextMessage("m" + std::to_string(i + 1), "k" + std::to_string(i + 1)), outcomes[i]);
        gate->set_value();
        ASSERT_TRUE(runUntil([&] { return allFired(outcomes); }));
    }
    for (int i = 0; i < kWrites; ++i)
        EXPECT_NE(outcomes[i].error, "") << "write " << i << " was acknowledged but its batch could not commit";
    for (int i = 0; i < kWrites; ++i) EXPECT_FALSE(exists("m" + std::to_string(i + 1))) << i;
    EXPECT_TRUE(exists("m0"));
    EXPECT_EQ(writeAndWait(nextMessage("m21", "k21")).error, "");
    EXPECT_TRUE(exists("m21"));
}

// =============================================================================================
// Group commit that waits for company (Options::pacing): here the pacer always wants to wait,
// and for an hour, so whatever ends a wait early is the rule under test. A test that broke one
// of those rules would hang until the test's timeout instead of passing.
// =============================================================================================

class StoreExecutorPacedTest : public StoreExecutorTest {
protected:
    void SetUp() override {
        StoreExecutorTest::SetUp();
        restartPaced();
        // The pacer waits only once it has measured a whole window of writes; a read ends the
        // last of these writes' wait.
        std::vector<Outcome> outcomes(CommitPacer::kWindow);
        for (std::size_t i = 0; i < outcomes.size(); ++i)
            writeMessage(nextMessage("p" + std::to_string(i), "p" + std::to_string(i)), outcomes[i]);
        readAndWait();
        for (const auto& outcome : outcomes) ASSERT_TRUE(outcome.fired && outcome.error.empty());
    }

    // A new executor on the same file whose pacer, once it has seen a window of writes, always
    // wants to wait an hour.
    void restartPaced() {
        executor_.reset();
        StoreExecutor::Options options;
        options.pacing = CommitPacer::Options{std::chrono::hours(1), 0.0, 1e300};
        options.metrics = &metrics_;
        executor_ = std::make_unique<StoreExecutor>(std::make_unique<SqliteStore>(dbPath(), storeOptions()), options);
    }

    // Queues a read and runs until it answered.
    void readAndWait() {
        bool answered = false;
        executor_->read<bool>(
            ctx_, [](Store&) { return true; }, [&answered](std::string, bool) { answered = true; });
        ASSERT_TRUE(runUntil([&] { return answered; }));
    }

    // Gives a store thread that does not wait the time to commit what is queued on its own, so
    // that an executor without the rule under test fails the test rather than passing by luck.
    static void pause() { std::this_thread::sleep_for(std::chrono::milliseconds(50)); }

    std::uint64_t commits() const { return metrics_.storeCommits.load(); }
    std::uint64_t committedWrites() const { return metrics_.storeCommittedWrites.load(); }

    store::Metrics metrics_;
};

TEST_P(StoreExecutorPacedTest, WritesQueuedWhileABatchWaitsShareItsCommit) {
    const auto commitsBefore = commits();
    const auto writesBefore = committedWrites();
    std::vector<Outcome> outcomes(3);
    writeMessage(nextMessage("a", "a"), outcomes[0]);
    pause();
    writeMessage(nextMessage("b", "b"), outcomes[1]);
    pause();
    writeMessage(nextMessage("c", "c"), outcomes[2]);
    readAndWait();
    for (const auto& outcome : outcomes) EXPECT_TRUE(outcome.fired && outcome.error.empty());
    EXPECT_EQ(commits() - commitsBefore, 1u);
    EXPECT_EQ(committedWrites() - writesBefore, 3u);
    EXPECT_TRUE(exists("a") && exists("b") && exists("c"));
}

TEST_P(StoreExecutorPacedTest, AReadEndsTheWaitAndRunsAfterTheWritesBeforeIt) {
    Outcome write;
    writeMessage(nextMessage("w", "w"), write);
    pause();
    bool seen = false;
    bool answered = false;
    executor_->read<bool>(
        ctx_, [](Store& store) { return store.findMessage("w").has_value(); },
        [&](std::string error, bool found) {
            answered = error.empty();
            seen = found;
        });
    ASSERT_TRUE(runUntil([&] { return answered && write.fired; }));
    EXPECT_EQ(write.error, "");
    EXPECT_TRUE(seen) << "the read ran before the write queued ahead of it";
}

TEST_P(StoreExecutorPacedTest, AFullBatchCommitsWithoutWaitingForItsDeadline) {
    std::vector<Outcome> outcomes(CommitPacer::kFullBatch);
    for (std::size_t i = 0; i < outcomes.size(); ++i)
        writeMessage(nextMessage("f" + std::to_string(i), "f" + std::to_string(i)), outcomes[i]);
    ASSERT_TRUE(runUntil([&] { return allFired(outcomes); }));
    for (const auto& outcome : outcomes) EXPECT_EQ(outcome.error, "");
}

TEST_P(StoreExecutorPacedTest, StoppingCommitsAWaitingBatchAtOnce) {
    std::vector<Outcome> outcomes(5);
    for (std::size_t i = 0; i < outcomes.size(); ++i)
        writeMessage(nextMessage("s" + std::to_string(i), "s" + std::to_string(i)), outcomes[i]);
    pause();
    executor_.reset();
    ASSERT_TRUE(runUntil([&] { return allFired(outcomes); }));
    for (const auto& outcome : outcomes) EXPECT_EQ(outcome.error, "");
    SqliteStore reopened(dbPath(), storeOptions());
    for (std::size_t i = 0; i < outcomes.size(); ++i) EXPECT_TRUE(reopened.findMessage("s" + std::to_string(i))) << i;
}

TEST_P(StoreExecutorPacedTest, WithoutAWholeWindowOfWritesNothingWaits) {
    // A fresh executor: its pacer has seen no writes yet, so a lone write commits at once.
    restartPaced();
    Outcome write;
    writeMessage(nextMessage("lone", "lone"), write);
    ASSERT_TRUE(runUntil([&] { return write.fired; }));
    EXPECT_EQ(write.error, "");
}

// =============================================================================================
// Timing (Options::metrics) and the slow-commit warning (Options::slowCommit).
// =============================================================================================

// The warnings logged while it lives: the default logger is swapped for one that writes to a
// string, and back. The capturing logger outlives every test (a thread that fetched it just
// before the swap back must find it alive).
class WarningCapture {
public:
    WarningCapture() : previous_(spdlog::default_logger()) {
        static auto stream = std::make_shared<std::ostringstream>();
        static auto logger = [] {
            auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*stream, true);
            sink->set_pattern("%v");
            auto made = std::make_shared<spdlog::logger>("warning-capture", sink);
            made->set_level(spdlog::level::warn);
            return made;
        }();
        stream_ = stream;
        stream_->str("");
        spdlog::set_default_logger(logger);
    }
    ~WarningCapture() { spdlog::set_default_logger(previous_); }

    // Read once the store thread has logged what the test waits for (a write's callback runs
    // after its commit's warning).
    std::vector<std::string> lines() const {
        std::vector<std::string> out;
        std::istringstream in(stream_->str());
        for (std::string line; std::getline(in, line);)
            if (!line.empty()) out.push_back(line);
        return out;
    }

private:
    std::shared_ptr<spdlog::logger> previous_;
    std::shared_ptr<std::ostringstream> stream_;
};

class StoreExecutorTimedTest : public StoreExecutorTest {
protected:
    void restart(StoreExecutor::Options options) {
        executor_.reset();
        options.metrics = &metrics_;
        executor_ = std::make_unique<StoreExecutor>(std::make_unique<SqliteStore>(dbPath(), storeOptions()), options);
    }

    // One write, committed alone: queued and waited for.
    void writeAlone(const std::string& id) {
        Outcome outcome;
        writeMessage(nextMessage(id, id), outcome);
        ASSERT_TRUE(runUntil([&] { return outcome.fired; }));
        ASSERT_EQ(outcome.error, "");
    }

    store::Metrics metrics_;
};

TEST_P(StoreExecutorTimedTest, EachCommitIsTimedAndEachWriteFromItsQueueingOn) {
    restart({});
    // Five writes queue behind a read that holds the store thread for 30 ms, then commit
    // together: each waited at least those 30 ms, which their timings must include.
    std::vector<Outcome> held(5);
    {
        auto gate = holdStoreThread();
        for (std::size_t i = 0; i < held.size(); ++i)
            writeMessage(nextMessage("h" + std::to_string(i), "h" + std::to_string(i)), held[i]);
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        gate->set_value();
    }
    ASSERT_TRUE(runUntil([&] { return allFired(held); }));
    writeAlone("alone");

    const auto commits = metrics_.storeCommitSeconds.snapshot();
    const auto writes = metrics_.storeWriteSeconds.snapshot();
    EXPECT_EQ(commits.count, metrics_.storeCommits.load());
    EXPECT_EQ(commits.count, 2u);
    EXPECT_GT(commits.sumNanoseconds, 0u);
    EXPECT_EQ(writes.count, 6u);
    std::uint64_t over20ms = 0; // the buckets past the 20 ms bound
    for (std::size_t i = 0; i <= core::DurationHistogram::kBounds; ++i)
        if (i == core::DurationHistogram::kBounds || core::DurationHistogram::bound(i) > std::chrono::milliseconds(20))
            over20ms += writes.buckets[i];
    EXPECT_GE(over20ms, 5u);
    EXPECT_GE(writes.sumNanoseconds, 5u * 30'000'000u);
}

TEST_P(StoreExecutorTimedTest, TheFirstSlowCommitIsWarnedOfAtOnceAndLaterOnesAreCountedIntoOneLine) {
    WarningCapture capture;
    StoreExecutor::Options options;
    options.slowCommit = std::chrono::microseconds(1); // every real commit is slower
    options.slowCommitWarningEvery = std::chrono::milliseconds(1000);
    restart(options);

    writeAlone("s1");
    auto lines = capture.lines();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("store: a commit took "), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("every ack waits for its commit"), std::string::npos) << lines[0];

    // Within the interval: counted, not logged.
    writeAlone("s2");
    writeAlone("s3");
    EXPECT_EQ(capture.lines().size(), 1u);

    // The interval is the rule under test: once it has passed, the next commit tells all three.
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    writeAlone("s4");
    lines = capture.lines();
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_NE(lines[1].find("store: 3 commits took 0 ms or more since the last warning, the slowest "),
              std::string::npos)
        << lines[1];
    executor_.reset(); // before the capture goes
}

TEST_P(StoreExecutorTimedTest, NoWarningWhenCommitsAreQuickerThanTheThresholdOrWarningsAreOff) {
    WarningCapture capture;
    StoreExecutor::Options options;
    options.slowCommit = std::chrono::hours(1);
    restart(options);
    writeAlone("q1");
    writeAlone("q2");
    options.slowCommit = std::chrono::microseconds(0); // off
    restart(options);
    writeAlone("q3");
    writeAlone("q4");
    EXPECT_EQ(capture.lines(), std::vector<std::string>{});
    EXPECT_EQ(metrics_.storeCommitSeconds.snapshot().count, 4u); // timed all the same
    executor_.reset();
}

INSTANTIATE_TEST_SUITE_P(Vfs, StoreExecutorTest, test::kBothVfs, test::vfsName);
INSTANTIATE_TEST_SUITE_P(Vfs, StoreExecutorFaultTest, test::kBothVfs, test::vfsName);
INSTANTIATE_TEST_SUITE_P(Vfs, StoreExecutorPacedTest, test::kBothVfs, test::vfsName);
INSTANTIATE_TEST_SUITE_P(Vfs, StoreExecutorTimedTest, test::kBothVfs, test::vfsName);

} // namespace
} // namespace parley::store
