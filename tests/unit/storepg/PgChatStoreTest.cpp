// Every PgChatStore operation round-trips on a real PostgreSQL (a database per test), with the
// semantics of the SQLite backend.

#include "PgTestSupport.hpp"

#include "core/ObjectId.hpp"
#include "core/Time.hpp"

namespace parley::store::pgtest {
namespace {

class PgChatStoreTest : public ::testing::Test {
protected:
    void SetUp() override { store_ = openFresh(); }
    ChatStore& s() { return *store_; }

    void makeChat(const Chat& chat) {
        auto created = await<Chat>([&](auto& ctx, Done<Chat> done) { s().createChat(ctx, chat, std::move(done)); });
        ASSERT_TRUE(created) << created.error().message();
    }
    // The id and time proposed are the store's to replace: the answer has those stored.
    Result<Appended> send(const std::string& chat, const std::string& sender, const std::string& clientId, int n) {
        NewMessage m{oid(n), chat, sender, "body " + std::to_string(n), clientId, n};
        return await<Appended>([&](auto& ctx, Done<Appended> done) { s().appendMessage(ctx, m, std::move(done)); });
    }
    // Sends and returns the stored id ("" after a test failure).
    std::string sent(const std::string& chat, const std::string& sender, const std::string& clientId, int n) {
        auto appended = send(chat, sender, clientId, n);
        EXPECT_TRUE(appended) << appended.error().message();
        return appended ? appended->message.id : std::string();
    }

