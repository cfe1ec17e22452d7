// The ChatStore contract on every backend, under concurrency: each operation is atomic, so
// calls racing on one chat from several threads each see and answer a state that was committed.

#include "ContractFixture.hpp"
#include "support/LongLivedContext.hpp"

#include <boost/asio/executor_work_guard.hpp>

#include <functional>
#include <latch>
#include <set>

namespace parley::store::test {
namespace {

constexpr int kThreads = 4;
constexpr int kPerThread = 6;
constexpr int kCalls = kThreads * kPerThread;

/**
 * Starts kCalls operations from kThreads threads at once, each thread with its own io_context
 * that it runs until its own calls complete (30 s at most). Returns the results by call index.
 */
template <class T>
std::vector<std::optional<Result<T>>>
concurrently(const std::function<void(boost::asio::io_context&, int, Done<T>)>& start) {
    std::vector<std::optional<Result<T>>> results(kCalls);
    std::mutex mutex;
    std::latch go(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            boost::asio::io_context& ctx = ::parley::test::longLivedContext();
            auto guard = boost::asio::make_work_guard(ctx);
            int done = 0;
            go.arrive_and_wait();
            for (int i = t * kPerThread; i < (t + 1) * kPerThread; ++i) {
                start(ctx, i, [&, i](Result<T> r) {
                    {
                        std::lock_guard lock(mutex);
                        results[static_cast<std::size_t>(i)].emplace(std::move(r));
                    }
                    if (++done == kPerThread) guard.reset();
                });
            }
            ctx.run_for(std::chrono::seconds(30));
        });
    }
    for (auto& thread : threads) thread.join();
    return results;
}

TEST_P(ChatStoreContract, ConcurrentAddsEachAnswerACommittedChatAndNoneIsLost) {
    const std::string owner = newId();
    Chat chat = makeChat({owner});
    std::vector<std::string> users;
    for (int i = 0; i < kCalls; ++i) users.push_back(newId());

    auto results = concurrently<MemberChange>([&](boost::asio::io_context& ctx, int i, Done<MemberChange> done) {
        store().addMember(ctx, chat.id, owner, users[static_cast<std::size_t>(i)], 2000 + i, 1000, std::move(done));
    });
    std::set<std::size_t> sizes;
    for (int i = 0; i < kCalls; ++i) {
        const auto& r = results[static_cast<std::size_t>(i)];
        ASSERT_TRUE(r.has_value()) << "call " << i << " did not complete";
        ASSERT_TRUE(ok(*r)) << "call " << i;
        const auto& members = (*r)->chat.memberIds;
        EXPECT_TRUE((*r)->changed);
        EXPECT_NE(std::find(members.begin(), members.end(), users[static_cast<std::size_t>(i)]), members.end())
            << "the chat answered holds the member added";
        EXPECT_EQ(members.front(), owner);
        EXPECT_TRUE(sizes.insert(members.size()).second)
            << "two answers have " << members.size() << " members: one of them was never committed";
    }
    auto final = chatForMember(chat.id, owner);
    ASSERT_TRUE(ok(final));
    std::vector<std::string> expected = users;
    expected.push_back(owner);
    EXPECT_EQ(sorted(final->memberIds), sorted(expected)) << "no add was lost";
}

TEST_P(ChatStoreContract, ConcurrentAddsPastTheCapStopAtTheCap) {
    const std::string owner = newId();
    Chat chat = makeChat({owner});
    constexpr std::size_t kCap = 11; // the owner and 10 of the 24
    std::vector<std::string> users;
    for (int i = 0; i < kCalls; ++i) users.push_back(newId());

    auto results = concurrently<MemberChange>([&](boost::asio::io_context& ctx, int i, Done<MemberChange> done) {
        store().addMember(ctx, chat.id, owner, users[static_cast<std::size_t>(i)], 2000 + i, kCap, std::move(done));
    });
    std::vector<std::string> added{owner};
    std::set<std::size_t> sizes;
    int full = 0;
    for (int i = 0; i < kCalls; ++i) {
        const auto& r = results[static_cast<std::size_t>(i)];
        ASSERT_TRUE(r.has_value()) << "call " << i << " did not complete";
        if (r->has_error()) {
            EXPECT_TRUE(failsWith(*r, Errc::ChatFull)) << "call " << i;
            ++full;
            continue;
        }
        const auto& members = (*r)->chat.memberIds;
        EXPECT_NE(std::find(members.begin(), members.end(), users[static_cast<std::size_t>(i)]), members.end());
        EXPECT_LE(members.size(), kCap);
        EXPECT_TRUE(sizes.insert(members.size()).second) << "two answers have " << members.size() << " members";
        added.push_back(users[static_cast<std::size_t>(i)]);
    }
    EXPECT_EQ(full, kCalls - static_cast<int>(kCap - 1));
    auto final = chatForMember(chat.id, owner);
    ASSERT_TRUE(ok(final));
    EXPECT_EQ(final->memberIds.size(), kCap) << "the cap holds";
    EXPECT_EQ(sorted(final->memberIds), sorted(added)) << "the chat holds exactly the adds answered";
}

TEST_P(ChatStoreContract, ConcurrentRetriesOfOneMessageStoreItOnce) {
    const std::string a = newId();
    Chat chat = makeChat({a});
    auto results = concurrently<Appended>([&](boost::asio::io_context& ctx, int i, Done<Appended> done) {
        store().appendMessage(ctx, {newId(), chat.id, a, "body " + std::to_string(i), "one-client-id", 1000 + i},
                              std::move(done));
    });
    int created = 0;
    std::set<std::string> ids;
    for (int i = 0; i < kCalls; ++i) {
        const auto& r = results[static_cast<std::size_t>(i)];
        ASSERT_TRUE(r.has_value()) << "call " << i << " did not complete";
        ASSERT_TRUE(ok(*r)) << "call " << i;
        created += (*r)->created ? 1 : 0;
        ids.insert((*r)->message.id);
    }
    EXPECT_EQ(created, 1) << "one call stored it, every other answered that copy";
    EXPECT_EQ(ids.size(), 1U);
    auto page = history(chat.id, a, {});
    ASSERT_TRUE(ok(page));
    ASSERT_EQ(page->messages.size(), 1U);
    EXPECT_EQ(page->messages[0].id, *ids.begin());
}

} // namespace
} // namespace parley::store::test
