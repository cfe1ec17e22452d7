// The ChatStore contract on every backend: the records of connection state recovery and the
// replay read.

#include "ContractFixture.hpp"

#include "core/Time.hpp"

#include <thread>

namespace parley::store::test {
namespace {

class RecoveryContract : public ChatStoreContract {
protected:
    Result<void> saveRecovery(RecoveryRecord r) {
        return complete<void>(ctx_, [&](Done<void> d) { store().saveRecovery(ctx_, std::move(r), std::move(d)); });
    }
    Result<void> endRecovery(std::string pid, std::string owner, std::int64_t at) {
        return complete<void>(
            ctx_, [&](Done<void> d) { store().endRecovery(ctx_, std::move(pid), std::move(owner), at, std::move(d)); });
    }
    Result<void> deleteRecovery(std::string pid) {
        return complete<void>(ctx_, [&](Done<void> d) { store().deleteRecovery(ctx_, std::move(pid), std::move(d)); });
    }
    Result<RecoveryRecord> claim(std::string pid, std::string userId, std::string owner, std::int64_t at,
                                 std::int64_t notBefore) {
        return complete<RecoveryRecord>(ctx_, [&](Done<RecoveryRecord> d) {
            store().claimRecovery(ctx_, std::move(pid), std::move(userId), std::move(owner), at, notBefore,
                                  std::move(d));
        });
    }
    Result<std::int64_t> prune(std::int64_t notBefore) {
        return complete<std::int64_t>(
            ctx_, [&](Done<std::int64_t> d) { store().pruneRecovery(ctx_, notBefore, std::move(d)); });
    }
    Result<Replay> replay(ReplayRequest request) {
        return complete<Replay>(ctx_, [&](Done<Replay> d) { store().replay(ctx_, std::move(request), std::move(d)); });
    }

    static RecoveryRecord record(std::string user, std::vector<RecoveryRoom> rooms, std::int64_t at,
                                 std::string owner = "owner-1") {
        return RecoveryRecord{
            newId() + "pid", std::move(user), "sid-" + newId(), std::move(owner), std::move(rooms), at, at,
            std::nullopt};
    }

