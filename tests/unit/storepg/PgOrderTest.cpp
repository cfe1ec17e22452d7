// appendMessage on PostgreSQL: the appends of one chat commit in the order they were issued,
// with (createdAt, id) growing in that order, so paging forward never skips a message; and the
// appends queued behind a commit share the next one, as do appends paced to wait for company.

#include "PgTestSupport.hpp"
#include "support/LongLivedContext.hpp"

#include "store/Metrics.hpp"

#include <atomic>
#include <map>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace parley::store::pgtest {
namespace {

using Clock = std::chrono::steady_clock;

bool before(const Message& a, const Message& b) { return std::tie(a.createdAt, a.id) < std::tie(b.createdAt, b.id); }

// Runs `ctx` until `finished()` or 60 s; false on the deadline.
template <class Finished>
bool runUntil(boost::asio::io_context& ctx, Finished finished) {
    ctx.restart(); // after an earlier run ran out of work
    auto guard = boost::asio::make_work_guard(ctx);
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (!finished() && Clock::now() < deadline) ctx.run_one_for(std::chrono::milliseconds(100));
    return finished();
}

// One writer thread: `count` appends issued back to back on its own io_context; the answers in
// the order their acks arrived.
std::vector<Appended> writeBackToBack(ChatStore& store, const std::string& chatId, const std::string& sender,
                                      const std::string& prefix, int count) {
    boost::asio::io_context& ctx = ::parley::test::longLivedContext();
    std::vector<Appended> acks;
    int failures = 0;
    for (int i = 0; i < count; ++i)
        store.appendMessage(ctx, NewMessage{"", chatId, sender, "m", prefix + std::to_string(i), 0},
                            [&](Result<Appended> result) {
                                if (!result) return void(++failures);
                                acks.push_back(std::move(*result));
                            });
    EXPECT_TRUE(runUntil(ctx, [&] { return static_cast<int>(acks.size()) + failures == count; }));
    EXPECT_EQ(failures, 0);
    return acks;
}

Result<MessagePage> page(ChatStore& store, const std::string& chatId, std::optional<std::string> after, int limit) {
    return await<MessagePage>([&](auto& ctx, Done<MessagePage> done) {
        store.history(ctx, chatId, oid(1), HistoryQuery{std::nullopt, std::move(after), limit}, std::move(done));
    });
}

// Several threads append to one chat at once, thread t on stores[t % stores.size()], while a
// reader pages forward from the last message it saw (as a reconnecting client backfills), on
// stores[0]: each thread's messages are acked and stored in the order it issued them, history
// grows strictly by (createdAt, id), and the reader sees every message.
void appendConcurrentlyAndPage(const std::vector<ChatStore*>& stores) {
    ChatStore& store = *stores.front();
    const std::string chatId = oid(100);
    ASSERT_TRUE(await<Chat>([&](auto& ctx, Done<Chat> done) {
        store.createChat(ctx, group(chatId, {oid(1), oid(2), oid(3), oid(4)}), done);
    }));
    auto seed = await<Appended>([&](auto& ctx, Done<Appended> done) {
        store.appendMessage(ctx, NewMessage{"", chatId, oid(1), "seed", "seed", 0}, std::move(done));
    });
    ASSERT_TRUE(seed);

    constexpr int kThreads = 4;
    constexpr int kPerThread = 200;
    std::atomic<bool> writersDone{false};
    std::vector<Message> seen;
    std::thread reader([&] {
        std::string cursor = seed->message.id;
        for (;;) {
            // Read before the query: a query started after the last write sees every message.
            const bool last = writersDone.load();
            auto next = page(store, chatId, cursor, 50);
            ASSERT_TRUE(next) << next.error().message();
            for (auto& m : next->messages) seen.push_back(std::move(m));
            if (!seen.empty()) cursor = seen.back().id;
            if (last && !next->hasMore) return;
        }
    });
    std::vector<std::vector<Appended>> acks(kThreads);
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t)
        writers.emplace_back([&, t] {
            acks[t] = writeBackToBack(*stores[static_cast<std::size_t>(t) % stores.size()], chatId, oid(1 + t),
                                      "t" + std::to_string(t) + "-", kPerThread);
        });
    for (auto& writer : writers) writer.join();
    writersDone = true;
    reader.join();

    auto all = page(store, chatId, seed->message.id, 10 * kThreads * kPerThread);
    ASSERT_TRUE(all);
    const auto& history = all->messages;
    ASSERT_EQ(history.size(), static_cast<std::size_t>(kThreads * kPerThread));
    EXPECT_TRUE(before(seed->message, history.front()));
    for (std::size_t i = 1; i < history.size(); ++i)
        ASSERT_TRUE(before(history[i - 1], history[i])) << "history is not strictly ordered at " << i;

