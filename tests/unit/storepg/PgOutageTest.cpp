// The database goes away and comes back: operations fail fast with Unavailable, and the same
// store works again once the server is back. Each test runs a PostgreSQL of its own, so that
// killing it disturbs no other test.

#include "PgTestSupport.hpp"
#include "support/LongLivedContext.hpp"

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sys/types.h>
#include <thread>
#include <unordered_map>

namespace parley::store::pgtest {
namespace {

using Clock = std::chrono::steady_clock;

std::unique_ptr<PgChatStore> openOn(const std::string& uri) {
    OpenOptions options;
    options.uri = uri;
    auto opened = openPostgres(options); // runs the migrations
    opened.reset();
    PgChatStore::Options pg;
    pg.uri = uri;
    pg.operationTimeout = std::chrono::milliseconds(2000);
    pg.connectTimeout = std::chrono::milliseconds(1000);
    pg.retryMax = std::chrono::milliseconds(500);
    auto store = std::make_unique<PgChatStore>(pg);
    EXPECT_TRUE(store->waitReady(std::chrono::seconds(10)));
    return store;
}

Result<Appended> send(ChatStore& store, int n) {
    NewMessage m{oid(n), oid(100), oid(1), "hello", "c" + std::to_string(n), 100 + n};
    return await<Appended>([&](auto& ctx, Done<Appended> done) { store.appendMessage(ctx, m, std::move(done)); });
}

// Pings until one succeeds; false after `limit`.
bool pingsWithin(ChatStore& store, std::chrono::seconds limit) {
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
        if (await<void>([&](auto& ctx, Done<void> done) { store.ping(ctx, std::move(done)); })) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

TEST(PgOutage, KilledServerFailsFastAndTheStoreRecovers) {
    test::PrivatePg pg;
    auto store = openOn(pg.uri());
    ASSERT_TRUE(
        await<Chat>([&](auto& ctx, Done<Chat> done) { store->createChat(ctx, group(oid(100), {oid(1)}), done); }));
    ASSERT_TRUE(send(*store, 1));

    pg.kill();
    for (int i = 0; i < 5; ++i) {
        const auto start = Clock::now();
        auto result = send(*store, 10 + i);
        const auto took = Clock::now() - start;
        ASSERT_FALSE(result);
        EXPECT_EQ(result.error(), Errc::Unavailable);
        EXPECT_LT(took, std::chrono::milliseconds(3000));
    }
    EXPECT_EQ(await<void>([&](auto& ctx, Done<void> done) { store->ping(ctx, std::move(done)); }).error(),
              Errc::Unavailable);

    pg.restart();
    ASSERT_TRUE(pingsWithin(*store, std::chrono::seconds(15)));
    auto after = send(*store, 20);
    ASSERT_TRUE(after) << after.error().message();
    EXPECT_TRUE(after->created);
    // What was acknowledged before the crash is still there.
    auto first = await<Message>(
        [&](auto& ctx, Done<Message> done) { store->findByClientId(ctx, oid(100), oid(1), "c1", std::move(done)); });
    EXPECT_TRUE(first);
}

// The server is killed while batches of appends are in flight: every append acknowledged is
// in the database after the restart, and every other one failed with Unavailable.
TEST(PgOutage, KilledServerDuringBatchesLosesNoAcknowledgedAppend) {
    test::PrivatePg pg;
    auto store = openOn(pg.uri());
    constexpr int kChats = 8;
    for (int c = 0; c < kChats; ++c)
        ASSERT_TRUE(await<Chat>(
            [&](auto& ctx, Done<Chat> done) { store->createChat(ctx, group(oid(100 + c), {oid(1)}), done); }));

    constexpr int kTotal = 40000;
    constexpr int kInFlight = 512;
    constexpr int kKillAfter = 2000;
    boost::asio::io_context& ctx = ::parley::test::longLivedContext();
    std::vector<std::optional<Result<Appended>>> results(kTotal);
    int issued = 0;
    int completed = 0;
    int acked = 0;
    std::function<void()> next = [&] {
        const int n = issued++;
        store->appendMessage(ctx, NewMessage{"", oid(100 + n % kChats), oid(1), "m", "k" + std::to_string(n), 0},
                             [&, n](Result<Appended> result) {
                                 acked += result ? 1 : 0;
                                 results[static_cast<std::size_t>(n)].emplace(std::move(result));
                                 ++completed;
                                 if (issued < kTotal) next();
                             });
    };
    for (int i = 0; i < kInFlight; ++i) next();
    auto guard = boost::asio::make_work_guard(ctx);
    bool killed = false;
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (completed < kTotal && Clock::now() < deadline) {
        ctx.run_one_for(std::chrono::milliseconds(100));
        if (!killed && acked >= kKillAfter) {
            pg.kill(); // the store's thread goes on sending meanwhile
            killed = true;
        }
    }
    ASSERT_EQ(completed, kTotal);
    ASSERT_TRUE(killed);
    EXPECT_LT(acked, kTotal) << "nothing was in flight at the kill";

    pg.restart();
    std::unordered_map<std::string, std::pair<std::string, std::string>> stored;
    for (auto& row : pgQuery(pg.uri(), "SELECT client_id, id, created_at FROM messages"))
        stored.emplace(row[0], std::make_pair(row[1], row[2]));
    int lost = 0;
    for (int n = 0; n < kTotal; ++n) {
        const auto& result = *results[static_cast<std::size_t>(n)];
        if (!result) {
            EXPECT_EQ(result.error(), Errc::Unavailable);
            continue;
        }
        auto it = stored.find("k" + std::to_string(n));
        if (it == stored.end() || it->second.first != result->message.id ||
            it->second.second != std::to_string(result->message.createdAt))
            ++lost;
    }
    EXPECT_EQ(lost, 0) << "acknowledged appends missing after the restart";
}

// Signals the postmaster and every backend (SIGSTOP: the server hangs with its sockets open).
void signalServer(const std::string& dir, int signal) {
    std::ifstream pidFile(dir + "/data/postmaster.pid");
    pid_t postmaster = 0;
    ASSERT_TRUE(pidFile >> postmaster);
    const std::string children = "pkill -" + std::to_string(signal) + " -P " + std::to_string(postmaster);
    ASSERT_GE(std::system(children.c_str()), 0);
    ::kill(postmaster, signal);
}

TEST(PgOutage, AHungServerFailsOperationsByTheirDeadline) {
    test::PrivatePg pg;
    auto store = openOn(pg.uri());
    ASSERT_TRUE(
        await<Chat>([&](auto& ctx, Done<Chat> done) { store->createChat(ctx, group(oid(100), {oid(1)}), done); }));

    signalServer(pg.dir(), SIGSTOP);
    const auto start = Clock::now();
    auto result = send(*store, 1);
    const auto took = Clock::now() - start;
    signalServer(pg.dir(), SIGCONT);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error(), Errc::Unavailable);
    EXPECT_GE(took, std::chrono::milliseconds(1900));
    EXPECT_LT(took, std::chrono::milliseconds(3000));

    ASSERT_TRUE(pingsWithin(*store, std::chrono::seconds(15)));
    // The message whose outcome was unknown may have been stored; a retry is safe either way.
    auto retry = send(*store, 1);
    ASSERT_TRUE(retry) << retry.error().message();
    auto stored = await<Message>(
        [&](auto& ctx, Done<Message> done) { store->findByClientId(ctx, oid(100), oid(1), "c1", std::move(done)); });
    ASSERT_TRUE(stored);
    EXPECT_EQ(retry->message.id, stored->id);
}

} // namespace
} // namespace parley::store::pgtest
