// The database goes away and comes back: operations fail fast with Unavailable, and the same
// store works again once the server is back. Each test runs a PostgreSQL of its own, so that
// killing it disturbs no other test.

#include "PgTestSupport.hpp"

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sys/types.h>
#include <thread>

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
    EXPECT_EQ(retry->message.id, oid(1));
}

} // namespace
} // namespace parley::store::pgtest
