#pragma once

#include "store/Store.hpp"

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

// Kept out of the header so that users of the store never see the SQLite C API.
struct sqlite3;
struct sqlite3_stmt;

namespace parley::store {

class WalCheckpointer;

/// The default Store: one SQLite file in WAL mode. Every statement is prepared once and cached;
/// no SQL text is ever built from values.
class SqliteStore final : public Store {
public:
    /// Opens (creating if needed) the database file and its parent folder, sets WAL,
    /// synchronous=FULL (an acknowledged write must survive kill -9 and power loss),
    /// foreign_keys=ON and a 5000 ms busy timeout, then runs pending migrations.
    /// Throws StoreError on failure. A file that can only be read (a read-only mount) opens
    /// read-only: reads work, writes fail until the file is writable again.
    ///
    /// Recovery: after a fault of the database itself (disk full, I/O error, read-only or
    /// unopenable file) the next transaction, or the next statement when no connection is
    /// open, starts on a fresh connection. So once the fault is cleared (space freed, the
    /// mount made writable) writes succeed again without restarting the process.
    ///
    /// Checkpoints: SQLite's automatic checkpoint would run inside the commit that crosses its
    /// threshold and hold up every write behind it. Here a WalCheckpointer copies the log into
    /// the database on a thread of its own once 1000 pages (SQLite's threshold) have been
    /// logged since the last request, and maintain() lets the log restart from its beginning.
    ///
    /// The connection must read back synchronous=FULL once set, or the constructor throws
    /// StoreError and the server does not start (Synchronous.hpp says why).
    struct Options {
        /// Runs on the checkpointer's thread before each checkpoint (tests hold one with it).
        std::function<void()> beforeCheckpoint;
        /// The VFS of the store's connections. WalWriteBuffer, the server's, writes each commit to
        /// the log in one call and paces the checkpointer's copying (WalWriteBuffer.hpp);
        /// SqliteDefault is SQLite's own. The store's unit tests run on both, so the store
        /// never depends on the custom VFS for anything but speed.
        enum class Vfs { WalWriteBuffer, SqliteDefault };
        Vfs vfs = Vfs::WalWriteBuffer;
        /// A reader: opens an existing database read-only (query_only, no migrations, no
        /// checkpoints), for reads that must not wait behind the writer's transactions (WAL lets
        /// them read the last commit while it writes). Reads only: every write method throws.
        bool reader = false;
        /// Runs on the writer before it reopens its connection after a fault. The store's other
        /// connections in this process must close first: they share SQLite's view of the -shm
        /// file, and one opened on a read-only filesystem keeps it read-only for every
        /// connection that opens while it lives.
        std::function<void()> beforeReopen;
    };
    explicit SqliteStore(const std::string& path);
    SqliteStore(const std::string& path, Options options);
    ~SqliteStore() override;
    SqliteStore(const SqliteStore&) = delete;
    SqliteStore& operator=(const SqliteStore&) = delete;

    /// Runs the numbered migrations not yet applied (tracked in the schema_migrations table),
    /// each in its own transaction. Returns how many ran: 0 when the schema is current.
    /// Called by the constructor; public for `parley migrate`. Must not be called inside a
    /// transaction. Throws StoreError if a migration fails (that migration is rolled back).
    int migrate();

    /// How many migrations the constructor ran (what `parley migrate` reports, since by the
    /// time it can call migrate() the constructor has already brought the schema up to date).
    int migrationsRunAtOpen() const { return migrationsRunAtOpen_; }

    void begin() override;
    void commit() override;
    void rollback() override;
    void savepoint() override;
    void releaseSavepoint() override;
    void rollbackToSavepoint() override;
    /// A read transaction: every statement until endRead() sees the same commit.
    void beginRead();
    void endRead() noexcept;
    /// When the checkpointer has finished one and nothing is queued (or the log has grown past
    /// 4000 pages regardless), copies what was committed during it, on this connection: the
    /// next write then restarts the log from its beginning.
    void maintain(bool idle) override;

    /// Closes the connection now; the next statement opens it again.
    void closeConnection() noexcept { close(); }

    /// Background checkpoints finished so far (0 before the first request).
    std::uint64_t checkpointsCompleted() const;

    void insertUser(const User& user) override;
    std::optional<User> findUser(std::string_view id) override;
    std::optional<User> findUserByEmail(std::string_view email) override;
    void insertSession(const SessionRow& session) override;
    std::optional<SessionRow> findSession(std::string_view tokenHash) override;
    bool deleteSession(std::string_view tokenHash) override;
    void touchLastSeen(std::string_view userId, std::int64_t at) override;