    std::unordered_map<std::string, const Message*> stored;
    std::map<std::string, int> nextOfSender;
    for (const auto& m : history) {
        stored.emplace(m.id, &m);
        // Each sender is one thread: its messages come in the order it issued them.
        const int t = std::stoi(m.senderId) - 1;
        EXPECT_EQ(m.clientId, "t" + std::to_string(t) + "-" + std::to_string(nextOfSender[m.senderId]++));
    }
    for (int t = 0; t < kThreads; ++t) {
        ASSERT_EQ(acks[t].size(), static_cast<std::size_t>(kPerThread));
        for (int i = 0; i < kPerThread; ++i) {
            const Message& ack = acks[t][static_cast<std::size_t>(i)].message;
            EXPECT_EQ(ack.clientId, "t" + std::to_string(t) + "-" + std::to_string(i)) << "acks out of order";
            auto it = stored.find(ack.id);
            ASSERT_NE(it, stored.end());
            EXPECT_EQ(it->second->createdAt, ack.createdAt);
        }
    }
    // Each message took the chat's next event number, in the order of the places: the order in
    // which the nodes of a cluster deliver them.
    std::unordered_map<std::string, std::int64_t> eventSeqOf;
    for (const auto& thread : acks)
        for (const auto& ack : thread) eventSeqOf.emplace(ack.message.id, ack.eventSeq);
    for (std::size_t i = 0; i < history.size(); ++i)
        ASSERT_EQ(eventSeqOf[history[i].id], seed->eventSeq + 1 + static_cast<std::int64_t>(i))
            << "event numbers not in the order of the places at " << i;
    ASSERT_EQ(seen.size(), history.size()) << "paging forward skipped or repeated messages";
    for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i].id, history[i].id);
}

TEST(PgOrder, AppendsOfOneChatCommitInIssueOrderAndPagingSkipsNone) {
    auto store = openFresh(4);
    appendConcurrentlyAndPage({store.get()});
}

// Two processes of a cluster on one database (two stores, each with its own clock, pool and
// queue): a chat's messages still take their places in commit order, so the reader skips none.
TEST(PgOrder, AppendsOfOneChatFromTwoProcessesTakePlacesInCommitOrder) {
    OpenOptions options;
    options.uri = test::freshPgDatabase();
    options.poolSize = 4;
    auto first = openChatStore(options);
    auto second = openChatStore(options);
    appendConcurrentlyAndPage({first.get(), second.get()});
}

struct MeteredStore {
    Metrics metrics;
    std::string uri = test::freshPgDatabase();
    std::unique_ptr<ChatStore> store;

    explicit MeteredStore(std::chrono::microseconds commitDelay = std::chrono::microseconds(0)) {
        OpenOptions options;
        options.uri = uri;
        options.poolSize = 4;
        options.pacing.maxDelay = commitDelay;
        options.metrics = &metrics;
        store = openChatStore(options);
    }
};

TEST(PgGroupCommit, AThousandAppendsInFlightAreEachStoredOnce) {
    MeteredStore s;
    constexpr int kChats = 10;
    for (int c = 0; c < kChats; ++c)
        ASSERT_TRUE(await<Chat>(
            [&](auto& ctx, Done<Chat> done) { s.store->createChat(ctx, group(oid(100 + c), {oid(1)}), done); }));
    const auto commits = s.metrics.storeCommits.load();
    const auto writes = s.metrics.storeCommittedWrites.load();

    constexpr int kMessages = 1000;
    boost::asio::io_context& ctx = ::parley::test::longLivedContext();
    int created = 0;
    int failed = 0;
    for (int i = 0; i < kMessages; ++i)
        s.store->appendMessage(ctx, NewMessage{"", oid(100 + i % kChats), oid(1), "m", "m" + std::to_string(i), 0},
                               [&](Result<Appended> result) {
                                   if (!result) return void(++failed);
                                   created += result->created ? 1 : 0;
                               });
    ASSERT_TRUE(runUntil(ctx, [&] { return created + failed == kMessages; }));
    EXPECT_EQ(failed, 0);
    EXPECT_EQ(created, kMessages);
    const auto counts = pgQuery(s.uri, "SELECT count(*), count(DISTINCT id), count(DISTINCT client_id) FROM messages");
    ASSERT_EQ(counts.size(), 1u);
    EXPECT_EQ(counts[0], (std::vector<std::string>{"1000", "1000", "1000"}));
    // They shared commits: far fewer transactions than messages.
    EXPECT_EQ(s.metrics.storeCommittedWrites.load() - writes, static_cast<std::uint64_t>(kMessages));
    EXPECT_LT(s.metrics.storeCommits.load() - commits, static_cast<std::uint64_t>(kMessages / 4));
}

