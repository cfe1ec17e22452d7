#include "store/sqlite/Synchronous.hpp"

#include "StoreVfs.hpp"
#include "TempDir.hpp"
#include "store/Store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

namespace parley::store {
namespace {

using test::TempDir;

// A connection of its own on a database file, with `pragma` run on it.
class Connection {
public:
    Connection(const std::string& path, const char* pragma) {
        EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr), SQLITE_OK);
        EXPECT_EQ(sqlite3_exec(db_, pragma, nullptr, nullptr, nullptr), SQLITE_OK) << pragma;
    }
    ~Connection() { sqlite3_close(db_); }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    sqlite3* get() const { return db_; }

private:
    sqlite3* db_ = nullptr;
};

std::string refusal(sqlite3* db, const std::string& path) {
    try {
        requireSynchronousFull(db, path);
    } catch (const StoreError& e) {
        return e.what();
    }
    return {};
}

TEST(SqliteSynchronous, FullIsAccepted) {
    TempDir dir;
    const std::string path = (dir.path() / "full.db").string();
    Connection db(path, "PRAGMA synchronous = FULL");
    EXPECT_EQ(synchronousLevel(db.get()), kSynchronousFull);
    EXPECT_NO_THROW(requireSynchronousFull(db.get(), path));
}

TEST(SqliteSynchronous, EveryOtherLevelIsRefusedWithTheSettingAndWhyNamed) {
    TempDir dir;
    const std::string path = (dir.path() / "other.db").string();
    const struct {
        const char* pragma;
        const char* named;
    } levels[] = {{"PRAGMA synchronous = OFF", "synchronous is OFF (0)"},
                  {"PRAGMA synchronous = NORMAL", "synchronous is NORMAL (1)"},
                  {"PRAGMA synchronous = EXTRA", "synchronous is EXTRA (3)"}};
    for (const auto& level : levels) {
        Connection db(path, level.pragma);
        const std::string message = refusal(db.get(), path);
        ASSERT_FALSE(message.empty()) << level.pragma << " was accepted";
        EXPECT_NE(message.find(level.named), std::string::npos) << message;
        EXPECT_NE(message.find(path), std::string::npos) << message;
        EXPECT_NE(message.find("anything but FULL (2)"), std::string::npos) << message;
    }
}

// The store's own connection passes the check on both VFSes (the constructor would throw).
class SqliteSynchronousStore : public ::testing::TestWithParam<test::Vfs> {};

TEST_P(SqliteSynchronousStore, OpensOnFull) {
    TempDir dir;
    EXPECT_NO_THROW(SqliteStore((dir.path() / "parley.db").string(), test::optionsFor(GetParam())));
}

INSTANTIATE_TEST_SUITE_P(Vfs, SqliteSynchronousStore, test::kBothVfs, test::vfsName);

} // namespace
} // namespace parley::store
