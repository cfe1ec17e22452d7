#include "store/sqlite/WalWriteBuffer.hpp"

#include "ChatFixture.hpp"
#include "TempDir.hpp"
#include "store/sqlite/SqliteStore.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

namespace parley::store {
namespace {

using test::TempDir;

// A second connection to the same file through the default VFS, as another process (the `parley`
// CLI, the sqlite3 shell) would have: it sees a commit only if its frames are in the WAL file.
class Reader {
public:
    explicit Reader(const std::filesystem::path& db) {
        EXPECT_EQ(sqlite3_open_v2(db.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    }
    ~Reader() { sqlite3_close(db_); }
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;

    std::optional<std::string> text(const char* sql, const std::string& param = {}) {
        sqlite3_stmt* stmt = nullptr;
        EXPECT_EQ(sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
        if (!param.empty()) sqlite3_bind_text(stmt, 1, param.data(), static_cast<int>(param.size()), SQLITE_TRANSIENT);
        std::optional<std::string> value;
        int code = sqlite3_step(stmt);
        EXPECT_TRUE(code == SQLITE_ROW || code == SQLITE_DONE) << sqlite3_errmsg(db_);
        if (code == SQLITE_ROW) {
            const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
            value = std::string(data ? data : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt, 0)));
        }
        sqlite3_finalize(stmt);
        return value;
    }

private:
    sqlite3* db_ = nullptr;
};

// A body that differs per message and, for large sizes, spans many overflow pages.
std::string bodyFor(int i, std::size_t size) {
    std::string body(size, ' ');
    for (std::size_t k = 0; k < size; ++k) body[k] = static_cast<char>('a' + (i * 7 + static_cast<int>(k)) % 26);
    return body;
}

Message messageFor(int i, std::size_t size) {
    return Message{"m" + std::to_string(i), "c1", "u1", bodyFor(i, size), "k" + std::to_string(i), 1000 + i};
}

class WalWriteBufferTest : public ::testing::Test {
protected:
    void SetUp() override {
        store_ = std::make_unique<SqliteStore>(path().string());
        test::createGroupChat(*store_, "c1", {"u1"});
    }
    std::filesystem::path path() const { return dir_.path() / "parley.db"; }

    // One transaction per message, as the store thread commits a write alone.
    void commit(const Message& message) {
        store_->begin();
        store_->insertMessage(message);
        store_->commit();
    }

    TempDir dir_;
    std::unique_ptr<SqliteStore> store_;
};

TEST_F(WalWriteBufferTest, TheStoreOpensItsFileThroughTheBufferingVfs) {
    EXPECT_NE(sqlite3_vfs_find(walWriteBufferVfs()), nullptr);
    EXPECT_TRUE(std::filesystem::exists(dir_.path() / "parley.db-wal"));
}

// Small commits (a few pages) and commits larger than the buffer's 64 KiB, interleaved: another
// connection, open all along, reads every one of them, byte for byte, as soon as it commits.
TEST_F(WalWriteBufferTest, AnotherConnectionSeesEachCommitAtOnce) {
    Reader reader(path());
    for (int i = 0; i < 40; ++i) {
        const std::size_t size = i % 5 == 4 ? 150'000 : 40 + static_cast<std::size_t>(i);
        commit(messageFor(i, size));
        EXPECT_EQ(reader.text("SELECT COUNT(*) FROM messages"), std::to_string(i + 1));
        EXPECT_EQ(reader.text("SELECT body FROM messages WHERE id = ?1", "m" + std::to_string(i)), bodyFor(i, size))
            << i;
    }
    EXPECT_EQ(reader.text("PRAGMA integrity_check"), "ok");
}

// Enough frames for the store's own automatic checkpoints (every 1000 pages), which read the
// WAL back: everything lands in the database file, and survives closing and reopening.
TEST_F(WalWriteBufferTest, CheckpointsCopyEveryCommitIntoTheDatabase) {
    constexpr int kMessages = 150;
    for (int i = 0; i < kMessages; ++i) commit(messageFor(i, 20'000)); // about seven pages each
    {
        Reader reader(path());
        // The store's own checkpointer may be copying on its thread (its passes pause, so they
        // take a few milliseconds): then this checkpoint reports busy (1), and is tried again.
        auto busy = reader.text("PRAGMA wal_checkpoint(TRUNCATE)");
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (busy == "1" && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            busy = reader.text("PRAGMA wal_checkpoint(TRUNCATE)");
        }
        EXPECT_EQ(busy, "0");
        EXPECT_EQ(reader.text("SELECT COUNT(*) FROM messages"), std::to_string(kMessages));
        EXPECT_EQ(reader.text("PRAGMA integrity_check"), "ok");
    }
    store_.reset();
    SqliteStore reopened(path().string());
    for (int i = 0; i < kMessages; i += 7) {
        auto message = reopened.findMessage("m" + std::to_string(i));
        ASSERT_TRUE(message) << i;
        EXPECT_EQ(message->body, bodyFor(i, 20'000)) << i;
    }
}

// A transaction that fails after writing pages leaves nothing the other connection can see, and
// the next commit works.
TEST_F(WalWriteBufferTest, ARolledBackTransactionLeavesNothingBehind) {
    Reader reader(path());
    commit(messageFor(0, 100));
    store_->begin();
    store_->insertMessage(messageFor(1, 150'000));
    store_->rollback();
    commit(messageFor(2, 100));
    EXPECT_EQ(reader.text("SELECT group_concat(id) FROM (SELECT id FROM messages ORDER BY id)"), "m0,m2");
    EXPECT_EQ(reader.text("PRAGMA integrity_check"), "ok");
}

} // namespace
} // namespace parley::store
