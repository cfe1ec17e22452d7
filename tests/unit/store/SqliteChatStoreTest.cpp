// What the SQLite backend adds to the ChatStore contract (which tests/unit/storecontract proves on
// both backends): reads on connections of their own, never queued behind the writer.

#include "store/sqlite/SqliteChatStore.hpp"

#include "TempDir.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <optional>

namespace parley::store {
namespace {

using namespace std::chrono_literals;

class SqliteChatStoreTest : public ::testing::Test {
protected:
    std::string dbPath() const { return (dir_.path() / "parley.db").string(); }

    // Runs the io_context until `ready` holds or `limit` passes; returns whether it holds.
    template <class Pred>
    bool runUntil(Pred ready, std::chrono::milliseconds limit = 10s) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (!ready() && std::chrono::steady_clock::now() < deadline) ctx_.run_one_for(10ms);
        return ready();
    }

    template <class T>
    Result<T> wait(const std::function<void(Done<T>)>& start) {
        std::optional<Result<T>> out;
        start([&](Result<T> r) { out = std::move(r); });
        EXPECT_TRUE(runUntil([&] { return out.has_value(); }));
        return out ? std::move(*out) : Result<T>{Errc::Internal};
    }

    test::TempDir dir_;
    boost::asio::io_context ctx_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_{ctx_.get_executor()};
};

constexpr const char* kAlice = "aaaaaaaaaaaaaaaaaaaaaaaa";
constexpr const char* kBob = "bbbbbbbbbbbbbbbbbbbbbbbb";
constexpr const char* kChat = "cccccccccccccccccccccccc";

TEST_F(SqliteChatStoreTest, ReadsAnswerWhileTheWriterWaitsForTheDatabase) {
    SqliteChatStore store(dbPath());
    Chat chat{kChat, "group", std::nullopt, {kAlice, kBob}, kAlice, 1, 1};
    ASSERT_TRUE(wait<Chat>([&](auto done) { store.createChat(ctx_, chat, std::move(done)); }));

    // Another connection holds the write lock: the writer's next transaction waits for it.
    sqlite3* other = nullptr;
    ASSERT_EQ(sqlite3_open(dbPath().c_str(), &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

    std::optional<Result<Appended>> appended;
    store.appendMessage(ctx_, NewMessage{"", kChat, kAlice, "hello", "c1", 0},
                        [&](Result<Appended> r) { appended = std::move(r); });
    std::optional<Result<MessagePage>> page;
    store.history(ctx_, kChat, kBob, HistoryQuery{}, [&](Result<MessagePage> r) { page = std::move(r); });
    std::optional<Result<bool>> member;
    store.isMember(ctx_, kChat, kBob, [&](Result<bool> r) { member = std::move(r); });

    EXPECT_TRUE(runUntil([&] { return page && member; }, 3s)) << "reads must not queue behind the waiting write";
    EXPECT_FALSE(appended.has_value()) << "the write still waits for the lock";
    ASSERT_TRUE(page && *page);
    EXPECT_TRUE((*page)->messages.empty()) << "a read sees only what was committed";
    ASSERT_TRUE(member && *member);
    EXPECT_TRUE(**member);

    ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(other);
    ASSERT_TRUE(runUntil([&] { return appended.has_value(); }));
    ASSERT_TRUE(*appended);
    EXPECT_TRUE((*appended)->created);

    // Once a write has completed, every read sees it.
    auto after =
        wait<MessagePage>([&](auto done) { store.history(ctx_, kChat, kBob, HistoryQuery{}, std::move(done)); });
    ASSERT_TRUE(after);
    ASSERT_EQ(after->messages.size(), 1u);
    EXPECT_EQ(after->messages[0].id, (*appended)->message.id);
}

TEST_F(SqliteChatStoreTest, HistoryOrderIsCommitOrder) {
    SqliteChatStore store(dbPath());
    Chat chat{kChat, "group", std::nullopt, {kAlice, kBob}, kAlice, 1, 1};
    ASSERT_TRUE(wait<Chat>([&](auto done) { store.createChat(ctx_, chat, std::move(done)); }));
    // Proposed times out of order: the store takes its own, in the order it commits.
    std::vector<std::string> committed;
    for (std::int64_t proposed : {300, 100, 200}) {
        auto r = wait<Appended>([&](auto done) {
            store.appendMessage(ctx_, NewMessage{"", kChat, kAlice, "m", "c" + std::to_string(proposed), proposed},
                                std::move(done));
        });
        ASSERT_TRUE(r);
        committed.push_back(r->message.id);
    }
    auto page =
        wait<MessagePage>([&](auto done) { store.history(ctx_, kChat, kBob, HistoryQuery{}, std::move(done)); });
    ASSERT_TRUE(page);
    std::vector<std::string> listed;
    for (const auto& m : page->messages) listed.push_back(m.id);
    EXPECT_EQ(listed, committed);
}

} // namespace
} // namespace parley::store
