#include "store/sqlite/SqliteStore.hpp"

#include "StoreVfs.hpp"
#include "TempDir.hpp"
#include "store/sqlite/Migrations.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

namespace parley::store {
namespace {

using test::TempDir;
using test::Vfs;

User makeUser(std::string id, std::string email) {
    return User{std::move(id), std::move(email), "Name", "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA", 1000};
}

Chat makeChat(std::string id, std::string type, std::vector<std::string> members, std::int64_t at) {
    Chat chat;
    chat.id = std::move(id);
    chat.type = std::move(type);
    chat.memberIds = std::move(members);
    chat.createdBy = chat.memberIds.empty() ? std::string("nobody") : chat.memberIds.front();
    chat.createdAt = at;
    chat.updatedAt = at;
    return chat;
}

Message makeMessage(std::string id, std::string chatId, std::string senderId, std::string clientId, std::int64_t at,
                    std::string body = "hello") {
    return Message{std::move(id), std::move(chatId), std::move(senderId), std::move(body), std::move(clientId), at};
}

std::vector<std::string> idsOf(const MessagePage& page) {
    std::vector<std::string> ids;
    for (const auto& message : page.messages) ids.push_back(message.id);
    return ids;
}

// Reads one integer straight from the file, for columns the Store interface does not expose.
std::optional<std::int64_t> rawInteger(const std::filesystem::path& db, const char* sql, const char* param) {
    sqlite3* handle = nullptr;
    EXPECT_EQ(sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(handle, sql, -1, &stmt, nullptr), SQLITE_OK);
    sqlite3_bind_text(stmt, 1, param, -1, nullptr);
    std::optional<std::int64_t> value;
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
        value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(handle);
    return value;
}

// Every test runs on both VFSes (StoreVfs.hpp).
class SqliteStoreTest : public ::testing::TestWithParam<Vfs> {
protected:
    // A nested path also checks that the constructor creates the parent folders.
    std::filesystem::path dbPath() const { return dir_.path() / "data" / "nested" / "parley.db"; }
    SqliteStore::Options options() const { return test::optionsFor(GetParam()); }
    SqliteStore& store() {
        if (!store_) store_ = std::make_unique<SqliteStore>(dbPath().string(), options());
        return *store_;
    }
    void reopen() {
        store_.reset();
        store();
    }