// Blocks appends to a chat: holds its row FOR UPDATE (an append's foreign key check waits for
// it) until release().
class ChatLock {
public:
    ChatLock(const std::string& uri, const std::string& chatId) : conn_(PQconnectdb(uri.c_str())) {
        exec("BEGIN");
        exec("SELECT 1 FROM chats WHERE id = '" + chatId + "' FOR UPDATE");
    }
    ~ChatLock() { PQfinish(conn_); }
    ChatLock(const ChatLock&) = delete;
    ChatLock& operator=(const ChatLock&) = delete;
    void release() { exec("COMMIT"); }

private:
    void exec(const std::string& sql) {
        PGresult* result = PQexec(conn_, sql.c_str());
        const auto status = PQresultStatus(result);
        EXPECT_TRUE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) << sql << ": " << PQerrorMessage(conn_);
        PQclear(result);
    }
    PGconn* conn_;
};

// Waits until `sql` (a count) answers `expected` (60 s at most).
bool countReaches(const std::string& uri, const std::string& sql, const std::string& expected) {
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (Clock::now() < deadline) {
        const auto rows = pgQuery(uri, sql);
        if (!rows.empty() && rows[0][0] == expected) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

// One transaction carrying a non-member's append, a retry of a message committed just before,
// new messages and a retry of one of those: each gets its own answer.
TEST(PgGroupCommit, OneBatchAnswersEachAppendOnItsOwn) {
    MeteredStore s;
    const std::string chatId = oid(100);
    ASSERT_TRUE(await<Chat>([&](auto& ctx, Done<Chat> done) {
        s.store->createChat(ctx, group(chatId, {oid(1), oid(2)}), done);
    }));

    // Every connection of the pool is up and idle, so that the ping below has one to itself.
    ASSERT_TRUE(countReaches(s.uri,
                             "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                             "AND application_name = 'parley' AND state = 'idle'",
                             "4"));
    ChatLock lock(s.uri, chatId);
    boost::asio::io_context& ctx = ::parley::test::longLivedContext();
    constexpr int kAppends = 6;
    std::vector<std::optional<Result<Appended>>> answers(kAppends);
    int answered = 0;
    auto append = [&](int slot, const std::string& sender, const std::string& clientId) {
        s.store->appendMessage(ctx, NewMessage{"", chatId, sender, "body " + clientId, clientId, 0},
                               [&, slot](Result<Appended> result) {
                                   answers[static_cast<std::size_t>(slot)].emplace(std::move(result));
                                   ++answered;
                               });
    };
    const auto commits = s.metrics.storeCommits.load();
    append(0, oid(1), "first"); // sent at once, and held by the lock
    ASSERT_TRUE(countReaches(s.uri,
                             "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                             "AND wait_event_type = 'Lock'",
                             "1"));
    append(1, oid(9), "stranger");
    append(2, oid(1), "first"); // a retry of a message committed by the previous transaction
    append(3, oid(1), "b1");
    append(4, oid(2), "b2");
    append(5, oid(1), "b1"); // a retry of a message of the same transaction
    // A ping queued after them answers on another connection: the appends are queued by then.
    bool pinged = false;
    s.store->ping(ctx, [&](Result<void> result) { pinged = result.has_value(); });
    ASSERT_TRUE(runUntil(ctx, [&] { return pinged; }));
    EXPECT_EQ(answered, 0);
    lock.release();
    ASSERT_TRUE(runUntil(ctx, [&] { return answered == kAppends; }));

    for (const auto& answer : answers) ASSERT_TRUE(answer.has_value());
    const auto& first = *answers[0];
    ASSERT_TRUE(first) << first.error().message();
    EXPECT_TRUE(first->created);
    ASSERT_FALSE(*answers[1]);
    EXPECT_EQ(answers[1]->error(), Errc::Forbidden);
    const auto& retry = *answers[2];
    ASSERT_TRUE(retry);
    EXPECT_FALSE(retry->created);
    EXPECT_EQ(retry->message.id, first->message.id);
    EXPECT_EQ(retry->message.createdAt, first->message.createdAt);
    const auto& b1 = *answers[3];
    const auto& b2 = *answers[4];
    ASSERT_TRUE(b1);
    ASSERT_TRUE(b2);
    EXPECT_TRUE(b1->created);
    EXPECT_TRUE(b2->created);
    EXPECT_TRUE(before(first->message, b1->message));
    EXPECT_TRUE(before(b1->message, b2->message));
    const auto& b1Again = *answers[5];
    ASSERT_TRUE(b1Again);
    EXPECT_FALSE(b1Again->created);
    EXPECT_EQ(b1Again->message.id, b1->message.id);
    EXPECT_EQ(b1Again->message.body, "body b1");
    // Two transactions: the first append's, then everything queued behind it.
    EXPECT_EQ(s.metrics.storeCommits.load() - commits, 2u);
    const auto rows = pgQuery(s.uri, "SELECT count(*) FROM messages");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0][0], "3");
}