    void insertChat(const Chat& chat) override;
    std::optional<Chat> findChat(std::string_view chatId) override;
    std::vector<Chat> chatsOfUser(std::string_view userId) override;
    std::vector<ChatSummary> chatSummaries(std::string_view userId) override;
    void setTitle(std::string_view chatId, const std::optional<std::string>& title, std::int64_t updatedAt) override;
    bool addMember(std::string_view chatId, std::string_view userId, std::int64_t updatedAt) override;
    bool removeMember(std::string_view chatId, std::string_view userId, std::int64_t updatedAt) override;
    bool isMember(std::string_view chatId, std::string_view userId) override;
    std::vector<std::string> chatIdsOf(std::string_view userId) override;
    std::vector<ContactSeen> membersSeen(std::string_view chatId) override;

    void insertMessage(const Message& message) override;
    std::optional<Message> findMessage(std::string_view messageId) override;
    std::optional<Message> findByClientId(std::string_view chatId, std::string_view senderId,
                                          std::string_view clientId) override;
    MessagePage messages(std::string_view chatId, std::optional<std::string> before, std::optional<std::string> after,
                         int limit) override;

    std::optional<ReadCursor> readCursor(std::string_view chatId, std::string_view userId) override;
    void setReadCursor(std::string_view chatId, const ReadCursor& cursor) override;
    std::vector<ReadCursor> readCursors(std::string_view chatId) override;
    std::int64_t unreadCount(std::string_view chatId, std::string_view userId) override;

    void saveRecovery(const RecoveryRecord& record) override;
    void endRecovery(std::string_view pid, std::string_view owner, std::int64_t at) override;
    void deleteRecovery(std::string_view pid) override;
    std::optional<RecoveryRecord> findRecovery(std::string_view pid) override;
    void takeRecovery(std::string_view pid, std::string_view owner, std::int64_t at) override;
    std::int64_t pruneRecovery(std::int64_t notBefore) override;
    Replay replay(const ReplayRequest& request) override;

private:
    class Statement;

    // Opens path_ into db_ (pragmas, then migrations) and returns how many migrations ran.
    // On failure db_ stays null and StoreError is thrown.
    int open();
    // Finalizes every cached statement and closes the connection (db_ becomes null).
    void close() noexcept;
    // Records a failed result code: a fault of the database itself schedules a reopen.
    void noteFailure(int code);
    // Closes and opens the connection again. Only between statements, outside a transaction.
    void reopen();

    // Returns the cached statement for `sql`, preparing it on first use. `sql` must be a string
    // literal: the cache is keyed by its text and the key's storage must outlive the store.
    sqlite3_stmt* prepared(std::string_view sql);
    // Runs a statement that returns no rows (transaction control, pragmas' side effects).
    void execute(std::string_view sql);
    std::int64_t appliedMigrationVersion();
    // SQLite's WAL hook, called on the store thread after each commit with the log's length.
    static int onWalCommit(void* self, sqlite3* db, const char* schema, int frames);
    // Asks the checkpointer (started on first use) for a checkpoint; called from onWalCommit,
    // so it must not throw through SQLite.
    void requestCheckpoint() noexcept;
    std::vector<std::string> memberIds(std::string_view chatId);
    // Fills in the members of `chats` (every chat of `userId`; `indexById` maps an id to its index).
    void fillMembers(std::string_view userId, std::vector<Chat*>& chats,
                     const std::unordered_map<std::string, std::size_t>& indexById);
    // open() for Options::reader.
    void openReader();

    std::string path_;
    Options options_;
    sqlite3* db_ = nullptr;
    std::unique_ptr<WalCheckpointer> checkpointer_; // started by the first checkpoint request
    int walFrames_ = 0;                             // the log's length after the last commit
    int framesAtRequest_ = 0;                       // ... when a checkpoint was last requested
    // What maintain() has outstanding with the log. None: nothing. PassAsked: it asked the
    // checkpointer for another pass, after one that had copied copiedWhenAsked_ frames.
    // CopyOwed: no checkpointer thread could be started for a request, so maintain() copies the
    // log itself, as SQLite's own checkpoint would have.
    enum class WriterCheckpoint { None, PassAsked, CopyOwed };
    WriterCheckpoint writerCheckpoint_ = WriterCheckpoint::None;
    int copiedWhenAsked_ = 0;
    bool noCheckpointThreadLogged_ = false; // the failure to start one is said once in the log
    // Set by a fault (or a read-only open): the next transaction starts on a fresh connection.
    bool reopenPending_ = false;
    std::unordered_map<std::string_view, sqlite3_stmt*> statements_;
    int migrationsRunAtOpen_ = 0;
};

} // namespace parley::store