    std::unique_ptr<ChatStore> store_;
};

#define AWAIT(T, CALL) await<T>([&](boost::asio::io_context& ctx, Done<T> done) { s().CALL; })

TEST_F(PgChatStoreTest, PingAnswers) { EXPECT_TRUE(AWAIT(void, ping(ctx, std::move(done)))); }

TEST_F(PgChatStoreTest, UsersRoundTripWithLowerCaseEmails) {
    User user{oid(1), "Ada@Example.COM", "Ada", "$argon2id$hash", 1234};
    ASSERT_TRUE(AWAIT(void, createUser(ctx, user, std::move(done))));

    auto byId = AWAIT(User, findUser(ctx, oid(1), std::move(done)));
    ASSERT_TRUE(byId);
    EXPECT_EQ(byId->email, "ada@example.com");
    EXPECT_EQ(byId->displayName, "Ada");
    EXPECT_EQ(byId->passwordHash, "$argon2id$hash");
    EXPECT_EQ(byId->createdAt, 1234);

    auto byEmail = AWAIT(User, findUserByEmail(ctx, "ADA@example.com", std::move(done)));
    ASSERT_TRUE(byEmail);
    EXPECT_EQ(byEmail->id, oid(1));

    User twin{oid(2), "ada@EXAMPLE.com", "Twin", "h", 1};
    auto duplicate = AWAIT(void, createUser(ctx, twin, std::move(done)));
    ASSERT_FALSE(duplicate);
    EXPECT_EQ(duplicate.error(), Errc::Duplicate);

    EXPECT_EQ(AWAIT(User, findUser(ctx, oid(3), std::move(done))).error(), Errc::NotFound);
    EXPECT_EQ(AWAIT(User, findUserByEmail(ctx, "nobody@x", std::move(done))).error(), Errc::NotFound);
    // An identity without a users row is touched without effect.
    EXPECT_TRUE(AWAIT(void, touchLastSeen(ctx, {{oid(9), 5}}, std::move(done))));
    EXPECT_TRUE(AWAIT(void, touchLastSeen(ctx, {{oid(1), 5}}, std::move(done))));
}

TEST_F(PgChatStoreTest, SessionsRoundTrip) {
    ASSERT_TRUE(AWAIT(void, createUser(ctx, User{oid(1), "a@x", "A", "h", 1}, std::move(done))));
    SessionRow session{"abc123", oid(1), 10, 20};
    ASSERT_TRUE(AWAIT(void, createSession(ctx, session, std::move(done))));
    auto found = AWAIT(SessionRow, findSession(ctx, "abc123", std::move(done)));
    ASSERT_TRUE(found);
    EXPECT_EQ(found->userId, oid(1));
    EXPECT_EQ(found->createdAt, 10);
    EXPECT_EQ(found->expiresAt, 20);
    EXPECT_TRUE(AWAIT(void, deleteSession(ctx, "abc123", std::move(done))));
    EXPECT_EQ(AWAIT(void, deleteSession(ctx, "abc123", std::move(done))).error(), Errc::NotFound);
    EXPECT_EQ(AWAIT(SessionRow, findSession(ctx, "abc123", std::move(done))).error(), Errc::NotFound);
}

TEST_F(PgChatStoreTest, ChatsKeepTheirMembersInJoinOrder) {
    Chat chat{oid(100), "group", "Team \"A\", {b}", {oid(3), oid(1), oid(3), oid(2)}, oid(3), 50, 60};
    auto created = AWAIT(Chat, createChat(ctx, chat, std::move(done)));
    ASSERT_TRUE(created);
    const std::vector<std::string> members{oid(3), oid(1), oid(2)}; // the repeat is stored once
    EXPECT_EQ(created->memberIds, members);

    auto read = AWAIT(Chat, chatForMember(ctx, oid(100), oid(1), std::move(done)));
    ASSERT_TRUE(read);
    EXPECT_EQ(read->memberIds, members);
    EXPECT_EQ(read->title, chat.title);
    EXPECT_EQ(read->type, "group");
    EXPECT_EQ(read->createdBy, oid(3));
    EXPECT_EQ(read->createdAt, 50);
    EXPECT_EQ(read->updatedAt, 60);

    EXPECT_EQ(AWAIT(Chat, chatForMember(ctx, oid(100), oid(9), std::move(done))).error(), Errc::Forbidden);
    EXPECT_EQ(AWAIT(Chat, chatForMember(ctx, oid(101), oid(1), std::move(done))).error(), Errc::Forbidden);
    EXPECT_EQ(AWAIT(bool, isMember(ctx, oid(100), oid(2), std::move(done))).value(), true);
    EXPECT_EQ(AWAIT(bool, isMember(ctx, oid(100), oid(9), std::move(done))).value(), false);
}

TEST_F(PgChatStoreTest, RenameSetsAndClearsTheTitle) {
    makeChat(group(oid(100), {oid(1), oid(2)}));
    auto renamed = AWAIT(Chat, renameChat(ctx, oid(100), oid(2), std::string("News"), 2000, std::move(done)));
    ASSERT_TRUE(renamed);
    EXPECT_EQ(renamed->title, "News");
    EXPECT_EQ(renamed->updatedAt, 2000);
    EXPECT_EQ(renamed->memberIds, (std::vector<std::string>{oid(1), oid(2)}));
    auto cleared = AWAIT(Chat, renameChat(ctx, oid(100), oid(1), std::nullopt, 3000, std::move(done)));
    ASSERT_TRUE(cleared);
    EXPECT_FALSE(cleared->title);
    EXPECT_EQ(AWAIT(Chat, renameChat(ctx, oid(100), oid(9), std::string("x"), 4000, std::move(done))).error(),
              Errc::Forbidden);
    EXPECT_EQ(AWAIT(Chat, renameChat(ctx, oid(101), oid(1), std::string("x"), 4000, std::move(done))).error(),
              Errc::Forbidden);
}

TEST_F(PgChatStoreTest, AddAndRemoveMembers) {
    makeChat(group(oid(100), {oid(1), oid(2)}));
    makeChat(Chat{oid(101), "dm", std::nullopt, {oid(1), oid(2)}, oid(1), 1000, 1000});

    auto added = AWAIT(MemberChange, addMember(ctx, oid(100), oid(1), oid(3), 2000, 3, std::move(done)));
    ASSERT_TRUE(added);
    EXPECT_TRUE(added->changed);
    EXPECT_EQ(added->chat.memberIds, (std::vector<std::string>{oid(1), oid(2), oid(3)}));
    EXPECT_EQ(added->chat.updatedAt, 2000);

    auto again = AWAIT(MemberChange, addMember(ctx, oid(100), oid(1), oid(3), 3000, 3, std::move(done)));
    ASSERT_TRUE(again);
    EXPECT_FALSE(again->changed);
    EXPECT_EQ(again->chat.updatedAt, 2000);

    EXPECT_EQ(AWAIT(MemberChange, addMember(ctx, oid(100), oid(1), oid(4), 3000, 3, std::move(done))).error(),
              Errc::ChatFull);
    EXPECT_EQ(AWAIT(MemberChange, addMember(ctx, oid(100), oid(9), oid(4), 3000, 10, std::move(done))).error(),
              Errc::Forbidden);
    EXPECT_EQ(AWAIT(MemberChange, addMember(ctx, oid(101), oid(1), oid(4), 3000, 10, std::move(done))).error(),
              Errc::NotAGroup);
    EXPECT_EQ(AWAIT(MemberChange, addMember(ctx, oid(102), oid(1), oid(4), 3000, 10, std::move(done))).error(),
              Errc::Forbidden);

    auto removed = AWAIT(MemberChange, removeMember(ctx, oid(100), oid(1), oid(2), 4000, std::move(done)));
    ASSERT_TRUE(removed);
    EXPECT_TRUE(removed->changed);
    EXPECT_EQ(removed->chat.memberIds, (std::vector<std::string>{oid(1), oid(3)}));
    EXPECT_EQ(removed->chat.updatedAt, 4000);
    EXPECT_EQ(AWAIT(MemberChange, removeMember(ctx, oid(100), oid(1), oid(2), 5000, std::move(done))).error(),
              Errc::NotFound);
    EXPECT_EQ(AWAIT(MemberChange, removeMember(ctx, oid(101), oid(1), oid(2), 5000, std::move(done))).error(),
              Errc::NotAGroup);
    EXPECT_EQ(AWAIT(MemberChange, removeMember(ctx, oid(100), oid(2), oid(3), 5000, std::move(done))).error(),
              Errc::Forbidden);
    // A member may leave: the answer is the chat without them.
    auto left = AWAIT(MemberChange, removeMember(ctx, oid(100), oid(3), oid(3), 6000, std::move(done)));
    ASSERT_TRUE(left);
    EXPECT_EQ(left->chat.memberIds, (std::vector<std::string>{oid(1)}));
}

// Each event a chat broadcasts (its creation, a change, a new message) takes the next of the
// chat's event_seq, which the cluster delivers a chat's events by; what changes nothing takes none.
TEST_F(PgChatStoreTest, EveryEventOfAChatTakesTheNextEventSeq) {
    auto created = AWAIT(Chat, createChat(ctx, group(oid(100), {oid(1), oid(2)}), std::move(done)));
    ASSERT_TRUE(created);
    EXPECT_EQ(created->eventSeq, 1);
    auto first = send(oid(100), oid(1), "c-1", 500);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->eventSeq, 2);
    auto retry = send(oid(100), oid(1), "c-1", 501);
    ASSERT_TRUE(retry);
    EXPECT_EQ(retry->eventSeq, 0); // not a new message: no event
    auto added = AWAIT(MemberChange, addMember(ctx, oid(100), oid(1), oid(3), 2000, 10, std::move(done)));
    ASSERT_TRUE(added);
    EXPECT_EQ(added->chat.eventSeq, 3);
    auto again = AWAIT(MemberChange, addMember(ctx, oid(100), oid(1), oid(3), 2001, 10, std::move(done)));
    ASSERT_TRUE(again);
    EXPECT_FALSE(again->changed);
    EXPECT_EQ(again->chat.eventSeq, 3);
    auto renamed = AWAIT(Chat, renameChat(ctx, oid(100), oid(1), std::string("t"), 2002, std::move(done)));
    ASSERT_TRUE(renamed);
    EXPECT_EQ(renamed->eventSeq, 4);
    auto removed = AWAIT(MemberChange, removeMember(ctx, oid(100), oid(1), oid(3), 2003, std::move(done)));
    ASSERT_TRUE(removed);
    EXPECT_EQ(removed->chat.eventSeq, 5);
    auto second = send(oid(100), oid(2), "c-2", 502);
    ASSERT_TRUE(second);
    EXPECT_EQ(second->eventSeq, 6);
    // Reads carry it too; a refused send takes none.
    EXPECT_EQ(send(oid(100), oid(9), "c-3", 503).error(), Errc::Forbidden);
    auto read = AWAIT(Chat, chatForMember(ctx, oid(100), oid(1), std::move(done)));
    ASSERT_TRUE(read);
    EXPECT_EQ(read->eventSeq, 6);
    // Another chat counts its own.
    auto other = AWAIT(Chat, createChat(ctx, group(oid(101), {oid(1)}), std::move(done)));
    ASSERT_TRUE(other);
    EXPECT_EQ(other->eventSeq, 1);
}

TEST_F(PgChatStoreTest, ChatIdsOfAUserAreItsChatsInIdOrder) {
    makeChat(group(oid(101), {oid(1), oid(2), oid(3)}));
    makeChat(group(oid(100), {oid(4), oid(1)}));
    makeChat(group(oid(102), {oid(5), oid(6)}));
    auto chats = AWAIT(std::vector<std::string>, chatIdsOf(ctx, oid(1), std::move(done)));
    ASSERT_TRUE(chats);
    EXPECT_EQ(*chats, (std::vector<std::string>{oid(100), oid(101)}));
}

TEST_F(PgChatStoreTest, AppendIsIdempotentByClientId) {
    makeChat(group(oid(100), {oid(1), oid(2)}));
    const std::int64_t start = core::nowMs();
    auto first = send(oid(100), oid(1), "c-1", 500);
    ASSERT_TRUE(first) << first.error().message();
    EXPECT_TRUE(first->created);
    // The store's id and time, taken as the message was queued.
    EXPECT_TRUE(core::ObjectId::isValid(first->message.id));
    EXPECT_NE(first->message.id, oid(500));
    EXPECT_GE(first->message.createdAt, start);
    EXPECT_LE(first->message.createdAt, core::nowMs());
    EXPECT_EQ(first->message.body, "body 500");

    // A retry (another id and body) answers the first copy and stores nothing.
    auto retry = send(oid(100), oid(1), "c-1", 501);
    ASSERT_TRUE(retry);
    EXPECT_FALSE(retry->created);
    EXPECT_EQ(retry->message.id, first->message.id);
    EXPECT_EQ(retry->message.body, "body 500");
    EXPECT_EQ(retry->message.createdAt, first->message.createdAt);

    // The key is per sender: the other member's c-1 is a message of its own.
    auto other = send(oid(100), oid(2), "c-1", 502);
    ASSERT_TRUE(other);
    EXPECT_TRUE(other->created);

    EXPECT_EQ(send(oid(100), oid(9), "c-2", 503).error(), Errc::Forbidden);
    EXPECT_EQ(send(oid(101), oid(1), "c-2", 504).error(), Errc::Forbidden);

    auto found = AWAIT(Message, findByClientId(ctx, oid(100), oid(1), "c-1", std::move(done)));
    ASSERT_TRUE(found);
    EXPECT_EQ(found->id, first->message.id);
    EXPECT_EQ(found->createdAt, first->message.createdAt);
    EXPECT_EQ(AWAIT(Message, findByClientId(ctx, oid(100), oid(1), "c-9", std::move(done))).error(), Errc::NotFound);
}

TEST_F(PgChatStoreTest, HistoryPagesBothWays) {
    makeChat(group(oid(100), {oid(1), oid(2)}));
    makeChat(group(oid(101), {oid(1)}));
    // Messages 1..7 (id[1] ... id[7]), in the order sent.
    std::vector<std::string> id(8);
    for (int i = 1; i <= 7; ++i) id[i] = sent(oid(100), oid(1 + i % 2), "c" + std::to_string(i), i);
    const std::string elsewhere = sent(oid(101), oid(1), "x", 99);
    auto ids = [](const MessagePage& page) {
        std::vector<std::string> out;
        for (const auto& m : page.messages) out.push_back(m.id);
        return out;
    };

    auto newest = AWAIT(MessagePage,
                        history(ctx, oid(100), oid(2), HistoryQuery{std::nullopt, std::nullopt, 3}, std::move(done)));
    ASSERT_TRUE(newest);
    EXPECT_EQ(ids(*newest), (std::vector<std::string>{id[5], id[6], id[7]}));
    EXPECT_TRUE(newest->hasMore);

    auto before =
        AWAIT(MessagePage, history(ctx, oid(100), oid(2), HistoryQuery{id[5], std::nullopt, 3}, std::move(done)));
    ASSERT_TRUE(before);
    EXPECT_EQ(ids(*before), (std::vector<std::string>{id[2], id[3], id[4]}));
    EXPECT_TRUE(before->hasMore);

    auto after =
        AWAIT(MessagePage, history(ctx, oid(100), oid(2), HistoryQuery{std::nullopt, id[3], 10}, std::move(done)));
    ASSERT_TRUE(after);
    EXPECT_EQ(ids(*after), (std::vector<std::string>{id[4], id[5], id[6], id[7]}));
    EXPECT_FALSE(after->hasMore);

    auto between = AWAIT(MessagePage, history(ctx, oid(100), oid(2), HistoryQuery{id[7], id[2], 2}, std::move(done)));
    ASSERT_TRUE(between);
    EXPECT_EQ(ids(*between), (std::vector<std::string>{id[3], id[4]}));
    EXPECT_TRUE(between->hasMore);

    EXPECT_EQ(AWAIT(MessagePage, history(ctx, oid(100), oid(9), HistoryQuery{}, std::move(done))).error(),
              Errc::Forbidden);
    // A message of another chat is no cursor here.
    EXPECT_EQ(
        AWAIT(MessagePage, history(ctx, oid(100), oid(1), HistoryQuery{elsewhere, std::nullopt, 5}, std::move(done)))
            .error(),
        Errc::NotFound);
}

TEST_F(PgChatStoreTest, ReadCursorsMoveOnlyForward) {
    makeChat(group(oid(100), {oid(1), oid(2)}));
    std::vector<Message> m;
    for (int i = 1; i <= 3; ++i) {
        auto appended = send(oid(100), oid(1), "c" + std::to_string(i), i);
        ASSERT_TRUE(appended);
        m.push_back(appended->message);
    }

    auto mark = AWAIT(ReadMark, markRead(ctx, oid(100), oid(2), m[1].id, 500, std::move(done)));
    ASSERT_TRUE(mark);
    EXPECT_TRUE(mark->advanced);
    EXPECT_EQ(mark->cursor.messageId, m[1].id);
    EXPECT_EQ(mark->cursor.messageCreatedAt, m[1].createdAt);
    EXPECT_EQ(mark->cursor.readAt, 500);

    auto back = AWAIT(ReadMark, markRead(ctx, oid(100), oid(2), m[0].id, 600, std::move(done)));
    ASSERT_TRUE(back);
    EXPECT_FALSE(back->advanced);
    EXPECT_EQ(back->cursor.messageId, m[1].id);
    EXPECT_EQ(back->cursor.readAt, 500);

    auto same = AWAIT(ReadMark, markRead(ctx, oid(100), oid(2), m[1].id, 700, std::move(done)));
    ASSERT_TRUE(same);
    EXPECT_FALSE(same->advanced);

    EXPECT_EQ(AWAIT(ReadMark, markRead(ctx, oid(100), oid(9), m[1].id, 1, std::move(done))).error(), Errc::Forbidden);
    EXPECT_EQ(AWAIT(ReadMark, markRead(ctx, oid(100), oid(2), oid(42), 1, std::move(done))).error(), Errc::NotFound);

    auto cursors = AWAIT(std::vector<ReadCursor>, readCursors(ctx, oid(100), oid(1), std::move(done)));
    ASSERT_TRUE(cursors);
    ASSERT_EQ(cursors->size(), 1u);
    EXPECT_EQ((*cursors)[0].userId, oid(2));
    EXPECT_EQ((*cursors)[0].messageId, m[1].id);
    EXPECT_EQ(AWAIT(std::vector<ReadCursor>, readCursors(ctx, oid(100), oid(9), std::move(done))).error(),
              Errc::Forbidden);
}

TEST_F(PgChatStoreTest, ListChatsNewestFirstWithUnreadCounts) {
    makeChat(group(oid(100), {oid(1), oid(2)}, 1000));
    makeChat(group(oid(101), {oid(2), oid(3)}, 2000));
    makeChat(group(oid(102), {oid(3)}, 3000));
    std::vector<std::string> id;
    for (int i = 1; i <= 3; ++i) id.push_back(sent(oid(100), oid(1), "a" + std::to_string(i), i));
    sent(oid(100), oid(2), "own", 4); // the user's own: never unread
    sent(oid(101), oid(3), "b", 5);
    ASSERT_TRUE(AWAIT(ReadMark, markRead(ctx, oid(100), oid(2), id[0], 40, std::move(done))));

    auto chats = AWAIT(std::vector<ChatSummary>, listChats(ctx, oid(2), std::move(done)));
    ASSERT_TRUE(chats);
    ASSERT_EQ(chats->size(), 2u);
    EXPECT_EQ((*chats)[0].chat.id, oid(101));
    EXPECT_EQ((*chats)[0].unreadCount, 1);
    EXPECT_EQ((*chats)[0].chat.memberIds, (std::vector<std::string>{oid(2), oid(3)}));
    EXPECT_EQ((*chats)[1].chat.id, oid(100));
    EXPECT_EQ((*chats)[1].unreadCount, 2);
    EXPECT_TRUE(AWAIT(std::vector<ChatSummary>, listChats(ctx, oid(9), std::move(done)))->empty());
}

TEST(PgTextArray, RoundTripsAwkwardText) {
    const std::vector<std::string> items{"plain",   "with space", "quote\"d", "back\\slash",
                                         "{brace}", "a,b",        "",         "NULL"};
    EXPECT_EQ(parsePgTextArray(pgTextArray(items)), items);
    EXPECT_EQ(parsePgTextArray("{a,b,NULL,\"c d\"}"), (std::vector<std::string>{"a", "b", "c d"}));
    EXPECT_TRUE(parsePgTextArray("{}").empty());
}

} // namespace
} // namespace parley::store::pgtest