// While one chat's append waits for its commit (its row is locked), the appends of other chats
// commit: a chat's appends hold up only that chat's later ones, whichever connection they use.
TEST(PgOrder, AChatWaitingForItsCommitHoldsUpNoOtherChat) {
    MeteredStore s;
    constexpr int kOthers = 20;
    for (int c = 0; c <= kOthers; ++c)
        ASSERT_TRUE(await<Chat>(
            [&](auto& ctx, Done<Chat> done) { s.store->createChat(ctx, group(oid(100 + c), {oid(1)}), done); }));
    ChatLock lock(s.uri, oid(100));
    boost::asio::io_context& ctx = ::parley::test::longLivedContext();
    bool blockedAnswered = false;
    s.store->appendMessage(ctx, NewMessage{"", oid(100), oid(1), "m", "blocked", 0},
                           [&](Result<Appended> result) { blockedAnswered = result.has_value(); });
    ASSERT_TRUE(countReaches(s.uri,
                             "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                             "AND wait_event_type = 'Lock'",
                             "1"));
    int answered = 0;
    for (int c = 1; c <= kOthers; ++c)
        s.store->appendMessage(ctx, NewMessage{"", oid(100 + c), oid(1), "m", "free", 0},
                               [&](Result<Appended> result) { answered += result.has_value() ? 1 : 0; });
    ASSERT_TRUE(runUntil(ctx, [&] { return answered == kOthers; }));
    EXPECT_FALSE(blockedAnswered);
    lock.release();
    ASSERT_TRUE(runUntil(ctx, [&] { return blockedAnswered; }));
}

// Appends arriving steadily, one every 400 us over 40 chats, each of which would find a
// connection idle: paced, they share commits, and each chat's are acked and stored in the
// order issued.
TEST(PgPacing, SteadyAppendsFromManyChatsShareCommitsInOrder) {
    MeteredStore s(std::chrono::microseconds(2000));
    constexpr int kChats = 40;
    constexpr int kAppends = 2000;
    for (int c = 0; c < kChats; ++c)
        ASSERT_TRUE(await<Chat>(
            [&](auto& ctx, Done<Chat> done) { s.store->createChat(ctx, group(oid(100 + c), {oid(1)}), done); }));
    const auto commits = s.metrics.storeCommits.load();
    const auto writes = s.metrics.storeCommittedWrites.load();

    boost::asio::io_context& ctx = ::parley::test::longLivedContext();
    ctx.restart();
    std::vector<std::vector<std::string>> acked(kChats); // client ids, in the order acked
    int done = 0;
    int failed = 0;
    {
        auto guard = boost::asio::make_work_guard(ctx);
        const auto start = Clock::now();
        for (int i = 0; i < kAppends; ++i) {
            ctx.run_until(start + i * std::chrono::microseconds(400)); // answers acks meanwhile
            const int chat = i % kChats;
            s.store->appendMessage(ctx, NewMessage{"", oid(100 + chat), oid(1), "m", "m" + std::to_string(i), 0},
                                   [&, chat](Result<Appended> result) {
                                       ++done;
                                       if (!result) return void(++failed);
                                       acked[static_cast<std::size_t>(chat)].push_back(result->message.clientId);
                                   });
        }
    }
    ASSERT_TRUE(runUntil(ctx, [&] { return done == kAppends; }));
    EXPECT_EQ(failed, 0);
    EXPECT_EQ(s.metrics.storeCommittedWrites.load() - writes, static_cast<std::uint64_t>(kAppends));
    // Unpaced, nearly every append commits alone here; paced, about three share a commit.
    const auto shared = s.metrics.storeCommits.load() - commits;
    EXPECT_LE(shared * 3, static_cast<std::uint64_t>(kAppends) * 2) << shared << " commits";

    for (int c = 0; c < kChats; ++c) {
        std::vector<std::string> issued;
        for (int i = c; i < kAppends; i += kChats) issued.push_back("m" + std::to_string(i));
        EXPECT_EQ(acked[static_cast<std::size_t>(c)], issued) << "chat " << c << ": acks out of order";
        auto history = page(*s.store, oid(100 + c), std::nullopt, 1000);
        ASSERT_TRUE(history);
        std::vector<std::string> stored;
        for (std::size_t m = 0; m < history->messages.size(); ++m) {
            stored.push_back(history->messages[m].clientId);
            if (m > 0) EXPECT_TRUE(before(history->messages[m - 1], history->messages[m]));
        }
        EXPECT_EQ(stored, issued) << "chat " << c << ": history out of order";
    }
}

} // namespace
} // namespace parley::store::pgtest