    TempDir dir_;
    std::unique_ptr<SqliteStore> store_;
};

// =============================================================================================
// Opening and migrations
// =============================================================================================

TEST_P(SqliteStoreTest, CreatesParentFoldersAndFile) {
    store();
    EXPECT_TRUE(std::filesystem::exists(dbPath()));
}

TEST_P(SqliteStoreTest, UsesWalMode) {
    store();
    sqlite3* handle = nullptr;
    ASSERT_EQ(sqlite3_open_v2(dbPath().c_str(), &handle, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(handle, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
    sqlite3_finalize(stmt);
    sqlite3_close(handle);
}

TEST_P(SqliteStoreTest, MigrationsAreIdempotent) {
    EXPECT_EQ(store().migrationsRunAtOpen(), static_cast<int>(kSqliteMigrations.size()));
    EXPECT_EQ(store().migrate(), 0);
    reopen();
    EXPECT_EQ(store().migrationsRunAtOpen(), 0);
    EXPECT_EQ(store().migrate(), 0);
    auto applied = rawInteger(dbPath(), "SELECT COUNT(*) FROM schema_migrations WHERE name <> ?1", "");
    EXPECT_EQ(applied, static_cast<std::int64_t>(kSqliteMigrations.size()));
}

// An unread count (the others' messages of a chat after a cursor, as chatSummaries counts them)
// reads the (chat_id, created_at, id, sender_id) index alone, never the message rows.
TEST_P(SqliteStoreTest, AnUnreadCountIsServedByAnIndexAlone) {
    store();
    sqlite3* handle = nullptr;
    ASSERT_EQ(sqlite3_open_v2(dbPath().c_str(), &handle, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(handle,
                                 "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM messages AS msg WHERE msg.chat_id = ?1 "
                                 "AND msg.sender_id <> ?2 AND (msg.created_at, msg.id) > (?3, ?4)",
                                 -1, &stmt, nullptr),
              SQLITE_OK);
    std::string plan;
    while (sqlite3_step(stmt) == SQLITE_ROW) plan += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
    sqlite3_finalize(stmt);
    sqlite3_close(handle);
    EXPECT_NE(plan.find("USING COVERING INDEX messages_chat_place"), std::string::npos) << plan;
}

TEST_P(SqliteStoreTest, MigrateWithNothingPendingNeedsNoTransaction) {
    store().begin();
    // Nothing is pending, so nothing needs a transaction of its own: no error.
    EXPECT_EQ(store().migrate(), 0);
    store().rollback();
}

TEST_P(SqliteStoreTest, UnopenablePathThrowsStoreError) {
    // A folder where the file should be.
    std::filesystem::create_directories(dir_.path() / "taken.db");
    EXPECT_THROW(SqliteStore((dir_.path() / "taken.db").string(), options()), StoreError);
}

TEST_P(SqliteStoreTest, DataSurvivesCloseAndReopen) {
    store().insertUser(makeUser("u1", "a@example.com"));
    store().insertChat(makeChat("c1", "group", {"u1", "u2"}, 10));
    store().insertMessage(makeMessage("m1", "c1", "u1", "k1", 20, "kept"));
    reopen();
    ASSERT_TRUE(store().findUser("u1"));
    ASSERT_TRUE(store().findChat("c1"));
    EXPECT_EQ(store().findChat("c1")->memberIds, (std::vector<std::string>{"u1", "u2"}));
    ASSERT_TRUE(store().findMessage("m1"));
    EXPECT_EQ(store().findMessage("m1")->body, "kept");
}

TEST_P(SqliteStoreTest, ReadOnlyFileFailsWritesWithStoreError) {
    if (geteuid() == 0) GTEST_SKIP() << "running as root: chmod 0444 does not stop root from writing";
    store().insertUser(makeUser("u1", "a@example.com"));
    store_.reset();
    ASSERT_EQ(chmod(dbPath().c_str(), 0444), 0);
    // Opening may already fail (SQLite cannot set up WAL on a read-only file); if it opens, a
    // write must fail. Either way the failure is a StoreError, never a crash or a silent loss.
    std::unique_ptr<SqliteStore> readOnly;
    try {
        readOnly = std::make_unique<SqliteStore>(dbPath().string(), options());
    } catch (const StoreError&) {
        SUCCEED() << "opening a read-only file failed with StoreError";
        return;
    }
    try {
        readOnly->insertUser(makeUser("u2", "b@example.com"));
        FAIL() << "a write to a read-only file succeeded";
    } catch (const StoreError& e) {
        EXPECT_NE(std::string(e.what()).find("readonly"), std::string::npos) << e.what();
    }
    // Reads still work: the store degrades to failing writes, not to failing everything.
    ASSERT_TRUE(readOnly->findUser("u1"));
    EXPECT_FALSE(readOnly->findUser("u2"));
}

// The state a read-only mount leaves: the file, its -wal and -shm, and their folder can only be
// read. Recovery must not need a new store: the server keeps its one store for its whole life.
TEST_P(SqliteStoreTest, AReadOnlyFileServesReadsAndTakesWritesOnceItIsWritableAgain) {
    if (geteuid() == 0)
        GTEST_SKIP() << "running as root: file modes do not stop root from writing "
                        "(tests/e2e/fault covers this with a read-only mount)";
    store().insertUser(makeUser("u1", "a@example.com"));
    store_.reset();
    // The WAL files outlive the connection: without them SQLite cannot open a WAL database
    // where it cannot create them.
    const auto folder = dbPath().parent_path();
    for (const char* suffix : {"", "-wal", "-shm"}) {
        auto file = dbPath().string() + suffix;
        ASSERT_TRUE(std::filesystem::exists(file)) << file;
        ASSERT_EQ(chmod(file.c_str(), 0444), 0) << file;
    }
    ASSERT_EQ(chmod(folder.c_str(), 0555), 0);
    auto writeUser = [this](const char* id, const char* email) {
        store().begin();
        try {
            store().insertUser(makeUser(id, email));
            store().commit();
        } catch (const StoreError&) {
            try {
                store().rollback();
            } catch (const StoreError&) {}
            throw;
        }
    };

    ASSERT_NO_THROW(store());
    ASSERT_TRUE(store().findUser("u1"));
    EXPECT_THROW(writeUser("u2", "b@example.com"), StoreError);
    EXPECT_THROW(writeUser("u2", "b@example.com"), StoreError);
    EXPECT_TRUE(store().findUser("u1")) << "reads keep working after failed writes";

    ASSERT_EQ(chmod(folder.c_str(), 0755), 0);
    for (const char* suffix : {"", "-wal", "-shm"}) ASSERT_EQ(chmod((dbPath().string() + suffix).c_str(), 0644), 0);
    EXPECT_NO_THROW(writeUser("u2", "b@example.com"));
    EXPECT_TRUE(store().findUser("u2"));
    reopen();
    EXPECT_TRUE(store().findUser("u1"));
    EXPECT_TRUE(store().findUser("u2"));
}

// The generator embeds every .sql file in ascending order of its number (it refuses to build
// otherwise): the store applies them in this order and records each number once.
TEST(SqliteMigrationsTest, AreNumberedInAscendingOrderAndNamedByTheirNumber) {
    ASSERT_FALSE(kSqliteMigrations.empty());
    int previous = 0;
    for (const auto& migration : kSqliteMigrations) {
        EXPECT_GT(migration.version, previous) << migration.name;
        previous = migration.version;
        char prefix[8];
        std::snprintf(prefix, sizeof prefix, "%04d_", migration.version);
        EXPECT_EQ(migration.name.substr(0, 5), prefix);
        EXPECT_FALSE(migration.sql.empty()) << migration.name;
    }
}

// =============================================================================================
// Users and sessions
// =============================================================================================

TEST_P(SqliteStoreTest, InsertsAndFindsUsers) {
    User user = makeUser("u1", "alice@example.com");
    user.displayName = "Alice";
    store().insertUser(user);
    auto found = store().findUser("u1");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->id, "u1");
    EXPECT_EQ(found->email, "alice@example.com");
    EXPECT_EQ(found->displayName, "Alice");
    EXPECT_EQ(found->passwordHash, user.passwordHash);
    EXPECT_EQ(found->createdAt, 1000);
    EXPECT_FALSE(store().findUser("u2"));
}

TEST_P(SqliteStoreTest, EmailsAreStoredLowerCaseAndFoundCaseInsensitively) {
    store().insertUser(makeUser("u1", "Alice@Example.COM"));
    EXPECT_EQ(store().findUser("u1")->email, "alice@example.com");
    auto found = store().findUserByEmail("ALICE@example.com");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->id, "u1");
    EXPECT_FALSE(store().findUserByEmail("bob@example.com"));
}

TEST_P(SqliteStoreTest, DuplicateEmailThrows) {
    store().insertUser(makeUser("u1", "alice@example.com"));
    try {
        store().insertUser(makeUser("u2", "ALICE@example.com"));
        FAIL() << "expected StoreError";
    } catch (const DuplicateMessage&) {
        FAIL() << "a duplicate email is not a duplicate message";
    } catch (const StoreError& e) {
        EXPECT_STREQ(e.what(), "email already registered");
    }
    EXPECT_FALSE(store().findUser("u2"));
}

TEST_P(SqliteStoreTest, DuplicateUserIdThrowsStoreError) {
    store().insertUser(makeUser("u1", "alice@example.com"));
    EXPECT_THROW(store().insertUser(makeUser("u1", "bob@example.com")), StoreError);
}

TEST_P(SqliteStoreTest, TouchLastSeenKeepsEveryIdentityAndNeverGoesBack) {
    store().insertUser(makeUser("u1", "alice@example.com"));
    store().touchLastSeen("ghost", 5000); // no users row: a JWT-only identity
    store().touchLastSeen("u1", 5000);
    store().touchLastSeen("u1", 4000);
    EXPECT_EQ(rawInteger(dbPath(), "SELECT last_seen_at FROM presence WHERE user_id = ?1", "u1"), 5000);
    EXPECT_EQ(rawInteger(dbPath(), "SELECT last_seen_at FROM presence WHERE user_id = ?1", "ghost"), 5000);
    store().touchLastSeen("u1", 6000);
    EXPECT_EQ(rawInteger(dbPath(), "SELECT last_seen_at FROM presence WHERE user_id = ?1", "u1"), 6000);
}

TEST_P(SqliteStoreTest, SessionsInsertFindDelete) {
    store().insertUser(makeUser("u1", "alice@example.com"));
    store().insertSession(SessionRow{"abc123", "u1", 100, 200});
    auto found = store().findSession("abc123");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->tokenHash, "abc123");
    EXPECT_EQ(found->userId, "u1");
    EXPECT_EQ(found->createdAt, 100);
    EXPECT_EQ(found->expiresAt, 200);
    EXPECT_FALSE(store().findSession("other"));
    EXPECT_TRUE(store().deleteSession("abc123"));
    EXPECT_FALSE(store().findSession("abc123"));
    // A second delete (a repeated logout) finds nothing and says so.
    EXPECT_FALSE(store().deleteSession("abc123"));
}

TEST_P(SqliteStoreTest, DeleteSessionTakesOnlyThatSession) {
    // One user logged in on two devices: logging out one leaves the other.
    store().insertUser(makeUser("u1", "alice@example.com"));
    store().insertSession(SessionRow{"device-1", "u1", 100, 200});
    store().insertSession(SessionRow{"device-2", "u1", 100, 200});
    EXPECT_FALSE(store().deleteSession("unknown"));
    EXPECT_TRUE(store().deleteSession("device-1"));
    EXPECT_FALSE(store().findSession("device-1"));
    auto other = store().findSession("device-2");
    ASSERT_TRUE(other);
    EXPECT_EQ(other->userId, "u1");
}

TEST_P(SqliteStoreTest, SessionForUnknownUserThrows) {
    // Sessions come from a password login, so their user must exist.
    EXPECT_THROW(store().insertSession(SessionRow{"abc123", "ghost", 100, 200}), StoreError);
}

// =============================================================================================
// Chats and memberships
// =============================================================================================

TEST_P(SqliteStoreTest, ChatKeepsMembersInJoinOrder) {
    Chat chat = makeChat("c1", "group", {"zed", "amy", "mia"}, 10);
    chat.title = "Team";
    store().insertChat(chat);
    auto found = store().findChat("c1");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->id, "c1");
    EXPECT_EQ(found->type, "group");
    EXPECT_EQ(found->title, std::optional<std::string>("Team"));
    EXPECT_EQ(found->memberIds, (std::vector<std::string>{"zed", "amy", "mia"}));
    EXPECT_EQ(found->createdBy, "zed");
    EXPECT_EQ(found->createdAt, 10);
    EXPECT_EQ(found->updatedAt, 10);
    EXPECT_FALSE(store().findChat("c2"));
}

TEST_P(SqliteStoreTest, DmWithoutTitleHasNoTitle) {
    store().insertChat(makeChat("c1", "dm", {"a", "b"}, 10));
    EXPECT_EQ(store().findChat("c1")->title, std::nullopt);
}

TEST_P(SqliteStoreTest, AMemberListedTwiceIsOneMember) {
    store().insertChat(makeChat("c1", "group", {"a", "b", "a"}, 10));
    EXPECT_EQ(store().findChat("c1")->memberIds, (std::vector<std::string>{"a", "b"}));
}

TEST_P(SqliteStoreTest, UnknownChatTypeIsRejected) {
    EXPECT_THROW(store().insertChat(makeChat("c1", "channel", {"a"}, 10)), StoreError);
}

TEST_P(SqliteStoreTest, SetTitleSetsAndClears) {
    store().insertChat(makeChat("c1", "group", {"a", "b"}, 10));
    store().setTitle("c1", "Plans", 20);
    auto chat = store().findChat("c1");
    EXPECT_EQ(chat->title, std::optional<std::string>("Plans"));
    EXPECT_EQ(chat->updatedAt, 20);
    store().setTitle("c1", std::nullopt, 30);
    chat = store().findChat("c1");
    EXPECT_EQ(chat->title, std::nullopt);
    EXPECT_EQ(chat->updatedAt, 30);
    // An empty title is a title, not a cleared one.
    store().setTitle("c1", std::string(), 40);
    EXPECT_EQ(store().findChat("c1")->title, std::optional<std::string>(""));
}

TEST_P(SqliteStoreTest, AddAndRemoveMembers) {
    store().insertChat(makeChat("c1", "group", {"a", "b"}, 10));
    EXPECT_TRUE(store().addMember("c1", "c", 20));
    EXPECT_FALSE(store().addMember("c1", "c", 30));
    EXPECT_EQ(store().findChat("c1")->updatedAt, 20);
    EXPECT_TRUE(store().isMember("c1", "c"));

    EXPECT_TRUE(store().removeMember("c1", "a", 40));
    EXPECT_FALSE(store().removeMember("c1", "a", 50));
    EXPECT_FALSE(store().isMember("c1", "a"));
    EXPECT_EQ(store().findChat("c1")->updatedAt, 40);
    EXPECT_EQ(store().findChat("c1")->memberIds, (std::vector<std::string>{"b", "c"}));

    // Rejoining puts the member last again.
    EXPECT_TRUE(store().addMember("c1", "a", 60));
    EXPECT_EQ(store().findChat("c1")->memberIds, (std::vector<std::string>{"b", "c", "a"}));
}

TEST_P(SqliteStoreTest, MembersJoiningAtTheSameTimeKeepInsertionOrder) {
    store().insertChat(makeChat("c1", "group", {"m", "a"}, 10));
    EXPECT_TRUE(store().addMember("c1", "z", 10));
    EXPECT_TRUE(store().addMember("c1", "b", 10));
    EXPECT_EQ(store().findChat("c1")->memberIds, (std::vector<std::string>{"m", "a", "z", "b"}));
}

TEST_P(SqliteStoreTest, AddMemberToUnknownChatThrows) { EXPECT_THROW(store().addMember("nope", "a", 10), StoreError); }

TEST_P(SqliteStoreTest, IsMember) {
    store().insertChat(makeChat("c1", "dm", {"a", "b"}, 10));
    EXPECT_TRUE(store().isMember("c1", "a"));
    EXPECT_TRUE(store().isMember("c1", "b"));
    EXPECT_FALSE(store().isMember("c1", "c"));
    EXPECT_FALSE(store().isMember("c2", "a"));
}

TEST_P(SqliteStoreTest, ChatsOfUserNewestUpdateFirstWithMembers) {
    store().insertChat(makeChat("c1", "group", {"a", "b", "c"}, 10));
    store().insertChat(makeChat("c2", "dm", {"b", "a"}, 20));
    store().insertChat(makeChat("c3", "dm", {"b", "c"}, 30));
    store().setTitle("c1", "Now newest", 40);

    auto chats = store().chatsOfUser("a");
    ASSERT_EQ(chats.size(), 2u);
    EXPECT_EQ(chats[0].id, "c1");
    EXPECT_EQ(chats[0].title, std::optional<std::string>("Now newest"));
    EXPECT_EQ(chats[0].memberIds, (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(chats[1].id, "c2");
    EXPECT_EQ(chats[1].memberIds, (std::vector<std::string>{"b", "a"}));

    EXPECT_EQ(store().chatsOfUser("b").size(), 3u);
    EXPECT_TRUE(store().chatsOfUser("nobody").empty());
}

TEST_P(SqliteStoreTest, ChatIdsOfAUserAreItsChatsInIdOrder) {
    store().insertChat(makeChat("c2", "group", {"a", "b", "c"}, 10));
    store().insertChat(makeChat("c1", "dm", {"a", "b"}, 20));
    store().insertChat(makeChat("c3", "dm", {"c", "d"}, 30));
    EXPECT_EQ(store().chatIdsOf("a"), (std::vector<std::string>{"c1", "c2"}));
    EXPECT_EQ(store().chatIdsOf("c"), (std::vector<std::string>{"c2", "c3"}));
    EXPECT_TRUE(store().chatIdsOf("nobody").empty());
}

TEST_P(SqliteStoreTest, MembersSeenCarryTheirLastSeenTimeOrNone) {
    store().insertChat(makeChat("c1", "group", {"a", "b", "c"}, 10));
    store().insertChat(makeChat("c2", "dm", {"a", "d"}, 20));
    store().touchLastSeen("b", 7000);
    store().touchLastSeen("d", 8000);
    const auto seen = store().membersSeen("c1");
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[0].userId, "a");
    EXPECT_FALSE(seen[0].lastSeenAt);
    EXPECT_EQ(seen[1].userId, "b");
    EXPECT_EQ(seen[1].lastSeenAt, std::optional<std::int64_t>(7000));
    EXPECT_EQ(seen[2].userId, "c");
    EXPECT_FALSE(seen[2].lastSeenAt);
    EXPECT_TRUE(store().membersSeen("nobody").empty());
}

// =============================================================================================
// Messages
// =============================================================================================

TEST_P(SqliteStoreTest, InsertsAndFindsMessages) {
    store().insertChat(makeChat("c1", "dm", {"a", "b"}, 10));
    store().insertMessage(makeMessage("m1", "c1", "a", "k1", 20, "hi there"));
    auto found = store().findMessage("m1");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->id, "m1");
    EXPECT_EQ(found->chatId, "c1");
    EXPECT_EQ(found->senderId, "a");
    EXPECT_EQ(found->body, "hi there");
    EXPECT_EQ(found->clientId, "k1");
    EXPECT_EQ(found->createdAt, 20);
    EXPECT_FALSE(store().findMessage("m2"));

    auto byClient = store().findByClientId("c1", "a", "k1");
    ASSERT_TRUE(byClient);
    EXPECT_EQ(byClient->id, "m1");
    EXPECT_FALSE(store().findByClientId("c1", "b", "k1"));
    EXPECT_FALSE(store().findByClientId("c2", "a", "k1"));
}

TEST_P(SqliteStoreTest, DuplicateClientIdOfTheSameSenderThrowsDuplicateMessage) {
    store().insertChat(makeChat("c1", "group", {"a", "b"}, 10));
    store().insertChat(makeChat("c2", "group", {"a", "b"}, 10));
    store().insertMessage(makeMessage("m1", "c1", "a", "k1", 20));
    EXPECT_THROW(store().insertMessage(makeMessage("m2", "c1", "a", "k1", 30)), DuplicateMessage);
    // Another sender's identical clientId, or the same one in another chat, is another message.
    EXPECT_NO_THROW(store().insertMessage(makeMessage("m3", "c1", "b", "k1", 40)));
    EXPECT_NO_THROW(store().insertMessage(makeMessage("m4", "c2", "a", "k1", 50)));
    EXPECT_FALSE(store().findMessage("m2"));
    EXPECT_EQ(store().findByClientId("c1", "a", "k1")->id, "m1");
}

TEST_P(SqliteStoreTest, DuplicateMessageIdIsAStoreErrorButNotADuplicateMessage) {
    store().insertChat(makeChat("c1", "group", {"a"}, 10));
    store().insertMessage(makeMessage("m1", "c1", "a", "k1", 20));
    try {
        store().insertMessage(makeMessage("m1", "c1", "a", "k2", 30));
        FAIL() << "expected StoreError";
    } catch (const DuplicateMessage&) {
        FAIL() << "an id collision is not a client retry";
    } catch (const StoreError&) {}
}

TEST_P(SqliteStoreTest, MessageInUnknownChatThrows) {
    EXPECT_THROW(store().insertMessage(makeMessage("m1", "nope", "a", "k1", 20)), StoreError);
}

TEST_P(SqliteStoreTest, SqlLookingTextIsStoredVerbatim) {
    const std::string evil = "'); DROP TABLE messages;--";
    User user = makeUser(evil, "x@example.com");
    user.displayName = evil;
    store().insertUser(user);
    Chat chat = makeChat("c1", "group", {evil, "b"}, 10);
    chat.title = evil;
    store().insertChat(chat);
    store().insertMessage(makeMessage("m1", "c1", evil, evil, 20, evil));

    EXPECT_EQ(store().findUser(evil)->displayName, evil);
    EXPECT_EQ(store().findChat("c1")->title, std::optional<std::string>(evil));
    EXPECT_TRUE(store().isMember("c1", evil));
    auto message = store().findByClientId("c1", evil, evil);
    ASSERT_TRUE(message);
    EXPECT_EQ(message->body, evil);
    EXPECT_EQ(store().messages("c1", std::nullopt, std::nullopt, 10).messages.size(), 1u);
}

TEST_P(SqliteStoreTest, BodiesRoundTripUnicodeAndEmbeddedNul) {
    store().insertChat(makeChat("c1", "group", {"a"}, 10));
    const std::string body = std::string("héllo 👋 \"quoted\" \\ back") + '\0' + "after nul";
    store().insertMessage(makeMessage("m1", "c1", "a", "k1", 20, body));
    EXPECT_EQ(store().findMessage("m1")->body, body);
}

// Seven messages in c1, in (createdAt, id) order: m0 | m2a m2b m2c (same createdAt, inserted
// out of id order) | m3 m4 m5. One message in c2 that must never show up.
class SqliteStorePagingTest : public SqliteStoreTest {
protected:
    void SetUp() override {
        store().insertChat(makeChat("c1", "group", {"a", "b"}, 1));
        store().insertChat(makeChat("c2", "group", {"a", "b"}, 1));
        store().insertMessage(makeMessage("m0", "c1", "a", "k0", 100));
        store().insertMessage(makeMessage("m2c", "c1", "b", "k1", 200));
        store().insertMessage(makeMessage("m2a", "c1", "a", "k2", 200));
        store().insertMessage(makeMessage("m2b", "c1", "b", "k3", 200));
        store().insertMessage(makeMessage("m3", "c1", "a", "k4", 300));
        store().insertMessage(makeMessage("m4", "c1", "b", "k5", 400));
        store().insertMessage(makeMessage("m5", "c1", "a", "k6", 500));
        store().insertMessage(makeMessage("x1", "c2", "a", "k0", 450));
    }
    using Ids = std::vector<std::string>;
};

TEST_P(SqliteStorePagingTest, NewestPageIsOldestFirst) {
    auto page = store().messages("c1", std::nullopt, std::nullopt, 3);
    EXPECT_EQ(idsOf(page), (Ids{"m3", "m4", "m5"}));
    EXPECT_TRUE(page.hasMore);

    page = store().messages("c1", std::nullopt, std::nullopt, 7);
    EXPECT_EQ(idsOf(page), (Ids{"m0", "m2a", "m2b", "m2c", "m3", "m4", "m5"}));
    EXPECT_FALSE(page.hasMore);

    page = store().messages("c1", std::nullopt, std::nullopt, 100);
    EXPECT_EQ(page.messages.size(), 7u);
    EXPECT_FALSE(page.hasMore);
}

TEST_P(SqliteStorePagingTest, BeforePagesBackwards) {
    auto page = store().messages("c1", "m3", std::nullopt, 2);
    EXPECT_EQ(idsOf(page), (Ids{"m2b", "m2c"}));
    EXPECT_TRUE(page.hasMore);

    // The cursor sits between messages with the same createdAt.
    page = store().messages("c1", "m2b", std::nullopt, 5);
    EXPECT_EQ(idsOf(page), (Ids{"m0", "m2a"}));
    EXPECT_FALSE(page.hasMore);

    page = store().messages("c1", "m2a", std::nullopt, 1);
    EXPECT_EQ(idsOf(page), (Ids{"m0"}));
    EXPECT_FALSE(page.hasMore);

    page = store().messages("c1", "m0", std::nullopt, 10);
    EXPECT_TRUE(page.messages.empty());
    EXPECT_FALSE(page.hasMore);
}

TEST_P(SqliteStorePagingTest, AfterPagesForwards) {
    auto page = store().messages("c1", std::nullopt, "m0", 2);
    EXPECT_EQ(idsOf(page), (Ids{"m2a", "m2b"}));
    EXPECT_TRUE(page.hasMore);

    page = store().messages("c1", std::nullopt, "m2b", 2);
    EXPECT_EQ(idsOf(page), (Ids{"m2c", "m3"}));
    EXPECT_TRUE(page.hasMore);

    page = store().messages("c1", std::nullopt, "m3", 2);
    EXPECT_EQ(idsOf(page), (Ids{"m4", "m5"}));
    EXPECT_FALSE(page.hasMore);

    page = store().messages("c1", std::nullopt, "m5", 10);
    EXPECT_TRUE(page.messages.empty());
    EXPECT_FALSE(page.hasMore);
}

TEST_P(SqliteStorePagingTest, WalkingBothWaysVisitsEveryMessageOnce) {
    Ids backwards;
    auto page = store().messages("c1", std::nullopt, std::nullopt, 2);
    while (true) {
        auto ids = idsOf(page);
        backwards.insert(backwards.begin(), ids.begin(), ids.end());
        if (!page.hasMore) break;
        page = store().messages("c1", page.messages.front().id, std::nullopt, 2);
    }
    Ids all{"m0", "m2a", "m2b", "m2c", "m3", "m4", "m5"};
    EXPECT_EQ(backwards, all);

    Ids forwards{"m0"};
    page = store().messages("c1", std::nullopt, "m0", 2);
    while (true) {
        for (const auto& message : page.messages) forwards.push_back(message.id);
        if (!page.hasMore) break;
        page = store().messages("c1", std::nullopt, page.messages.back().id, 2);
    }
    EXPECT_EQ(forwards, all);
}

TEST_P(SqliteStorePagingTest, BothCursorsGiveTheWindowBetweenThem) {
    auto page = store().messages("c1", "m4", "m0", 2);
    EXPECT_EQ(idsOf(page), (Ids{"m2a", "m2b"}));
    EXPECT_TRUE(page.hasMore);
    page = store().messages("c1", "m4", "m2b", 5);
    EXPECT_EQ(idsOf(page), (Ids{"m2c", "m3"}));
    EXPECT_FALSE(page.hasMore);
}

TEST_P(SqliteStorePagingTest, UnknownCursorGivesAnEmptyPage) {
    for (const auto& cursor : {std::string("nope"), std::string("x1") /* a message of another chat */}) {
        auto page = store().messages("c1", cursor, std::nullopt, 10);
        EXPECT_TRUE(page.messages.empty()) << cursor;
        EXPECT_FALSE(page.hasMore) << cursor;
        page = store().messages("c1", std::nullopt, cursor, 10);
        EXPECT_TRUE(page.messages.empty()) << cursor;
        EXPECT_FALSE(page.hasMore) << cursor;
    }
    EXPECT_TRUE(store().messages("unknown-chat", std::nullopt, std::nullopt, 10).messages.empty());
}

// =============================================================================================
// Read cursors
// =============================================================================================

TEST_P(SqliteStorePagingTest, ReadCursorsAndUnreadCounts) {
    // No cursor: every message not sent by the user. a sent m0 m2a m3 m5; b sent m2c m2b m4.
    EXPECT_FALSE(store().readCursor("c1", "a"));
    EXPECT_EQ(store().unreadCount("c1", "a"), 3);
    EXPECT_EQ(store().unreadCount("c1", "b"), 4);
    EXPECT_TRUE(store().readCursors("c1").empty());

    // a read up to m2b: unread are b's m2c and m4 (m2b itself is read).
    store().setReadCursor("c1", ReadCursor{"a", "m2b", 200, 9000});
    auto cursor = store().readCursor("c1", "a");
    ASSERT_TRUE(cursor);
    EXPECT_EQ(cursor->userId, "a");
    EXPECT_EQ(cursor->messageId, "m2b");
    EXPECT_EQ(cursor->messageCreatedAt, 200);
    EXPECT_EQ(cursor->readAt, 9000);
    EXPECT_EQ(store().unreadCount("c1", "a"), 2);

    store().setReadCursor("c1", ReadCursor{"b", "m5", 500, 9100});
    EXPECT_EQ(store().unreadCount("c1", "b"), 0);

    auto cursors = store().readCursors("c1");
    ASSERT_EQ(cursors.size(), 2u);
    EXPECT_EQ(cursors[0].userId, "a");
    EXPECT_EQ(cursors[1].userId, "b");
    EXPECT_EQ(cursors[1].messageId, "m5");
    EXPECT_TRUE(store().readCursors("c2").empty());

    // A non-member has no membership row to hold a cursor.
    store().setReadCursor("c1", ReadCursor{"stranger", "m5", 500, 9200});
    EXPECT_FALSE(store().readCursor("c1", "stranger"));
    EXPECT_EQ(store().readCursors("c1").size(), 2u);

    // Leaving the chat drops the cursor with the membership.
    store().removeMember("c1", "a", 9300);
    EXPECT_FALSE(store().readCursor("c1", "a"));
}

// =============================================================================================
// Transactions
// =============================================================================================

TEST_P(SqliteStoreTest, SavepointRollbackUndoesOnlyThatWrite) {
    store().insertChat(makeChat("c1", "group", {"a"}, 10));
    store().begin();
    store().savepoint();
    store().insertMessage(makeMessage("m1", "c1", "a", "k1", 20));
    store().releaseSavepoint();
    store().savepoint();
    store().insertMessage(makeMessage("m2", "c1", "a", "k2", 30));
    store().rollbackToSavepoint();
    store().releaseSavepoint();
    store().commit();
    reopen();
    EXPECT_TRUE(store().findMessage("m1"));
    EXPECT_FALSE(store().findMessage("m2"));
}

TEST_P(SqliteStoreTest, RollbackUndoesTheTransaction) {
    store().insertChat(makeChat("c1", "group", {"a"}, 10));
    store().begin();
    store().insertMessage(makeMessage("m1", "c1", "a", "k1", 20));
    store().rollback();
    EXPECT_FALSE(store().findMessage("m1"));
}

TEST_P(SqliteStoreTest, FailedStatementLeavesTheStoreUsable) {
    store().insertChat(makeChat("c1", "group", {"a"}, 10));
    store().insertMessage(makeMessage("m1", "c1", "a", "k1", 20));
    EXPECT_THROW(store().insertMessage(makeMessage("m2", "c1", "a", "k1", 30)), DuplicateMessage);
    // The cached statement was reset: the next use starts clean.
    EXPECT_NO_THROW(store().insertMessage(makeMessage("m3", "c1", "a", "k3", 40)));
    store().begin();
    store().commit();
}

TEST_P(SqliteStoreTest, CommitWithoutBeginThrowsStoreError) {
    store();
    EXPECT_THROW(store().commit(), StoreError);
    EXPECT_THROW(store().releaseSavepoint(), StoreError);
}

INSTANTIATE_TEST_SUITE_P(Vfs, SqliteStoreTest, test::kBothVfs, test::vfsName);
INSTANTIATE_TEST_SUITE_P(Vfs, SqliteStorePagingTest, test::kBothVfs, test::vfsName);

} // namespace
} // namespace parley::store
