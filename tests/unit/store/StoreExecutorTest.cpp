#include "store/StoreExecutor.hpp"

#include "TempDir.hpp"
#include "store/sqlite/SqliteStore.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace parley::store {
namespace {

using test::TempDir;

Message makeMessage(std::string id, std::string clientId, std::string senderId = "a") {
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

class StoreExecutorTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto store = std::make_unique<SqliteStore>((dir_.path() / "parley.db").string());
        Chat chat;
        chat.id = "c1";
        chat.type = "group";
        chat.memberIds = {"a", "b"};
        chat.createdBy = "a";
        store->insertChat(chat);
        executor_ = std::make_unique<StoreExecutor>(std::move(store));
    }

    // Runs the io_context on the test thread until `done` holds (or a generous deadline passes:
    // a hang fails the test instead of stalling the suite).
    template <class Predicate> bool runUntil(Predicate done) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (!done() && std::chrono::steady_clock::now() < deadline)
            ctx_.run_one_for(std::chrono::milliseconds(50));
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

TEST_F(StoreExecutorTest, TwoHundredWritesAllCommitAndCallBackOnTheCallersThread) {
    constexpr int kWrites = 200;
    std::vector<Outcome> outcomes(kWrites);
    boost::asio::post(ctx_, [&] {
        for (int i = 0; i < kWrites; ++i)
            writeMessage(makeMessage("m" + std::to_string(i), "k" + std::to_string(i)), outcomes[i]);
    });
    ASSERT_TRUE(runUntil([&] {
        for (const auto& outcome : outcomes)
            if (!outcome.fired) return false;
        return true;
    }));
    for (int i = 0; i < kWrites; ++i) {
        EXPECT_EQ(outcomes[i].error, "") << i;
        EXPECT_EQ(outcomes[i].thread, std::this_thread::get_id()) << i;
    }

    // Checked through a second connection after the executor is gone: the rows are on disk.
    executor_.reset();
    SqliteStore reopened((dir_.path() / "parley.db").string());
    for (int i = 0; i < kWrites; ++i)
        EXPECT_TRUE(reopened.findMessage("m" + std::to_string(i))) << i;
    EXPECT_EQ(reopened.unreadCount("c1", "nobody"), kWrites);
}

TEST_F(StoreExecutorTest, AFailingWriteInABatchFailsAlone) {
    auto gate = holdStoreThread();
    Outcome first, duplicate, partial, last;
    writeMessage(makeMessage("m1", "k1"), first);
    writeMessage(makeMessage("m2", "k1"), duplicate); // same chat, sender and clientId as m1
    // A write that changes something and then throws must leave nothing behind.
    executor_->write<bool>(
        ctx_,
        [](Store& store) {
            store.insertMessage(makeMessage("m3", "k3"));
            throw StoreError("failed after writing");
            return true;
        },
        [&partial](std::string error, bool) {
            partial.fired = true;
            partial.error = std::move(error);
        });
    writeMessage(makeMessage("m4", "k4"), last);
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

TEST_F(StoreExecutorTest, ReadsSeeEarlierWritesInQueueOrder) {
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
    writeMessage(makeMessage("m1", "k1"), w1);
    readCount();
    writeMessage(makeMessage("m2", "k2"), w2);
    readCount();
    gate->set_value();

    ASSERT_TRUE(runUntil([&] { return counts.size() == 3; }));
    EXPECT_EQ(counts, (std::vector<std::int64_t>{0, 1, 2}));
    EXPECT_TRUE(w1.fired);
    EXPECT_TRUE(w2.fired);
}

TEST_F(StoreExecutorTest, AFailingReadReportsItsError) {
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

TEST_F(StoreExecutorTest, RunSyncReturnsTheValue) {
    int result = executor_->runSync<int>([](Store& store) {
        store.insertMessage(makeMessage("m1", "k1"));
        return 42;
    });
    EXPECT_EQ(result, 42);
    EXPECT_TRUE(exists("m1"));
}

TEST_F(StoreExecutorTest, RunSyncPropagatesStoreErrorAsAnException) {
    executor_->runSync<bool>([](Store& store) {
        store.insertMessage(makeMessage("m1", "k1"));
        return true;
    });
    EXPECT_THROW(executor_->runSync<bool>([](Store& store) {
        store.insertMessage(makeMessage("m2", "k1"));
        return true;
    }),
                 StoreError);
    // The failed call left nothing behind and the executor still works.
    EXPECT_FALSE(exists("m2"));
    EXPECT_TRUE(exists("m1"));
}

TEST_F(StoreExecutorTest, DestructorFinishesQueuedWork) {
    auto gate = holdStoreThread();
    std::vector<Outcome> outcomes(20);
    for (int i = 0; i < 20; ++i)
        writeMessage(makeMessage("m" + std::to_string(i), "k" + std::to_string(i)), outcomes[i]);
    gate->set_value();
    executor_.reset();
    ASSERT_TRUE(runUntil([&] {
        for (const auto& outcome : outcomes)
            if (!outcome.fired) return false;
        return true;
    }));
    for (const auto& outcome : outcomes)
        EXPECT_EQ(outcome.error, "");
    SqliteStore reopened((dir_.path() / "parley.db").string());
    EXPECT_EQ(reopened.unreadCount("c1", "nobody"), 20);
}

} // namespace
} // namespace parley::store
