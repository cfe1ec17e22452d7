// The ChatStore contract on every backend: messages, history pages and read cursors.

#include "ContractFixture.hpp"

#include "core/Time.hpp"

#include <tuple>

namespace parley::store::test {
namespace {

// The id and time are proposed by the caller; a backend may take its own at the write instead
// (NewMessage): the answer says what was stored, and history gives back exactly that.
TEST_P(ChatStoreContract, AppendStoresTheMessageAndAnswersItAsStored) {
    const std::string a = newId(), b = newId();
    Chat chat = makeChat({a, b});
    const auto before = core::nowMs();
    NewMessage m{newId(), chat.id, b, "hello \xF0\x9F\x91\x8B 'quoted' \"too\"", "client-1", before};
    auto r = appendMessage(m);
    ASSERT_TRUE(ok(r));
    EXPECT_TRUE(r->created);
    EXPECT_TRUE(core::ObjectId::isValid(r->message.id)) << r->message.id;
    EXPECT_EQ(r->message.chatId, m.chatId);
    EXPECT_EQ(r->message.senderId, m.senderId);
    EXPECT_EQ(r->message.body, m.body);
    EXPECT_EQ(r->message.clientId, m.clientId);
    EXPECT_GE(r->message.createdAt, before) << "the proposed time or a later one";
    EXPECT_LE(r->message.createdAt, core::nowMs());
    auto page = history(chat.id, a, {});
    ASSERT_TRUE(ok(page));
    ASSERT_EQ(page->messages.size(), 1U);
    EXPECT_EQ(describe(page->messages[0]), describe(r->message));
    auto found = findByClientId(chat.id, b, "client-1");
    ASSERT_TRUE(ok(found));
    EXPECT_EQ(describe(*found), describe(r->message));
}

TEST_P(ChatStoreContract, ARetryAnswersTheFirstCopyAndStoresNothing) {
    const std::string a = newId(), b = newId();
    Chat chat = makeChat({a, b});
    NewMessage first{newId(), chat.id, a, "first", "same-client-id", 2000};
    auto stored = appendMessage(first);
    ASSERT_TRUE(ok(stored));
    ASSERT_TRUE(stored->created);

    NewMessage retry{newId(), chat.id, a, "retry body", "same-client-id", 3000};
    auto again = appendMessage(retry);
    ASSERT_TRUE(ok(again));
    EXPECT_FALSE(again->created);
    EXPECT_EQ(describe(again->message), describe(stored->message)) << "the retry answers the first copy";

    auto found = findByClientId(chat.id, a, "same-client-id");
    ASSERT_TRUE(ok(found));
    EXPECT_EQ(describe(*found), describe(stored->message));

    // The same clientId from another sender is another message.
    auto other = appendMessage({newId(), chat.id, b, "b's", "same-client-id", 4000});
    ASSERT_TRUE(ok(other));
    EXPECT_TRUE(other->created);
    EXPECT_NE(other->message.id, stored->message.id);
    // And in another chat too.
    Chat second = makeChat({a});
    auto elsewhere = appendMessage({newId(), second.id, a, "elsewhere", "same-client-id", 4000});
    ASSERT_TRUE(ok(elsewhere));
    EXPECT_TRUE(elsewhere->created);

    auto page = history(chat.id, a, {});
    ASSERT_TRUE(ok(page));
    EXPECT_EQ(idsOf(page->messages), (std::vector<std::string>{stored->message.id, other->message.id}));
}

TEST_P(ChatStoreContract, AppendByANonMemberOrToAnUnknownChatIsForbidden) {
    const std::string a = newId(), outsider = newId();
    Chat chat = makeChat({a});
    EXPECT_TRUE(failsWith(appendMessage({newId(), chat.id, outsider, "x", "c1", 1}), Errc::Forbidden));
    EXPECT_TRUE(failsWith(appendMessage({newId(), newId(), a, "x", "c2", 1}), Errc::Forbidden));
    auto page = history(chat.id, a, {});
    ASSERT_TRUE(ok(page));
    EXPECT_TRUE(page->messages.empty());
    EXPECT_TRUE(failsWith(findByClientId(chat.id, outsider, "c1"), Errc::NotFound));
}

TEST_P(ChatStoreContract, FindByClientIdOfNothingIsNotFound) {
    const std::string a = newId();
    Chat chat = makeChat({a});
    send(chat.id, a, 1000);
    EXPECT_TRUE(failsWith(findByClientId(chat.id, a, "never-sent"), Errc::NotFound));
    EXPECT_TRUE(failsWith(findByClientId(newId(), a, "never-sent"), Errc::NotFound));
}

TEST_P(ChatStoreContract, HistoryPagesBackwardAndForward) {
    const std::string a = newId(), b = newId();
    Chat chat = makeChat({a, b});
    std::vector<std::string> ids; // m1..m7, oldest first
    for (int i = 1; i <= 7; ++i) ids.push_back(send(chat.id, i % 2 ? a : b, 1000 + i).id);
    Chat other = makeChat({a});
    send(other.id, a, 1003); // interleaved in time, never in this chat's pages
    auto slice = [&](std::size_t from, std::size_t to) {
        return std::vector<std::string>(ids.begin() + static_cast<long>(from), ids.begin() + static_cast<long>(to));
    };
    auto page = [&](std::optional<std::string> before, std::optional<std::string> after, int limit) {
        auto r = history(chat.id, b, {std::move(before), std::move(after), limit});
        EXPECT_TRUE(ok(r));
        return r ? *r : MessagePage{};
    };

    auto newest = page({}, {}, 3);
    EXPECT_EQ(idsOf(newest.messages), slice(4, 7));
    EXPECT_TRUE(newest.hasMore);
    auto back = page(ids[4], {}, 3);
    EXPECT_EQ(idsOf(back.messages), slice(1, 4));
    EXPECT_TRUE(back.hasMore);
    auto oldest = page(ids[1], {}, 3);
    EXPECT_EQ(idsOf(oldest.messages), slice(0, 1));
    EXPECT_FALSE(oldest.hasMore);
    auto nothingBefore = page(ids[0], {}, 3);
    EXPECT_TRUE(nothingBefore.messages.empty());
    EXPECT_FALSE(nothingBefore.hasMore);

    auto forward = page({}, ids[0], 3);
    EXPECT_EQ(idsOf(forward.messages), slice(1, 4));
    EXPECT_TRUE(forward.hasMore);
    auto last = page({}, ids[3], 3);
    EXPECT_EQ(idsOf(last.messages), slice(4, 7));
    EXPECT_FALSE(last.hasMore) << "exactly the rest: no more";
    auto nothingAfter = page({}, ids[6], 3);
    EXPECT_TRUE(nothingAfter.messages.empty());
    EXPECT_FALSE(nothingAfter.hasMore);

    auto all = page({}, {}, 7);
    EXPECT_EQ(idsOf(all.messages), ids);
    EXPECT_FALSE(all.hasMore) << "a page of exactly every message has no more";
    auto bigger = page({}, {}, 100);
    EXPECT_EQ(idsOf(bigger.messages), ids);
    EXPECT_FALSE(bigger.hasMore);
    auto one = page({}, {}, 1);
    EXPECT_EQ(idsOf(one.messages), slice(6, 7));
    EXPECT_TRUE(one.hasMore);
}

// History is ordered by (createdAt, id) of the messages as stored, whatever order they were
// stored in: proposed times run backwards here with ties, and ids against the order of storing
// (a backend that keeps them must sort by them; one that takes its own sorts by those).
TEST_P(ChatStoreContract, HistoryOrdersByCreatedAtThenId) {
    const std::string a = newId();
    Chat chat = makeChat({a});
    std::vector<Message> stored;
    for (int i = 0; i < 12; ++i) {
        std::string id = newId();
        id.replace(0, 2, i % 2 ? "ff" : "00"); // ids within one proposed time in reverse order
        stored.push_back(send(chat.id, a, 9000 - 1000 * (i / 2), id));
    }
    std::sort(stored.begin(), stored.end(), [](const Message& x, const Message& y) {
        return std::tie(x.createdAt, x.id) < std::tie(y.createdAt, y.id);
    });
    const std::vector<std::string> expected = idsOf(stored);
    auto page = history(chat.id, a, {});
    ASSERT_TRUE(ok(page));
    EXPECT_EQ(idsOf(page->messages), expected);
    auto after = history(chat.id, a, {std::nullopt, expected[4], 3});
    ASSERT_TRUE(ok(after));
    EXPECT_EQ(idsOf(after->messages), std::vector<std::string>(expected.begin() + 5, expected.begin() + 8));
    auto before = history(chat.id, a, {expected[4], std::nullopt, 3});
    ASSERT_TRUE(ok(before));
    EXPECT_EQ(idsOf(before->messages), std::vector<std::string>(expected.begin() + 1, expected.begin() + 4));
}

TEST_P(ChatStoreContract, HistoryRefusals) {
    const std::string a = newId();
    Chat chat = makeChat({a});
    Chat other = makeChat({a});
    Message elsewhere = send(other.id, a, 1000);
    send(chat.id, a, 1000);
    EXPECT_TRUE(failsWith(history(chat.id, newId(), {}), Errc::Forbidden)) << "non-member";
    EXPECT_TRUE(failsWith(history(newId(), a, {}), Errc::Forbidden)) << "unknown chat";
    EXPECT_TRUE(failsWith(history(chat.id, a, {elsewhere.id, std::nullopt, 10}), Errc::NotFound))
        << "a before cursor of another chat";
    EXPECT_TRUE(failsWith(history(chat.id, a, {std::nullopt, elsewhere.id, 10}), Errc::NotFound))
        << "an after cursor of another chat";
    EXPECT_TRUE(failsWith(history(chat.id, a, {newId(), std::nullopt, 10}), Errc::NotFound)) << "no such message";
    auto empty = history(makeChat({a}).id, a, {});
    ASSERT_TRUE(ok(empty));
    EXPECT_TRUE(empty->messages.empty());
    EXPECT_FALSE(empty->hasMore);
}

TEST_P(ChatStoreContract, MarkReadMovesForwardOnly) {
    const std::string a = newId(), b = newId();
    Chat chat = makeChat({a, b});
    Message m1 = send(chat.id, b, 1000);
    Message m2 = send(chat.id, b, 2000);
    Message m3 = send(chat.id, a, 3000);

    auto mark = markRead(chat.id, a, m2.id, 10000);
    ASSERT_TRUE(ok(mark));
    EXPECT_TRUE(mark->advanced);
    ReadCursor atM2{a, m2.id, m2.createdAt, 10000};
    EXPECT_EQ(describe(mark->cursor), describe(atM2));

    auto older = markRead(chat.id, a, m1.id, 11000);
    ASSERT_TRUE(ok(older));
    EXPECT_FALSE(older->advanced);
    EXPECT_EQ(describe(older->cursor), describe(atM2)) << "the stored cursor, unchanged";
    auto same = markRead(chat.id, a, m2.id, 12000);
    ASSERT_TRUE(ok(same));
    EXPECT_FALSE(same->advanced) << "the same message is not past the cursor";
    EXPECT_EQ(describe(same->cursor), describe(atM2));

    auto newer = markRead(chat.id, a, m3.id, 13000);
    ASSERT_TRUE(ok(newer));
    EXPECT_TRUE(newer->advanced);
    EXPECT_EQ(describe(newer->cursor), describe(ReadCursor{a, m3.id, m3.createdAt, 13000}));
}

// Two messages proposed at the same time, the higher id stored first: the cursor orders them by
// (createdAt, id) as stored (a tie broken by the id when the backend keeps the proposed times).
TEST_P(ChatStoreContract, MarkReadOrdersByCreatedAtThenId) {
    const std::string a = newId();
    auto pair = [&](const Chat& chat) {
        std::string high = newId(), low = newId();
        high.replace(0, 2, "ff");
        low.replace(0, 2, "00");
        Message first = send(chat.id, a, 5000, high);
        Message second = send(chat.id, a, 5000, low);
        if (std::tie(second.createdAt, second.id) < std::tie(first.createdAt, first.id)) std::swap(first, second);
        return std::pair{first, second}; // behind, ahead
    };
    Chat chat = makeChat({a});
    auto [behind, ahead] = pair(chat);
    auto toAhead = markRead(chat.id, a, ahead.id, 6000);
    ASSERT_TRUE(ok(toAhead));
    EXPECT_TRUE(toAhead->advanced);
    auto toBehind = markRead(chat.id, a, behind.id, 7000);
    ASSERT_TRUE(ok(toBehind));
    EXPECT_FALSE(toBehind->advanced) << "behind the cursor by (createdAt, id)";
    EXPECT_EQ(toBehind->cursor.messageId, ahead.id);

    Chat other = makeChat({a});
    auto [behind2, ahead2] = pair(other);
    auto first = markRead(other.id, a, behind2.id, 6000);
    ASSERT_TRUE(ok(first));
    EXPECT_TRUE(first->advanced);
    auto second = markRead(other.id, a, ahead2.id, 7000);
    ASSERT_TRUE(ok(second));
    EXPECT_TRUE(second->advanced) << "ahead of the cursor by (createdAt, id)";
}

TEST_P(ChatStoreContract, MarkReadRefusals) {
    const std::string a = newId();
    Chat chat = makeChat({a});
    Chat other = makeChat({a});
    Message mine = send(chat.id, a, 1000);
    Message elsewhere = send(other.id, a, 2000);
    EXPECT_TRUE(failsWith(markRead(chat.id, a, elsewhere.id, 3000), Errc::NotFound)) << "message of another chat";
    EXPECT_TRUE(failsWith(markRead(chat.id, a, newId(), 3000), Errc::NotFound)) << "no such message";
    EXPECT_TRUE(failsWith(markRead(chat.id, newId(), mine.id, 3000), Errc::Forbidden)) << "non-member";
    EXPECT_TRUE(failsWith(markRead(newId(), a, mine.id, 3000), Errc::Forbidden)) << "unknown chat";
    auto cursors = readCursors(chat.id, a);
    ASSERT_TRUE(ok(cursors));
    EXPECT_TRUE(cursors->empty()) << "no refusal set a cursor";
}

TEST_P(ChatStoreContract, ReadCursorsAreTheSetOnesOfTheChat) {
    const std::string a = newId(), b = newId(), c = newId();
    Chat chat = makeChat({a, b, c});
    Chat other = makeChat({a, b});
    Message m1 = send(chat.id, a, 1000);
    Message m2 = send(chat.id, c, 2000);
    Message o1 = send(other.id, a, 1500);
    ASSERT_TRUE(ok(markRead(chat.id, a, m2.id, 5000)));
    ASSERT_TRUE(ok(markRead(chat.id, b, m1.id, 6000)));
    ASSERT_TRUE(ok(markRead(other.id, b, o1.id, 7000)));

    auto cursors = readCursors(chat.id, c);
    ASSERT_TRUE(ok(cursors)) << "any member may read them";
    std::vector<std::string> got = describeAll(*cursors);
    EXPECT_EQ(sorted(got), sorted({describe(ReadCursor{a, m2.id, m2.createdAt, 5000}),
                                   describe(ReadCursor{b, m1.id, m1.createdAt, 6000})}));
    EXPECT_TRUE(failsWith(readCursors(chat.id, newId()), Errc::Forbidden));
    EXPECT_TRUE(failsWith(readCursors(newId(), a), Errc::Forbidden));
}

} // namespace
} // namespace parley::store::test
