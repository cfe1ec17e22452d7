// The ChatStore contract on every backend: chats and memberships.

#include "ContractFixture.hpp"

namespace parley::store::test {
namespace {

TEST_P(ChatStoreContract, CreatedChatIsGivenToItsMembersWithMembersInTheOrderGiven) {
    const std::string a = newId(), b = newId(), c = newId();
    // Not sorted: the order given is the join order.
    Chat chat;
    chat.id = newId();
    chat.type = "group";
    chat.title = "Team";
    chat.createdBy = b;
    chat.memberIds = {b, c, a};
    chat.createdAt = chat.updatedAt = 1234;
    auto created = createChat(chat);
    ASSERT_TRUE(ok(created));
    EXPECT_EQ(describe(*created), describe(chat));
    for (const auto& member : {a, b, c}) {
        auto seen = chatForMember(chat.id, member);
        ASSERT_TRUE(ok(seen));
        EXPECT_EQ(describe(*seen), describe(chat));
    }
}

TEST_P(ChatStoreContract, ANonMemberAndAnUnknownChatAreBothForbidden) {
    const std::string a = newId(), b = newId();
    Chat chat = makeChat({a, b});
    EXPECT_TRUE(failsWith(chatForMember(chat.id, newId()), Errc::Forbidden));
    EXPECT_TRUE(failsWith(chatForMember(newId(), a), Errc::Forbidden));
}

TEST_P(ChatStoreContract, ADmAndAChatWithoutTitleAreStoredAsGiven) {
    const std::string a = newId(), b = newId();
    Chat dm;
    dm.id = newId();
    dm.type = "dm";
    dm.createdBy = a;
    dm.memberIds = {a, b};
    dm.createdAt = dm.updatedAt = 5;
    ASSERT_TRUE(ok(createChat(dm)));
    auto seen = chatForMember(dm.id, b);
    ASSERT_TRUE(ok(seen));
    EXPECT_EQ(describe(*seen), describe(dm));
}

TEST_P(ChatStoreContract, ListChatsIsNewestUpdatedFirst) {
    const std::string me = newId(), other = newId();
    Chat first = makeChat({me, other}, 1000);
    Chat second = makeChat({other, me}, 2000);
    Chat third = makeChat({me}, 3000);
    makeChat({other}, 4000); // not mine

    auto order = [&] {
        auto list = listChats(me);
        EXPECT_TRUE(ok(list));
        std::vector<std::string> ids;
        if (list)
            for (const auto& s : *list) ids.push_back(s.chat.id);
        return ids;
    };
    EXPECT_EQ(order(), (std::vector<std::string>{third.id, second.id, first.id}));
    ASSERT_TRUE(ok(renameChat(first.id, me, "renamed", 5000)));
    EXPECT_EQ(order(), (std::vector<std::string>{first.id, third.id, second.id}));
    ASSERT_TRUE(ok(addMember(second.id, me, newId(), 6000)));
    EXPECT_EQ(order(), (std::vector<std::string>{second.id, first.id, third.id}));

    auto list = listChats(me);
    ASSERT_TRUE(ok(list));
    auto seen = chatForMember(second.id, me);
    ASSERT_TRUE(ok(seen));
    EXPECT_EQ(describe(list->front().chat), describe(*seen)) << "each entry is the whole chat";
    auto none = listChats(newId());
    ASSERT_TRUE(ok(none));
    EXPECT_TRUE(none->empty());
}

// The list a chat client's home screen shows: most recent activity first (a new message, or a
// change of the chat), each chat with its last message.
TEST_P(ChatStoreContract, ListChatsIsByLastActivityWithEachChatsLastMessage) {
    const std::string me = newId(), other = newId();
    Chat first = makeChat({me, other}, 1000);
    Chat second = makeChat({me, other}, 2000);
    Chat quiet = makeChat({me}, 3000);

    auto list = [&] {
        auto l = listChats(me);
        EXPECT_TRUE(ok(l));
        return l ? *l : std::vector<ChatSummary>{};
    };
    auto ids = [&] {
        std::vector<std::string> out;
        for (const auto& s : list()) out.push_back(s.chat.id);
        return out;
    };
    EXPECT_EQ(ids(), (std::vector<std::string>{quiet.id, second.id, first.id}));
    for (const auto& s : list()) EXPECT_FALSE(s.lastMessage.has_value()) << "no messages yet";

    send(first.id, other, 4000);
    Message latest = send(first.id, me, 4100);
    EXPECT_EQ(ids(), (std::vector<std::string>{first.id, quiet.id, second.id}));
    auto top = list().front();
    ASSERT_TRUE(top.lastMessage.has_value());
    EXPECT_EQ(top.lastMessage->id, latest.id);
    EXPECT_EQ(top.lastMessage->chatId, first.id);
    EXPECT_EQ(top.lastMessage->senderId, me);
    EXPECT_EQ(top.lastMessage->body, latest.body);
    EXPECT_EQ(top.lastMessage->clientId, latest.clientId);
    EXPECT_EQ(top.lastMessage->createdAt, latest.createdAt);

    Message inSecond = send(second.id, other, 4200);
    EXPECT_EQ(ids(), (std::vector<std::string>{second.id, first.id, quiet.id}));
    EXPECT_EQ(list().front().lastMessage->id, inSecond.id);
    // A change of the chat after its last message is activity too.
    ASSERT_TRUE(ok(renameChat(quiet.id, me, "renamed", latest.createdAt + 3'600'000)));
    EXPECT_EQ(ids(), (std::vector<std::string>{quiet.id, second.id, first.id}));
    EXPECT_FALSE(list().front().lastMessage.has_value());
}

TEST_P(ChatStoreContract, UnreadCountsAreOthersMessagesAfterTheReadCursor) {
    const std::string me = newId(), other = newId(), third = newId();
    Chat chat = makeChat({me, other, third}, 1000);
    Chat quiet = makeChat({me, other}, 500);
    Message o1 = send(chat.id, other, 2000);
    send(chat.id, me, 2100);
    Message o2 = send(chat.id, third, 2200);
    send(chat.id, me, 2300);
    send(chat.id, other, 2400);

    auto unread = [&](const std::string& user) {
        std::map<std::string, std::int64_t> counts;
        auto list = listChats(user);
        EXPECT_TRUE(ok(list));
        if (list)
            for (const auto& s : *list) counts[s.chat.id] = s.unreadCount;
        return counts;
    };
    EXPECT_EQ(unread(me)[chat.id], 3) << "no cursor: every message of the others, none of mine";
    EXPECT_EQ(unread(me)[quiet.id], 0);
    EXPECT_EQ(unread(other)[chat.id], 3);
    ASSERT_TRUE(ok(markRead(chat.id, me, o1.id, 3000)));
    EXPECT_EQ(unread(me)[chat.id], 2) << "after the cursor";
    ASSERT_TRUE(ok(markRead(chat.id, me, o2.id, 3000)));
    EXPECT_EQ(unread(me)[chat.id], 1);
    EXPECT_EQ(unread(other)[chat.id], 3) << "another member's cursor is its own";
}

TEST_P(ChatStoreContract, RenameSetsAndClearsTheTitle) {
    const std::string a = newId(), b = newId();
    Chat chat = makeChat({a, b}, 1000);
    auto renamed = renameChat(chat.id, b, "New title", 2000);
    ASSERT_TRUE(ok(renamed));
    Chat expected = chat;
    expected.title = "New title";
    expected.updatedAt = 2000;
    EXPECT_EQ(describe(*renamed), describe(expected));
    auto seen = chatForMember(chat.id, a);
    ASSERT_TRUE(ok(seen));
    EXPECT_EQ(describe(*seen), describe(expected));

    auto cleared = renameChat(chat.id, a, std::nullopt, 3000);
    ASSERT_TRUE(ok(cleared));
    EXPECT_FALSE(cleared->title.has_value());
    seen = chatForMember(chat.id, a);
    ASSERT_TRUE(ok(seen));
    EXPECT_FALSE(seen->title.has_value());
    EXPECT_EQ(seen->updatedAt, 3000);
}

TEST_P(ChatStoreContract, RenameByANonMemberOrOfAnUnknownChatIsForbidden) {
    const std::string a = newId();
    Chat chat = makeChat({a}, 1000);
    EXPECT_TRUE(failsWith(renameChat(chat.id, newId(), "hijack", 2000), Errc::Forbidden));
    EXPECT_TRUE(failsWith(renameChat(newId(), a, "x", 2000), Errc::Forbidden));
    auto seen = chatForMember(chat.id, a);
    ASSERT_TRUE(ok(seen));
    EXPECT_EQ(describe(*seen), describe(chat)) << "nothing changed";
}

TEST_P(ChatStoreContract, AddMemberAppendsInJoinOrderAndTwiceChangesNothing) {
    const std::string a = newId(), b = newId(), c = newId(), d = newId();
    Chat chat = makeChat({a, b}, 1000);
    auto added = addMember(chat.id, b, c, 2000);
    ASSERT_TRUE(ok(added));
    EXPECT_TRUE(added->changed);
    EXPECT_EQ(added->chat.memberIds, (std::vector<std::string>{a, b, c}));
    EXPECT_EQ(added->chat.updatedAt, 2000);
    added = addMember(chat.id, c, d, 3000);
    ASSERT_TRUE(ok(added));
    EXPECT_EQ(added->chat.memberIds, (std::vector<std::string>{a, b, c, d}));
    auto seen = chatForMember(chat.id, d);
    ASSERT_TRUE(ok(seen));
    EXPECT_EQ(describe(*seen), describe(added->chat)) << "the answer is the chat as committed";

    auto again = addMember(chat.id, a, c, 4000);
    ASSERT_TRUE(ok(again));
    EXPECT_FALSE(again->changed);
    EXPECT_EQ(describe(again->chat), describe(added->chat)) << "adding a member twice changes nothing";
}

// Changes are timed by the caller before they queue for the store, so one committed after
// another can carry an earlier time. The chat's time never goes back, and a member added by it
// joins after every member before it: the answer, the stored chat and the commit order agree.
TEST_P(ChatStoreContract, AChangeTimedBeforeTheLastOneKeepsTheChatsTimeAndJoinsLast) {
    const std::string a = newId(), b = newId(), c = newId(), d = newId();
    Chat chat = makeChat({a, b}, 1000);
    ASSERT_TRUE(ok(addMember(chat.id, a, c, 3000)));
    auto late = addMember(chat.id, a, d, 2000);
    ASSERT_TRUE(ok(late));
    EXPECT_EQ(late->chat.updatedAt, 3000) << "the chat's time does not go back";
    EXPECT_EQ(late->chat.memberIds, (std::vector<std::string>{a, b, c, d}));
    auto seen = chatForMember(chat.id, d);
    ASSERT_TRUE(ok(seen));
    EXPECT_EQ(describe(*seen), describe(late->chat)) << "the answer is the chat as committed";

    auto removed = removeMember(chat.id, a, b, 2500);
    ASSERT_TRUE(ok(removed));
    EXPECT_EQ(removed->chat.updatedAt, 3000);
    auto renamed = renameChat(chat.id, a, "late", 1500);
    ASSERT_TRUE(ok(renamed));
    EXPECT_EQ(renamed->updatedAt, 3000);
    seen = chatForMember(chat.id, a);
    ASSERT_TRUE(ok(seen));
    EXPECT_EQ(describe(*seen), describe(*renamed));
}

TEST_P(ChatStoreContract, AddMemberRefusalsForbiddenNotAGroupChatFull) {
    const std::string a = newId(), b = newId(), c = newId();
    Chat group = makeChat({a, b}, 1000);
    Chat dm = makeChat({a, b}, 1000, "dm");
    EXPECT_TRUE(failsWith(addMember(group.id, newId(), c, 2000), Errc::Forbidden)) << "actor not a member";
    EXPECT_TRUE(failsWith(addMember(newId(), a, c, 2000), Errc::Forbidden)) << "unknown chat";
    EXPECT_TRUE(failsWith(addMember(dm.id, a, c, 2000), Errc::NotAGroup));
    EXPECT_TRUE(failsWith(addMember(group.id, a, c, 2000, 2), Errc::ChatFull));
    auto seen = chatForMember(group.id, a);
    ASSERT_TRUE(ok(seen));
    EXPECT_EQ(describe(*seen), describe(group)) << "no refusal changed the chat";
    auto fits = addMember(group.id, a, c, 2000, 3);
    ASSERT_TRUE(ok(fits)) << "below the cap";
    EXPECT_EQ(fits->chat.memberIds.size(), 3U);
}

TEST_P(ChatStoreContract, RemoveMemberKeepsTheOthersInOrderAndTheirMessages) {
    const std::string a = newId(), b = newId(), c = newId(), d = newId();
    Chat chat = makeChat({a, b, c, d}, 1000);
    Message fromB = send(chat.id, b, 1500);
    auto removed = removeMember(chat.id, a, b, 2000);
    ASSERT_TRUE(ok(removed));
    EXPECT_TRUE(removed->changed);
    EXPECT_EQ(removed->chat.memberIds, (std::vector<std::string>{a, c, d}));
    EXPECT_EQ(removed->chat.updatedAt, 2000);
    EXPECT_TRUE(failsWith(chatForMember(chat.id, b), Errc::Forbidden));
    auto page = history(chat.id, a, {});
    ASSERT_TRUE(ok(page));
    EXPECT_EQ(idsOf(page->messages), std::vector<std::string>{fromB.id}) << "the removed member's messages stay";

    auto left = removeMember(chat.id, d, d, 3000); // leaving
    ASSERT_TRUE(ok(left));
    EXPECT_EQ(left->chat.memberIds, (std::vector<std::string>{a, c}));
}

TEST_P(ChatStoreContract, RemoveMemberRefusals) {
    const std::string a = newId(), b = newId();
    Chat group = makeChat({a, b}, 1000);
    Chat dm = makeChat({a, b}, 1000, "dm");
    EXPECT_TRUE(failsWith(removeMember(group.id, a, newId(), 2000), Errc::NotFound)) << "not a member";
    EXPECT_TRUE(failsWith(removeMember(group.id, newId(), b, 2000), Errc::Forbidden)) << "actor not a member";
    EXPECT_TRUE(failsWith(removeMember(newId(), a, b, 2000), Errc::Forbidden)) << "unknown chat";
    EXPECT_TRUE(failsWith(removeMember(dm.id, a, b, 2000), Errc::NotAGroup));
    ASSERT_TRUE(ok(removeMember(group.id, a, b, 2000)));
    EXPECT_TRUE(failsWith(removeMember(group.id, a, b, 3000), Errc::NotFound)) << "removed twice";
    auto seen = chatForMember(group.id, a);
    ASSERT_TRUE(ok(seen));
    EXPECT_EQ(seen->memberIds, std::vector<std::string>{a});
    EXPECT_EQ(seen->updatedAt, 2000) << "a refusal does not touch the chat";
}

TEST_P(ChatStoreContract, IsMemberFollowsMembership) {
    const std::string a = newId(), b = newId(), c = newId();
    Chat chat = makeChat({a, b}, 1000);
    auto member = [&](const std::string& chatId, const std::string& user) {
        auto r = isMember(chatId, user);
        EXPECT_TRUE(ok(r));
        return r && *r;
    };
    EXPECT_TRUE(member(chat.id, a));
    EXPECT_TRUE(member(chat.id, b));
    EXPECT_FALSE(member(chat.id, c));
    EXPECT_FALSE(member(newId(), a)) << "an unknown chat has no members";
    ASSERT_TRUE(ok(addMember(chat.id, a, c, 2000)));
    EXPECT_TRUE(member(chat.id, c));
    ASSERT_TRUE(ok(removeMember(chat.id, a, b, 3000)));
    EXPECT_FALSE(member(chat.id, b));
}

TEST_P(ChatStoreContract, ChatIdsOfAUserAreExactlyTheChatsItIsAMemberOf) {
    const std::string me = newId(), b = newId(), c = newId(), d = newId(), stranger = newId();
    const auto one = makeChat({me, b, c}, 1000);
    const auto two = makeChat({c, me, d}, 1000);
    const auto alone = makeChat({me}, 1000);
    makeChat({stranger, b}, 1000);
    const auto left = makeChat({me, d}, 1000);
    ASSERT_TRUE(ok(removeMember(left.id, me, me, 2000)));
    auto chats = chatIdsOf(me);
    ASSERT_TRUE(ok(chats));
    EXPECT_EQ(sorted(*chats), sorted({one.id, two.id, alone.id}));
    auto none = chatIdsOf(newId());
    ASSERT_TRUE(ok(none));
    EXPECT_TRUE(none->empty());
}

} // namespace
} // namespace parley::store::test
