// The ChatStore contract on every backend: users, sessions, health, and where completions run.
// (INSTANTIATE_TEST_SUITE_P for the whole suite is at the end of this file.)

#include "ContractFixture.hpp"
#include "support/LongLivedContext.hpp"

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <future>
#include <map>
#include <thread>
#include <utility>

namespace parley::store::test {
namespace {

User userWith(std::string email) {
    User u;
    u.id = newId();
    u.email = std::move(email);
    u.displayName = "Ada " + u.id.substr(20);
    u.passwordHash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA";
    u.createdAt = 1700000000123;
    return u;
}

TEST_P(ChatStoreContract, CreatedUserIsFoundByIdAndByEmailInAnyCase) {
    User u = userWith("Ada.Lovelace@Example.COM");
    ASSERT_TRUE(ok(createUser(u)));
    User stored = u;
    stored.email = "ada.lovelace@example.com"; // stored lower-case

    auto byId = findUser(u.id);
    ASSERT_TRUE(ok(byId));
    EXPECT_EQ(describe(*byId), describe(stored));
    for (const char* spelling : {"ada.lovelace@example.com", "ADA.LOVELACE@EXAMPLE.COM", "Ada.Lovelace@example.Com"}) {
        auto byEmail = findUserByEmail(spelling);
        ASSERT_TRUE(ok(byEmail)) << spelling;
        EXPECT_EQ(describe(*byEmail), describe(stored)) << spelling;
    }
}

TEST_P(ChatStoreContract, AnEmailTakenInAnotherCaseIsDuplicate) {
    ASSERT_TRUE(ok(createUser(userWith("grace@example.com"))));
    User again = userWith("GRACE@example.com");
    EXPECT_TRUE(failsWith(createUser(again), Errc::Duplicate));
    EXPECT_TRUE(failsWith(findUser(again.id), Errc::NotFound)) << "a refused user is not stored";
    ASSERT_TRUE(ok(createUser(userWith("grace2@example.com")))) << "the store still works after a refusal";
}

TEST_P(ChatStoreContract, UnknownUsersAreNotFound) {
    EXPECT_TRUE(failsWith(findUser(newId()), Errc::NotFound));
    EXPECT_TRUE(failsWith(findUserByEmail("nobody@example.com"), Errc::NotFound));
}

TEST_P(ChatStoreContract, TouchLastSeenSucceedsForUsersAndForIdentitiesWithoutARow) {
    User u = userWith("seen@example.com");
    ASSERT_TRUE(ok(createUser(u)));
    EXPECT_TRUE(ok(touchLastSeen(u.id, 1700000005000)));
    EXPECT_TRUE(ok(touchLastSeen(newId(), 1700000005000)));
    auto after = findUser(u.id);
    ASSERT_TRUE(ok(after));
    EXPECT_EQ(after->email, "seen@example.com");
}

// lastSeenAt is kept for every identity, with or without a users row (a JWT-only user), and
// never moves back (two servers may write it with clocks a little apart).
TEST_P(ChatStoreContract, MembersSeenCarryEachOnesLastSeenTimeForAnyIdentity) {
    User local = userWith("seen-contact@example.com");
    ASSERT_TRUE(ok(createUser(local)));
    const std::string me = newId(), jwtOnly = newId(), never = newId();
    const auto chat = makeChat({me, local.id, jwtOnly, never}, 1000);
    makeChat({me, newId()}, 1000); // another chat's members are not this one's
    ASSERT_TRUE(ok(touchLastSeen(local.id, 1700000005000)));
    ASSERT_TRUE(ok(touchLastSeen(jwtOnly, 1700000007000)));
    ASSERT_TRUE(ok(touchLastSeen(jwtOnly, 1700000006000)));
    auto seen = membersSeen(chat.id);
    ASSERT_TRUE(ok(seen));
    ASSERT_EQ(seen->size(), 4u);
    std::map<std::string, std::optional<std::int64_t>> byUser;
    for (const auto& c : *seen) byUser[c.userId] = c.lastSeenAt;
    EXPECT_EQ(byUser,
              (std::map<std::string, std::optional<std::int64_t>>{
                  {me, std::nullopt}, {local.id, 1700000005000}, {jwtOnly, 1700000007000}, {never, std::nullopt}}));
    EXPECT_TRUE(std::is_sorted(seen->begin(), seen->end(),
                               [](const ContactSeen& x, const ContactSeen& y) { return x.userId < y.userId; }));
    auto lonely = membersSeen(newId());
    ASSERT_TRUE(ok(lonely));
    EXPECT_TRUE(lonely->empty());
}

// Connects' times are written as one list: a user may be in it twice, in any order, and the list
// may be empty; each user keeps the latest of what it had and what the list says.
TEST_P(ChatStoreContract, ALastSeenListKeepsEachUsersLatestTime) {
    const std::string a = newId(), b = newId(), c = newId();
    const auto chat = makeChat({a, b, c}, 1000);
    ASSERT_TRUE(ok(touchLastSeen(c, 1700000009000)));
    ASSERT_TRUE(ok(touchLastSeen(std::vector<LastSeen>{
        {b, 1700000002000}, {a, 1700000003000}, {b, 1700000004000}, {c, 1700000001000}, {a, 1700000001000}})));
    ASSERT_TRUE(ok(touchLastSeen(std::vector<LastSeen>{})));
    auto seen = membersSeen(chat.id);
    ASSERT_TRUE(ok(seen));
    std::map<std::string, std::optional<std::int64_t>> byUser;
    for (const auto& s : *seen) byUser[s.userId] = s.lastSeenAt;
    EXPECT_EQ(byUser, (std::map<std::string, std::optional<std::int64_t>>{
                          {a, 1700000003000}, {b, 1700000004000}, {c, 1700000009000}}));
}

TEST_P(ChatStoreContract, SessionsAreFoundByHashIncludingExpiredOnesAndDeletedOnce) {
    User u = userWith("sess@example.com");
    ASSERT_TRUE(ok(createUser(u)));
    SessionRow live{std::string(64, 'a'), u.id, 1000, 4102444800000};
    SessionRow expired{std::string(64, 'b'), u.id, 1000, 2000};
    ASSERT_TRUE(ok(createSession(live)));
    ASSERT_TRUE(ok(createSession(expired)));

    auto found = findSession(live.tokenHash);
    ASSERT_TRUE(ok(found));
    EXPECT_EQ(describe(*found), describe(live));
    auto old = findSession(expired.tokenHash);
    ASSERT_TRUE(ok(old)) << "an expired session is returned: the caller decides";
    EXPECT_EQ(describe(*old), describe(expired));

    EXPECT_TRUE(ok(deleteSession(live.tokenHash)));
    EXPECT_TRUE(failsWith(deleteSession(live.tokenHash), Errc::NotFound)) << "deleted twice";
    EXPECT_TRUE(failsWith(findSession(live.tokenHash), Errc::NotFound));
    EXPECT_TRUE(ok(findSession(expired.tokenHash))) << "the other session stays";
    EXPECT_TRUE(failsWith(findSession(std::string(64, 'c')), Errc::NotFound));
}

TEST_P(ChatStoreContract, PingSucceedsWhileTheDatabaseAnswers) { EXPECT_TRUE(ok(ping())); }

// complete() checks on every call that the completion runs after the call returned and on the
// thread running the io_context; here the io_context is run by another thread than the caller.
TEST_P(ChatStoreContract, CompletesOnTheIoContextItWasGivenAndNeverInline) {
    boost::asio::io_context& other = ::parley::test::longLivedContext();
    auto guard = boost::asio::make_work_guard(other);
    std::thread runner([&] { other.run(); });
    const auto runnerId = runner.get_id();

    // Run inline, the completion would run on this thread, not the runner.
    std::promise<std::pair<std::thread::id, bool>> seen;
    store().ping(other, [&](Result<void> r) { seen.set_value({std::this_thread::get_id(), r.has_value()}); });
    auto [thread, succeeded] = seen.get_future().get();
    EXPECT_EQ(thread, runnerId);
    EXPECT_TRUE(succeeded);

    // A failing operation completes the same way.
    std::promise<std::pair<std::thread::id, bool>> failed;
    store().findUser(other, newId(), [&](Result<User> r) {
        failed.set_value({std::this_thread::get_id(), r.has_error() && r.error() == Errc::NotFound});
    });
    auto [failThread, notFound] = failed.get_future().get();
    EXPECT_EQ(failThread, runnerId);
    EXPECT_TRUE(notFound);

    guard.reset();
    runner.join();
}

std::string backendName(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

} // namespace

INSTANTIATE_TEST_SUITE_P(Backends, ChatStoreContract, ::testing::Values("sqlite", "postgres"), backendName);

} // namespace parley::store::test
