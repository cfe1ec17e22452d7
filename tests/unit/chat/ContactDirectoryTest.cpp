// ContactDirectory on a real SQLite file: a chat's members are read once for every request that
// comes while they are fresh or being read, a change this process commits is seen at once, and a
// user's contacts are the members of its chats, once each, without the user.

#include "chat/ContactDirectory.hpp"
#include "store/Open.hpp"

#include "../store/TempDir.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>

namespace parley::chat {
namespace {

using store::ContactSeen;

class ContactDirectoryTest : public ::testing::Test {
protected:
    ContactDirectoryTest() {
        store::OpenOptions options;
        options.uri = "sqlite:" + (dir_.path() / "parley.db").string();
        store_ = store::openChatStore(options);
    }

    // Runs the io_context until `done` holds (or fails the test after 10 s).
    void runUntil(const std::function<bool()>& done) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!done()) {
            ASSERT_LT(std::chrono::steady_clock::now(), until) << "the directory did not answer";
            ctx_.restart();
            ctx_.run_for(std::chrono::milliseconds(5));
        }
    }

    std::string chat(std::vector<std::string> members) {
        store::Chat c;
        static int n = 0;
        char id[25];
        std::snprintf(id, sizeof id, "65a1b2c3d4e5f607182900%02d", ++n);
        c.id = id;
        c.type = "group";
        c.memberIds = std::move(members);
        c.createdBy = c.memberIds.front();
        c.createdAt = c.updatedAt = 1000;
        bool finished = false;
        store_->createChat(ctx_, c, [&](store::Result<store::Chat> r) {
            EXPECT_TRUE(r.has_value());
            finished = true;
        });
        runUntil([&] { return finished; });
        return c.id;
    }

    std::vector<std::string> idsOf(const std::vector<const ContactSeen*>& v) {
        std::vector<std::string> ids;
        for (const auto* c : v) ids.push_back(c->userId);
        return ids;
    }

    store::test::TempDir dir_;
    boost::asio::io_context ctx_;
    std::unique_ptr<store::ChatStore> store_;
};

TEST_F(ContactDirectoryTest, AChatsMembersAreReadOnceForEveryRequestWhileFresh) {
    const auto big = chat({"a", "b", "c", "d"});
    ContactDirectory directory(*store_, ctx_, 60'000);
    int answered = 0;
    for (int i = 0; i < 50; ++i)
        directory.membersOf(big, 1000, [&](store::Result<ContactDirectory::Members> m) {
            ASSERT_TRUE(m.has_value());
            EXPECT_EQ((*m)->size(), 4u);
            ++answered;
        });
    runUntil([&] { return answered == 50; });
    directory.membersOf(big, 2000, [&](store::Result<ContactDirectory::Members>) { ++answered; });
    EXPECT_EQ(answered, 51) << "a fresh entry answers at once";
    EXPECT_EQ(directory.memberReads(), 1u);
}

TEST_F(ContactDirectoryTest, AStaleEntryOrAChangeIsReadAgain) {
    const auto c = chat({"a", "b"});
    ContactDirectory directory(*store_, ctx_, 1'000);
    int answered = 0;
    auto ask = [&](std::int64_t now) {
        directory.membersOf(c, now, [&](store::Result<ContactDirectory::Members> m) {
            ASSERT_TRUE(m.has_value());
            ++answered;
        });
    };
    ask(1000);
    runUntil([&] { return answered == 1; });
    ask(2500); // past membersFreshMs
    runUntil([&] { return answered == 2; });
    EXPECT_EQ(directory.memberReads(), 2u);
    directory.chatChanged(c, {"a", "b", "e"}, {});
    ask(2600);
    runUntil([&] { return answered == 3; });
    EXPECT_EQ(directory.memberReads(), 3u);
}

TEST_F(ContactDirectoryTest, ContactsAreTheMembersOfTheUsersChatsOnceEachWithoutTheUser) {
    const auto one = chat({"me", "b", "c"});
    const auto two = chat({"c", "me", "d"});
    chat({"stranger", "b"});
    ContactDirectory directory(*store_, ctx_);
    std::optional<std::vector<std::string>> chats;
    directory.chatsOf("me", 1000, [&](store::Result<std::vector<std::string>> r) {
        ASSERT_TRUE(r.has_value());
        chats = *r;
    });
    runUntil([&] { return chats.has_value(); });
    ASSERT_EQ(chats->size(), 2u);
    std::optional<ContactDirectory::Contacts> contacts;
    directory.contactsIn("me", *chats, 1000, [&](store::Result<ContactDirectory::Contacts> r) {
        ASSERT_TRUE(r.has_value());
        contacts = std::move(*r);
    });
    runUntil([&] { return contacts.has_value(); });
    EXPECT_EQ(idsOf(contacts->list), (std::vector<std::string>{"b", "c", "d"}));
    std::optional<ContactDirectory::Contacts> single;
    directory.contactsIn("me", {two}, 1000, [&](store::Result<ContactDirectory::Contacts> r) {
        ASSERT_TRUE(r.has_value());
        single = std::move(*r);
    });
    runUntil([&] { return single.has_value(); });
    EXPECT_EQ(idsOf(single->list), (std::vector<std::string>{"c", "d"})) << "one chat: its members but me";
}

TEST_F(ContactDirectoryTest, AUsersChatsFollowTheChangesThisProcessCommits) {
    const auto one = chat({"me", "b"});
    ContactDirectory directory(*store_, ctx_);
    std::vector<std::string> seen;
    auto look = [&] {
        bool got = false;
        directory.chatsOf("me", 1000, [&](store::Result<std::vector<std::string>> r) {
            ASSERT_TRUE(r.has_value());
            seen = *r;
            got = true;
        });
        runUntil([&] { return got; });
    };
    look();
    EXPECT_EQ(seen, std::vector<std::string>{one});
    directory.chatChanged("65a1b2c3d4e5f6071829ffff", {"me", "x"}, {}); // added to a chat
    look();
    EXPECT_EQ(seen.size(), 2u);
    directory.chatChanged(one, {"b"}, {"me"}); // removed from one
    look();
    EXPECT_EQ(seen, std::vector<std::string>{"65a1b2c3d4e5f6071829ffff"});
}

TEST_F(ContactDirectoryTest, PruneForgetsWhatIsNoLongerFresh) {
    const auto c = chat({"me", "b"});
    ContactDirectory directory(*store_, ctx_, 1'000, 30'000);
    bool got = false;
    directory.chatsOf("me", 1000, [&](store::Result<std::vector<std::string>>) { got = true; });
    runUntil([&] { return got; });
    got = false;
    directory.membersOf(c, 1000, [&](store::Result<ContactDirectory::Members>) { got = true; });
    runUntil([&] { return got; });
    EXPECT_EQ(directory.usersKnown(), 1u);
    EXPECT_EQ(directory.chatsKnown(), 1u);
    directory.prune(1500);
    EXPECT_EQ(directory.chatsKnown(), 1u);
    directory.prune(2000);
    EXPECT_EQ(directory.chatsKnown(), 0u);
    EXPECT_EQ(directory.usersKnown(), 1u);
    directory.prune(31'000);
    EXPECT_EQ(directory.usersKnown(), 0u);
}

} // namespace
} // namespace parley::chat