    // A message stored now, a millisecond after the previous one at least.
    Message sendNow(const std::string& chatId, const std::string& sender) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        return send(chatId, sender, core::nowMs());
    }
};

TEST_P(RecoveryContract, AClaimAnswersTheRecordAsSavedAndTakesItOver) {
    const std::string user = newId(), chatA = newId(), chatB = newId();
    auto r = record(user, {{chatA, 1000}, {chatB, 2000}}, 5000);
    ASSERT_TRUE(ok(saveRecovery(r)));
    ASSERT_TRUE(ok(endRecovery(r.pid, "owner-1", 6000)));
    auto claimed = claim(r.pid, user, "owner-2", 7000, 5500);
    ASSERT_TRUE(ok(claimed));
    EXPECT_EQ(claimed->pid, r.pid);
    EXPECT_EQ(claimed->userId, user);
    EXPECT_EQ(claimed->sid, r.sid);
    EXPECT_EQ(claimed->owner, "owner-1");
    ASSERT_EQ(claimed->rooms.size(), 2U);
    for (const auto& room : claimed->rooms) EXPECT_EQ(room.joinedAt, room.chatId == chatA ? 1000 : 2000);
    EXPECT_EQ(claimed->createdAt, 5000);
    EXPECT_EQ(claimed->disconnectedAt, std::optional<std::int64_t>(6000));

    // The old owner's late writes change nothing; the new owner's do.
    ASSERT_TRUE(ok(endRecovery(r.pid, "owner-1", 7100)));
    auto lateSave = r;
    lateSave.rooms.clear();
    lateSave.updatedAt = 7200;
    ASSERT_TRUE(ok(saveRecovery(lateSave)));
    auto again = claim(r.pid, user, "owner-3", 8000, 6999);
    ASSERT_TRUE(ok(again)) << "taken over at 7000, never marked disconnected since";
    EXPECT_EQ(again->owner, "owner-2");
    EXPECT_EQ(again->rooms.size(), 2U);
    EXPECT_FALSE(again->disconnectedAt.has_value());
}

TEST_P(RecoveryContract, AClaimIsRefusedAlikeForAnotherUserATooOldRecordAndNoRecord) {
    const std::string user = newId();
    auto r = record(user, {{newId(), 1000}}, 5000);
    ASSERT_TRUE(ok(saveRecovery(r)));
    ASSERT_TRUE(ok(endRecovery(r.pid, "owner-1", 6000)));
    EXPECT_TRUE(failsWith(claim(r.pid, newId(), "x", 6100, 0), Errc::NotFound)) << "another user";
    EXPECT_TRUE(failsWith(claim(r.pid, user, "x", 9000, 6001), Errc::NotFound)) << "too old";
    EXPECT_TRUE(failsWith(claim("no-such-pid", user, "x", 6100, 0), Errc::NotFound));
    // None of the refusals took it over.
    auto claimed = claim(r.pid, user, "owner-2", 6100, 6000);
    ASSERT_TRUE(ok(claimed));
    EXPECT_EQ(claimed->owner, "owner-1");
    ASSERT_TRUE(ok(deleteRecovery(r.pid)));
    EXPECT_TRUE(failsWith(claim(r.pid, user, "x", 6200, 0), Errc::NotFound));
    EXPECT_TRUE(ok(deleteRecovery(r.pid))) << "deleting what is gone succeeds";
}

TEST_P(RecoveryContract, ARecordNeverMarkedDisconnectedAgesFromItsLastWrite) {
    const std::string user = newId();
    auto r = record(user, {}, 5000);
    ASSERT_TRUE(ok(saveRecovery(r)));
    EXPECT_TRUE(failsWith(claim(r.pid, user, "x", 9000, 5001), Errc::NotFound));
    EXPECT_TRUE(ok(claim(r.pid, user, "x", 9000, 5000)));
}

TEST_P(RecoveryContract, PruneDeletesTheRecordsOlderThanTheLimit) {
    const std::string user = newId();
    auto old = record(user, {}, 1000);
    auto young = record(user, {}, 1000);
    ASSERT_TRUE(ok(saveRecovery(old)));
    ASSERT_TRUE(ok(saveRecovery(young)));
    ASSERT_TRUE(ok(endRecovery(old.pid, "owner-1", 2000)));
    ASSERT_TRUE(ok(endRecovery(young.pid, "owner-1", 4000)));
    auto pruned = prune(3000);
    ASSERT_TRUE(ok(pruned));
    EXPECT_GE(*pruned, 1);
    EXPECT_TRUE(failsWith(claim(old.pid, user, "x", 4100, 0), Errc::NotFound));
    EXPECT_TRUE(ok(claim(young.pid, user, "x", 4100, 0)));
}

TEST_P(RecoveryContract, ReplayAnswersTheMissedMessagesInOrderAcrossChatsFromEachJoin) {
    const std::string a = newId(), b = newId();
    Chat one = makeChat({a, b});
    Chat two = makeChat({a, b});
    const Message beforeJoin = sendNow(one.id, a);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const std::int64_t joined = core::nowMs();
    const Message seen = sendNow(one.id, a);
    const Message m1 = sendNow(two.id, a);
    const Message m2 = sendNow(one.id, b);
    const Message m3 = sendNow(two.id, b);

    ReplayRequest request{b, {{one.id, joined}, {two.id, joined}}, Position{seen.createdAt, seen.id}, 0, 100};
    auto r = replay(request);
    ASSERT_TRUE(ok(r));
    EXPECT_EQ(sorted(r->memberChats), sorted({one.id, two.id}));
    EXPECT_EQ(idsOf(r->messages), (std::vector<std::string>{m1.id, m2.id, m3.id}));
    EXPECT_FALSE(r->truncated);

    // Without an offset: everything since each room's join, nothing before.
    request.after.reset();
    r = replay(request);
    ASSERT_TRUE(ok(r));
    EXPECT_EQ(idsOf(r->messages), (std::vector<std::string>{seen.id, m1.id, m2.id, m3.id}));
    (void)beforeJoin;

    // Past the limit: truncated, and no partial list.
    request.limit = 2;
    r = replay(request);
    ASSERT_TRUE(ok(r));
    EXPECT_TRUE(r->truncated);
    EXPECT_TRUE(r->messages.empty());
}

TEST_P(RecoveryContract, ReplayLeavesOutAChatTheUserNoLongerBelongsTo) {
    const std::string a = newId(), b = newId();
    Chat kept = makeChat({a, b});
    Chat left = makeChat({a, b});
    const std::int64_t joined = core::nowMs() - 1;
    const Message inLeft = sendNow(left.id, a);
    ASSERT_TRUE(ok(removeMember(left.id, a, b, core::nowMs())));
    const Message afterRemoval = sendNow(left.id, a);
    const Message inKept = sendNow(kept.id, a);
    auto r = replay(ReplayRequest{b, {{kept.id, joined}, {left.id, joined}}, std::nullopt, 0, 100});
    ASSERT_TRUE(ok(r));
    EXPECT_EQ(r->memberChats, std::vector<std::string>{kept.id});
    EXPECT_EQ(idsOf(r->messages), std::vector<std::string>{inKept.id});
    (void)inLeft;
    (void)afterRemoval;
}

TEST_P(RecoveryContract, ReplayAnswersChatsAndCursorsChangedSince) {
    const std::string a = newId(), b = newId();
    Chat quiet = makeChat({a, b}, 1000);
    Chat renamed = makeChat({a, b}, 1000);
    const std::int64_t since = core::nowMs();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ASSERT_TRUE(ok(renameChat(renamed.id, a, "new title", core::nowMs())));
    const Message m = sendNow(quiet.id, b);
    ASSERT_TRUE(ok(markRead(quiet.id, a, m.id, core::nowMs())));
    auto r = replay(ReplayRequest{b, {{quiet.id, 0}, {renamed.id, 0}}, std::nullopt, since, 100});
    ASSERT_TRUE(ok(r));
    ASSERT_EQ(r->chats.size(), 1U);
    EXPECT_EQ(r->chats[0].id, renamed.id);
    EXPECT_EQ(r->chats[0].title, std::optional<std::string>("new title"));
    EXPECT_EQ(r->chats[0].memberIds.size(), 2U);
    ASSERT_EQ(r->cursors.size(), 1U);
    EXPECT_EQ(r->cursors[0].chatId, quiet.id);
    EXPECT_EQ(r->cursors[0].cursor.userId, a);
    EXPECT_EQ(r->cursors[0].cursor.messageId, m.id);
    (void)quiet;
}

INSTANTIATE_TEST_SUITE_P(Backends, RecoveryContract, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

} // namespace
} // namespace parley::store::test
