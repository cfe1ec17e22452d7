#include "store/sqlite/SqliteStore.hpp"

#include "core/Time.hpp"
#include "store/Email.hpp"
#include "store/RecoveryRooms.hpp"
#include "store/sqlite/Migrations.hpp"
#include "store/sqlite/Synchronous.hpp"
#include "store/sqlite/WalCheckpointer.hpp"
#include "store/sqlite/WalWriteBuffer.hpp"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <mutex>
#include <system_error>
#include <utility>

namespace parley::store {

namespace {

// Every bound value outlives the step that reads it (bindings are cleared before the bound
// argument goes out of scope), so SQLite need not copy it. This is SQLITE_STATIC, spelled
// without the macro's old-style cast.
const sqlite3_destructor_type kNoCopy = nullptr;

// Store callers wait on the database; five seconds covers a checkpoint or another process's
// commit without letting a stuck lock hang the store thread forever.
constexpr int kBusyTimeoutMs = 5000;

// A checkpoint is requested each time this many pages have been logged since the last request
// (SQLite's own automatic threshold) ...
constexpr int kCheckpointPages = 1000;
// ... and at this length the writer copies the rest itself even while writes are queued: the
// log would otherwise keep growing while the store thread is never idle.
constexpr int kWriterCheckpointPages = 4 * kCheckpointPages;
// After a background checkpoint, the writer copies what it left itself (so that the log can
// restart) only when that is at most this many pages; more, and the checkpointer takes another
// pass first. The writer's copy holds up the commits queued behind it: at 3000 clients with
// spread senders, the 50-100 pages a checkpoint left took the writer 1.5-5 ms to copy and sync.
constexpr int kWriterCatchUpPages = 64;

// Process-wide settings, applied once before SQLite initialises (sqlite3_config refuses them
// afterwards, harmlessly, with SQLITE_MISUSE). Memory statistics off: with them on (SQLite's
// default) every sqlite3_malloc and sqlite3_free takes a global mutex to keep byte counts that
// nothing here reads; SQLite's recommended compile-time options turn them off too.
void configureSqliteOnce() {
    static std::once_flag once;
    std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

std::string describe(sqlite3* db, int code, std::string_view sql) {
    const char* message = db ? sqlite3_errmsg(db) : sqlite3_errstr(code);
    return std::string("sqlite: ") + message + " (code " + std::to_string(code) + ") in: " + std::string(sql);
}

} // namespace

// =============================================================================================
// Statement: one use of a cached prepared statement
// =============================================================================================

// Borrows a cached statement for one execution. The destructor resets it and clears its
// bindings, so the next user starts clean even when this one threw halfway through.
class SqliteStore::Statement {
public:
    // prepared() first: it may open the connection (after a failed reopen), which sets db_.
    Statement(SqliteStore& store, std::string_view sql)
        : store_(store), sql_(sql), stmt_(store.prepared(sql)), db_(store.db_) {}
    ~Statement() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    // Parameters are numbered from 1, as the ?N in the SQL text.
    Statement& bind(int index, std::string_view text) {
        // An empty string_view may have a null data(), which SQLite would store as NULL.
        const char* data = text.data() ? text.data() : "";
        return check(sqlite3_bind_text(stmt_, index, data, static_cast<int>(text.size()), kNoCopy));
    }
    Statement& bind(int index, std::int64_t value) { return check(sqlite3_bind_int64(stmt_, index, value)); }
    // A separate name: a std::string converts to both string_view and optional, ambiguously.
    Statement& bindOptional(int index, const std::optional<std::string>& text) {
        if (!text) return check(sqlite3_bind_null(stmt_, index));
        return bind(index, std::string_view(*text));
    }

    // Returns SQLITE_ROW, SQLITE_DONE or the (extended) error code, for callers that map a
    // particular error themselves.
    int stepCode() { return sqlite3_step(stmt_); }
    // Returns true when a row is ready, false when the statement is done; throws on error.
    bool step() {
        int code = stepCode();
        if (code == SQLITE_ROW) return true;
        if (code == SQLITE_DONE) return false;
        fail(code);
    }
    // Runs a statement that returns no rows.
    void run() {
        while (step()) {}
    }
    [[noreturn]] void fail(int code) {
        store_.noteFailure(code);
        throw StoreError(describe(db_, code, sql_));
    }
    std::string errorText(int code) const { return describe(db_, code, sql_); }

    // Rows changed by this statement, when it was an INSERT, UPDATE or DELETE.
    int changes() const { return sqlite3_changes(db_); }

    // Columns are numbered from 0, in SELECT order.
    bool isNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
    std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
    std::string text(int column) const {
        const auto* data = sqlite3_column_text(stmt_, column);
        // Ask for the size after the text: the conversion to text can change it.
        int size = sqlite3_column_bytes(stmt_, column);
        return data ? std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(size)) : std::string();
    }
    std::optional<std::string> optionalText(int column) const {
        if (isNull(column)) return std::nullopt;
        return text(column);
    }

private:
    Statement& check(int code) {
        if (code != SQLITE_OK) fail(code);
        return *this;
    }

    SqliteStore& store_;
    std::string_view sql_;
    sqlite3_stmt* stmt_;
    sqlite3* db_;
};

// =============================================================================================
// Open, close, migrations
// =============================================================================================

SqliteStore::SqliteStore(const std::string& path) : SqliteStore(path, Options{}) {}

SqliteStore::SqliteStore(const std::string& path, Options options) : path_(path), options_(std::move(options)) {
    // ":memory:" and "file:" URIs name no folder to create.
    if (path != ":memory:" && path.rfind("file:", 0) != 0) {
        auto parent = std::filesystem::path(path).parent_path();
        std::error_code ec;
        if (!parent.empty()) std::filesystem::create_directories(parent, ec);
        if (ec) throw StoreError("cannot create the folder " + parent.string() + ": " + ec.message());
    }
    migrationsRunAtOpen_ = open();
}

SqliteStore::~SqliteStore() {
    checkpointer_.reset(); // first: the writer's close must be the last, which checkpoints
    close();
}

int SqliteStore::onWalCommit(void* self, sqlite3*, const char*, int frames) {
    auto& store = *static_cast<SqliteStore*>(self);
    if (frames < store.walFrames_) store.framesAtRequest_ = 0; // the log restarted
    store.walFrames_ = frames;
    if (frames - store.framesAtRequest_ >= kCheckpointPages) {
        store.framesAtRequest_ = frames;
        store.requestCheckpoint();
    }
    return SQLITE_OK;
}

void SqliteStore::requestCheckpoint() noexcept {
    try {
        if (!checkpointer_)
            checkpointer_ = std::make_unique<WalCheckpointer>(
                path_, options_.vfs == Options::Vfs::WalWriteBuffer ? pacedCheckpointVfs() : nullptr,
                options_.beforeCheckpoint);
        checkpointer_->request();
    } catch (const std::exception& e) {
        // No thread to be had: the writer checkpoints by itself, in maintain(), as SQLite would.
        if (!noCheckpointThreadLogged_)
            spdlog::warn("sqlite: no checkpoint thread ({}): the writer checkpoints", e.what());
        noCheckpointThreadLogged_ = true;
        writerCheckpoint_ = WriterCheckpoint::CopyOwed;
    }
}

void SqliteStore::maintain(bool idle) {
    const bool copyOwed = writerCheckpoint_ == WriterCheckpoint::CopyOwed;
    const bool wanted = copyOwed || (checkpointer_ && checkpointer_->catchUpWanted());
    if (!wanted || !db_ || reopenPending_) return;
    const bool longLog = walFrames_ >= kWriterCheckpointPages;
    if (!idle && !longLog) return;
    if (checkpointer_ && !copyOwed) {
        checkpointer_->takeCatchUp();
        // What the checkpoint left is what was committed while it ran. A failed checkpoint
        // leaves the copying to the writer.
        if (const auto progress = checkpointer_->lastProgress(); progress && !longLog) {
            const int copied = progress->copiedFrames; // -1: it found another checkpoint running
            // A pass asked for here that copied nothing new: a reader (another process) holds
            // the log back. Asking again after every batch would only spin; the next request,
            // 1000 pages on, tries again.
            const bool stuck =
                writerCheckpoint_ == WriterCheckpoint::PassAsked && copied >= 0 && copied == copiedWhenAsked_;
            writerCheckpoint_ = WriterCheckpoint::None;
            if (stuck) return;
            if (copied > walFrames_) return; // the log has restarted since: nothing to catch up
            if (walFrames_ - std::max(copied, 0) > kWriterCatchUpPages) {
                writerCheckpoint_ = WriterCheckpoint::PassAsked;
                copiedWhenAsked_ = copied;
                checkpointer_->request();
                return;
            }
        }
    }
    // A pass asked for is settled above, once its outcome is known; only a copy owed is settled here.
    if (copyOwed) writerCheckpoint_ = WriterCheckpoint::None;
    int logFrames = 0;
    int copiedFrames = 0;
    const int code = sqlite3_wal_checkpoint_v2(db_, "main", SQLITE_CHECKPOINT_PASSIVE, &logFrames, &copiedFrames);
    // BUSY: the checkpointer is at it again and will ask anew. Its own failures are logged there.
    if (code != SQLITE_OK && code != SQLITE_BUSY)
        spdlog::debug("sqlite: the writer's checkpoint of {} failed: {}", path_, sqlite3_errmsg(db_));
}

std::uint64_t SqliteStore::checkpointsCompleted() const { return checkpointer_ ? checkpointer_->completed() : 0; }

int SqliteStore::open() {
    configureSqliteOnce();
    if (options_.reader) {
        openReader();
        return 0;
    }
    // NOMUTEX: one thread at a time uses the store (the executor's), so SQLite's own locking
    // would be pure overhead. READWRITE falls back to read-only when the file cannot be written.
    // The VFS writes each commit to the WAL in one call; it relies on synchronous=FULL, below.
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
    const char* vfs = options_.vfs == Options::Vfs::WalWriteBuffer ? walWriteBufferVfs() : nullptr; // null: SQLite's
    int code = sqlite3_open_v2(path_.c_str(), &db_, flags, vfs);
    if (code != SQLITE_OK) {
        std::string message = "cannot open " + path_ + ": " + (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(code));
        close();
        throw StoreError(message);
    }

    try {
        // Extended codes tell a UNIQUE violation (a duplicate) from other constraint failures.
        sqlite3_extended_result_codes(db_, 1);
        sqlite3_busy_timeout(db_, kBusyTimeoutMs);
        // Keep the -wal and -shm files when the last connection closes: SQLite can open a WAL
        // database on a read-only filesystem only while they exist, and a read-only mount is
        // one of the faults the server must keep serving reads through.
        int persistWal = 1;
        sqlite3_file_control(db_, "main", SQLITE_FCNTL_PERSIST_WAL, &persistWal);
        {
            // WAL lets readers (another process, `sqlite3` on the shell) run during writes.
            Statement walMode(*this, "PRAGMA journal_mode = WAL");
            if (walMode.step() && walMode.text(0) != "wal")
                spdlog::warn("sqlite: {} stays in journal mode {} (WAL unavailable)", path_, walMode.text(0));
        }
        // FULL syncs the WAL at every commit: the executor acknowledges a write only after its
        // commit, and an acknowledged message must survive a crash or power loss. The WAL write
        // buffer depends on it too (a commit's frames reach the file at that sync).
        execute("PRAGMA synchronous = FULL");
        // Read back: a pragma SQLite does not take is ignored without an error.
        requireSynchronousFull(db_, path_);
        execute("PRAGMA foreign_keys = ON");
        // Replaces SQLite's automatic checkpoint (see Options): onWalCommit asks the checkpointer.
        walFrames_ = 0;
        framesAtRequest_ = 0;
        sqlite3_wal_hook(db_, &SqliteStore::onWalCommit, this);
        const int ran = migrate();
        // A read-only connection cannot become writable: reopen before the next write, so that
        // writes work again as soon as the file does.
        reopenPending_ = sqlite3_db_readonly(db_, "main") == 1;
        if (reopenPending_)
            spdlog::warn("sqlite: {} is read-only: reads work, writes fail until it is writable", path_);
        return ran;
    } catch (...) {
        close();
        throw;
    }
}

void SqliteStore::openReader() {
    // NOMUTEX: each reader connection has one thread. No CREATE: the writer made the file.
    const int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
    int code = sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr);
    if (code != SQLITE_OK) {
        std::string message = "cannot open " + path_ + ": " + (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(code));
        close();
        throw StoreError(message);
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    try {
        execute("PRAGMA query_only = 1");
    } catch (...) {
        close();
        throw;
    }
}

void SqliteStore::beginRead() {
    if (!db_) reopen();
    execute("BEGIN");
}

void SqliteStore::endRead() noexcept {
    try {
        execute("COMMIT");
    } catch (const std::exception& e) {
        spdlog::debug("sqlite: ending a read of {}: {}", path_, e.what());
    }
}

void SqliteStore::close() noexcept {
    for (auto& entry : statements_) sqlite3_finalize(entry.second);
    statements_.clear();
    // close_v2 also checkpoints the WAL when this is the last connection.
    sqlite3_close_v2(db_);
    db_ = nullptr;
}

void SqliteStore::noteFailure(int code) {
    switch (code & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
        if (!reopenPending_)
            spdlog::warn("sqlite: {} failed ({}): the next write reopens it", path_, sqlite3_errstr(code));
        reopenPending_ = true;
        break;
    default: break;
    }
}

void SqliteStore::reopen() {
    close();
    if (options_.beforeReopen) options_.beforeReopen();
    open();
    spdlog::info("sqlite: reopened {}", path_);
}

sqlite3_stmt* SqliteStore::prepared(std::string_view sql) {
    // No connection (the last reopen failed): no statement is live either, so open one now.
    if (!db_) reopen();
    auto found = statements_.find(sql);
    if (found != statements_.end()) return found->second;
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    // PERSISTENT: the statement lives as long as the store, so SQLite allocates it accordingly.
    int code =
        sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
    if (code != SQLITE_OK) {
        noteFailure(code);
        throw StoreError(describe(db_, code, sql));
    }
    if (stmt == nullptr || tail != sql.data() + sql.size()) {
        sqlite3_finalize(stmt);
        throw StoreError("sqlite: expected exactly one statement in: " + std::string(sql));
    }
    statements_.emplace(sql, stmt);
    return stmt;
}

void SqliteStore::execute(std::string_view sql) {
    Statement statement(*this, sql);
    statement.run();
}

std::int64_t SqliteStore::appliedMigrationVersion() {
    Statement statement(*this, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    statement.step();
    return statement.integer(0);
}

int SqliteStore::migrate() {
    // The bookkeeping table itself cannot be a numbered migration: it says which ones ran.
    execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
            "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
    int ran = 0;
    for (const auto& migration : kSqliteMigrations) {
        // Checked without a lock first, so that a read-only, up-to-date file opens fine.
        if (migration.version <= appliedMigrationVersion()) continue;
        execute("BEGIN IMMEDIATE");
        try {
            // Another process may have applied it while this one waited for the write lock.
            if (migration.version <= appliedMigrationVersion()) {
                execute("COMMIT");
                continue;
            }
            // The migration is SQL text from this binary, never values: exec runs its statements.
            std::string sql(migration.sql);
            char* error = nullptr;
            int code = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
            if (code != SQLITE_OK) {
                std::string message = error ? error : sqlite3_errstr(code);
                sqlite3_free(error);
                throw StoreError("sqlite: " + message + " (code " + std::to_string(code) + ")");
            }
            Statement record(*this, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)");
            record.bind(1, std::int64_t{migration.version}).bind(2, migration.name).bind(3, core::nowMs()).run();
            execute("COMMIT");
            spdlog::info("sqlite: applied migration {}", migration.name);
            ++ran;
        } catch (const std::exception& e) {
            try {
                execute("ROLLBACK");
            } catch (const std::exception&) {
                // The failure may already have ended the transaction; the first error matters.
            }
            throw StoreError("migration " + std::string(migration.name) + " failed: " + e.what());
        }
    }
    return ran;
}

// =============================================================================================
// Transactions (driven by the StoreExecutor)
// =============================================================================================

// IMMEDIATE takes the write lock now, so a group commit never fails halfway with SQLITE_BUSY
// when another connection wrote first (busy_timeout only helps at lock acquisition).
// After a fault, every write transaction starts on a fresh connection until one works: SQLite
// recovers from a full disk on its own, but a connection opened read-only stays read-only.
void SqliteStore::begin() {
    if (reopenPending_ || !db_) reopen();
    execute("BEGIN IMMEDIATE");
}
void SqliteStore::commit() { execute("COMMIT"); }
void SqliteStore::rollback() {
    // A connection that failed to reopen has no transaction to roll back.
    if (db_) execute("ROLLBACK");
}
void SqliteStore::savepoint() { execute("SAVEPOINT w"); }
void SqliteStore::releaseSavepoint() { execute("RELEASE w"); }
void SqliteStore::rollbackToSavepoint() { execute("ROLLBACK TO w"); }

// =============================================================================================
// Users and sessions
// =============================================================================================

void SqliteStore::insertUser(const User& user) {
    // Lower-case on the way in and on lookup: emails compare case-insensitively. Declared
    // before the statement so that it outlives the binding.
    std::string email = storedEmail(user.email);
    Statement statement(*this, "INSERT INTO users (id, email, display_name, password_hash, created_at) "
                               "VALUES (?1, ?2, ?3, ?4, ?5)");
    statement.bind(1, user.id).bind(2, email).bind(3, user.displayName).bind(4, user.passwordHash);
    statement.bind(5, user.createdAt);
    int code = statement.stepCode();
    // The only UNIQUE constraint on users is the email (the id is the PRIMARY KEY, its own code).
    if (code == SQLITE_CONSTRAINT_UNIQUE) throw StoreError("email already registered");
    if (code != SQLITE_DONE) statement.fail(code);
}

std::optional<User> SqliteStore::findUser(std::string_view id) {
    Statement statement(*this, "SELECT id, email, display_name, password_hash, created_at FROM users WHERE id = ?1");
    statement.bind(1, id);
    if (!statement.step()) return std::nullopt;
    return User{statement.text(0), statement.text(1), statement.text(2), statement.text(3), statement.integer(4)};
}

std::optional<User> SqliteStore::findUserByEmail(std::string_view email) {
    std::string lowered = storedEmail(email);
    Statement statement(*this, "SELECT id, email, display_name, password_hash, created_at FROM users WHERE email = ?1");
    statement.bind(1, lowered);
    if (!statement.step()) return std::nullopt;
    return User{statement.text(0), statement.text(1), statement.text(2), statement.text(3), statement.integer(4)};
}

void SqliteStore::insertSession(const SessionRow& session) {
    Statement statement(*this,
                        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)");
    statement.bind(1, session.tokenHash).bind(2, session.userId).bind(3, session.createdAt);
    statement.bind(4, session.expiresAt).run();
}

std::optional<SessionRow> SqliteStore::findSession(std::string_view tokenHash) {
    Statement statement(*this,
                        "SELECT token_hash, user_id, created_at, expires_at FROM sessions WHERE token_hash = ?1");
    statement.bind(1, tokenHash);
    if (!statement.step()) return std::nullopt;
    return SessionRow{statement.text(0), statement.text(1), statement.integer(2), statement.integer(3)};
}

bool SqliteStore::deleteSession(std::string_view tokenHash) {
    Statement statement(*this, "DELETE FROM sessions WHERE token_hash = ?1");
    statement.bind(1, tokenHash).run();
    return statement.changes() > 0;
}

void SqliteStore::touchLastSeen(std::string_view userId, std::int64_t at) {
    Statement statement(*this,
                        "INSERT INTO presence (user_id, last_seen_at) VALUES (?1, ?2) "
                        "ON CONFLICT (user_id) DO UPDATE SET last_seen_at = max(last_seen_at, excluded.last_seen_at)");
    statement.bind(1, userId).bind(2, at).run();
}

// =============================================================================================
// Chats and memberships
// =============================================================================================

// Multi-statement writes below (insertChat, addMember, removeMember) are atomic under the
// executor's per-write savepoint; called bare, outside a transaction, they are not.

void SqliteStore::insertChat(const Chat& chat) {
    {
        Statement statement(*this, "INSERT INTO chats (id, type, title, created_by, created_at, updated_at) "
                                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
        statement.bind(1, chat.id).bind(2, chat.type).bindOptional(3, chat.title).bind(4, chat.createdBy);
        statement.bind(5, chat.createdAt).bind(6, chat.updatedAt).run();
    }
    for (const auto& memberId : chat.memberIds) {
        // A member listed twice is one member, not a database failure.
        Statement statement(*this, "INSERT INTO memberships (chat_id, user_id, joined_at) VALUES (?1, ?2, ?3) "
                                   "ON CONFLICT (chat_id, user_id) DO NOTHING");
        statement.bind(1, chat.id).bind(2, memberId).bind(3, chat.createdAt).run();
    }
}

std::vector<std::string> SqliteStore::memberIds(std::string_view chatId) {
    Statement statement(*this, "SELECT user_id FROM memberships WHERE chat_id = ?1 ORDER BY joined_at, rowid");
    statement.bind(1, chatId);
    std::vector<std::string> ids;
    while (statement.step()) ids.push_back(statement.text(0));
    return ids;
}

std::optional<Chat> SqliteStore::findChat(std::string_view chatId) {
    std::optional<Chat> chat;
    {
        Statement statement(*this,
                            "SELECT id, type, title, created_by, created_at, updated_at FROM chats WHERE id = ?1");
        statement.bind(1, chatId);
        if (!statement.step()) return std::nullopt;
        chat = Chat{statement.text(0), statement.text(1),    statement.optionalText(2), {},
                    statement.text(3), statement.integer(4), statement.integer(5)};
    }
    chat->memberIds = memberIds(chatId);
    return chat;
}

std::vector<Chat> SqliteStore::chatsOfUser(std::string_view userId) {
    std::vector<Chat> chats;
    std::unordered_map<std::string, std::size_t> indexById;
    {
        Statement statement(*this, "SELECT c.id, c.type, c.title, c.created_by, c.created_at, c.updated_at "
                                   "FROM memberships AS m JOIN chats AS c ON c.id = m.chat_id "
                                   "WHERE m.user_id = ?1 ORDER BY c.updated_at DESC, c.id DESC");
        statement.bind(1, userId);
        while (statement.step()) {
            chats.push_back(Chat{statement.text(0),
                                 statement.text(1),
                                 statement.optionalText(2),
                                 {},
                                 statement.text(3),
                                 statement.integer(4),
                                 statement.integer(5)});
            indexById.emplace(chats.back().id, chats.size() - 1);
        }
    }
    std::vector<Chat*> targets;
    for (auto& chat : chats) targets.push_back(&chat);
    fillMembers(userId, targets, indexById);
    return chats;
}

// The unread count of a chat is the messages after the user's cursor (all without one), not
// counting the user's own: the row-value comparison walks the (chat_id, created_at, id) index.
// The last message is the newest entry of the same index; the list is ordered by the later of
// the chat's updatedAt and that message's createdAt.
std::vector<ChatSummary> SqliteStore::chatSummaries(std::string_view userId) {
    std::vector<ChatSummary> summaries;
    std::unordered_map<std::string, std::size_t> indexById;
    {
        Statement statement(*this, "SELECT c.id, c.type, c.title, c.created_by, c.created_at, c.updated_at, "
                                   "(SELECT COUNT(*) FROM messages AS msg WHERE msg.chat_id = c.id "
                                   "AND msg.sender_id <> ?1 AND (msg.created_at, msg.id) > "
                                   "(COALESCE(m.last_read_message_created_at, -1), "
                                   "COALESCE(m.last_read_message_id, ''))), "
                                   "last.id, last.sender_id, last.body, last.client_id, last.created_at "
                                   "FROM memberships AS m JOIN chats AS c ON c.id = m.chat_id "
                                   "LEFT JOIN messages AS last ON last.id = (SELECT newest.id FROM messages AS newest "
                                   "WHERE newest.chat_id = c.id ORDER BY newest.created_at DESC, newest.id DESC "
                                   "LIMIT 1) "
                                   "WHERE m.user_id = ?1 "
                                   "ORDER BY MAX(c.updated_at, COALESCE(last.created_at, 0)) DESC, c.id DESC");
        statement.bind(1, userId);
        while (statement.step()) {
            ChatSummary summary;
            summary.chat.id = statement.text(0);
            summary.chat.type = statement.text(1);
            summary.chat.title = statement.optionalText(2);
            summary.chat.createdBy = statement.text(3);
            summary.chat.createdAt = statement.integer(4);
            summary.chat.updatedAt = statement.integer(5);
            summary.unreadCount = statement.integer(6);
            if (auto lastId = statement.optionalText(7))
                summary.lastMessage = Message{std::move(*lastId), summary.chat.id,    statement.text(8),
                                              statement.text(9),  statement.text(10), statement.integer(11)};
            summaries.push_back(std::move(summary));
            indexById.emplace(summaries.back().chat.id, summaries.size() - 1);
        }
    }
    std::vector<Chat*> targets;
    for (auto& summary : summaries) targets.push_back(&summary.chat);
    fillMembers(userId, targets, indexById);
    return summaries;
}

void SqliteStore::fillMembers(std::string_view userId, std::vector<Chat*>& chats,
                              const std::unordered_map<std::string, std::size_t>& indexById) {
    // All members of all those chats in one query rather than one query per chat.
    Statement statement(*this, "SELECT other.chat_id, other.user_id "
                               "FROM memberships AS mine JOIN memberships AS other ON other.chat_id = mine.chat_id "
                               "WHERE mine.user_id = ?1 ORDER BY other.chat_id, other.joined_at, other.rowid");
    statement.bind(1, userId);
    while (statement.step()) {
        auto found = indexById.find(statement.text(0));
        if (found != indexById.end()) chats[found->second]->memberIds.push_back(statement.text(1));
    }
}

void SqliteStore::setTitle(std::string_view chatId, const std::optional<std::string>& title, std::int64_t updatedAt) {
    Statement statement(*this, "UPDATE chats SET title = ?2, updated_at = ?3 WHERE id = ?1");
    statement.bind(1, chatId).bindOptional(2, title).bind(3, updatedAt).run();
}

bool SqliteStore::addMember(std::string_view chatId, std::string_view userId, std::int64_t updatedAt) {
    {
        Statement statement(*this, "INSERT INTO memberships (chat_id, user_id, joined_at) VALUES (?1, ?2, ?3) "
                                   "ON CONFLICT (chat_id, user_id) DO NOTHING");
        statement.bind(1, chatId).bind(2, userId).bind(3, updatedAt).run();
        if (statement.changes() == 0) return false;
    }
    Statement touch(*this, "UPDATE chats SET updated_at = ?2 WHERE id = ?1");
    touch.bind(1, chatId).bind(2, updatedAt).run();
    return true;
}

bool SqliteStore::removeMember(std::string_view chatId, std::string_view userId, std::int64_t updatedAt) {
    {
        // The member's read cursor lives in the row and goes with it.
        Statement statement(*this, "DELETE FROM memberships WHERE chat_id = ?1 AND user_id = ?2");
        statement.bind(1, chatId).bind(2, userId).run();
        if (statement.changes() == 0) return false;
    }
    Statement touch(*this, "UPDATE chats SET updated_at = ?2 WHERE id = ?1");
    touch.bind(1, chatId).bind(2, updatedAt).run();
    return true;
}

bool SqliteStore::isMember(std::string_view chatId, std::string_view userId) {
    Statement statement(*this, "SELECT 1 FROM memberships WHERE chat_id = ?1 AND user_id = ?2");
    statement.bind(1, chatId).bind(2, userId);
    return statement.step();
}

std::vector<std::string> SqliteStore::chatIdsOf(std::string_view userId) {
    Statement statement(*this, "SELECT chat_id FROM memberships WHERE user_id = ?1 ORDER BY chat_id");
    statement.bind(1, userId);
    std::vector<std::string> chats;
    while (statement.step()) chats.push_back(statement.text(0));
    return chats;
}

std::vector<ContactSeen> SqliteStore::membersSeen(std::string_view chatId) {
    Statement statement(*this, "SELECT m.user_id, presence.last_seen_at FROM memberships AS m "
                               "LEFT JOIN presence ON presence.user_id = m.user_id "
                               "WHERE m.chat_id = ?1 ORDER BY m.user_id");
    statement.bind(1, chatId);
    std::vector<ContactSeen> contacts;
    while (statement.step()) {
        auto& c = contacts.emplace_back(ContactSeen{statement.text(0), std::nullopt});
        if (!statement.isNull(1)) c.lastSeenAt = statement.integer(1);
    }
    return contacts;
}

// =============================================================================================
// Messages
// =============================================================================================

namespace {

// Reads the six columns every message query selects, in this order:
// id, chat_id, sender_id, body, client_id, created_at.
template <class Row>
Message messageFrom(const Row& row) {
    return Message{row.text(0), row.text(1), row.text(2), row.text(3), row.text(4), row.integer(5)};
}

} // namespace

void SqliteStore::insertMessage(const Message& message) {
    Statement statement(*this, "INSERT INTO messages (id, chat_id, sender_id, body, client_id, created_at) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    statement.bind(1, message.id).bind(2, message.chatId).bind(3, message.senderId).bind(4, message.body);
    statement.bind(5, message.clientId).bind(6, message.createdAt);
    int code = statement.stepCode();
    // The only UNIQUE constraint on messages is (chat_id, sender_id, client_id): the id is the
    // PRIMARY KEY and fails with its own code.
    if (code == SQLITE_CONSTRAINT_UNIQUE) throw DuplicateMessage(statement.errorText(code));
    if (code != SQLITE_DONE) statement.fail(code);
}

std::optional<Message> SqliteStore::findMessage(std::string_view messageId) {
    Statement statement(*this,
                        "SELECT id, chat_id, sender_id, body, client_id, created_at FROM messages WHERE id = ?1");
    statement.bind(1, messageId);
    if (!statement.step()) return std::nullopt;
    return messageFrom(statement);
}

std::optional<Message> SqliteStore::findByClientId(std::string_view chatId, std::string_view senderId,
                                                   std::string_view clientId) {
    Statement statement(*this, "SELECT id, chat_id, sender_id, body, client_id, created_at FROM messages "
                               "WHERE chat_id = ?1 AND sender_id = ?2 AND client_id = ?3");
    statement.bind(1, chatId).bind(2, senderId).bind(3, clientId);
    if (!statement.step()) return std::nullopt;
    return messageFrom(statement);
}

MessagePage SqliteStore::messages(std::string_view chatId, std::optional<std::string> before,
                                  std::optional<std::string> after, int limit) {
    // Each query asks for one row more than the page: its presence is hasMore.
    const std::int64_t fetch = std::int64_t{std::max(limit, 0)} + 1;

    // A cursor is the (created_at, id) of a message of this chat; any other id pages nothing.
    struct Cursor {
        std::int64_t createdAt;
        std::string id;
    };
    auto cursorOf = [&](const std::string& messageId) -> std::optional<Cursor> {
        Statement statement(*this, "SELECT created_at FROM messages WHERE id = ?1 AND chat_id = ?2");
        statement.bind(1, messageId).bind(2, chatId);
        if (!statement.step()) return std::nullopt;
        return Cursor{statement.integer(0), messageId};
    };
    std::optional<Cursor> lower;
    std::optional<Cursor> upper;
    if (after && !(lower = cursorOf(*after))) return {};
    if (before && !(upper = cursorOf(*before))) return {};

    MessagePage page;
    // Backward pages (before, or the newest) read newest first and are reversed at the end.
    bool newestFirst = !lower;
    auto collect = [&](Statement& statement) {
        while (statement.step()) page.messages.push_back(messageFrom(statement));
    };
    if (lower && upper) {
        // Both cursors: the window strictly between them, paged forward from `after`.
        Statement statement(*this, "SELECT id, chat_id, sender_id, body, client_id, created_at FROM messages "
                                   "WHERE chat_id = ?1 AND (created_at, id) > (?2, ?3) AND (created_at, id) < (?4, ?5) "
                                   "ORDER BY created_at, id LIMIT ?6");
        statement.bind(1, chatId).bind(2, lower->createdAt).bind(3, lower->id);
        statement.bind(4, upper->createdAt).bind(5, upper->id).bind(6, fetch);
        collect(statement);
    } else if (lower) {
        Statement statement(*this, "SELECT id, chat_id, sender_id, body, client_id, created_at FROM messages "
                                   "WHERE chat_id = ?1 AND (created_at, id) > (?2, ?3) "
                                   "ORDER BY created_at, id LIMIT ?4");
        statement.bind(1, chatId).bind(2, lower->createdAt).bind(3, lower->id).bind(4, fetch);
        collect(statement);
    } else if (upper) {
        Statement statement(*this, "SELECT id, chat_id, sender_id, body, client_id, created_at FROM messages "
                                   "WHERE chat_id = ?1 AND (created_at, id) < (?2, ?3) "
                                   "ORDER BY created_at DESC, id DESC LIMIT ?4");
        statement.bind(1, chatId).bind(2, upper->createdAt).bind(3, upper->id).bind(4, fetch);
        collect(statement);
    } else {
        Statement statement(*this, "SELECT id, chat_id, sender_id, body, client_id, created_at FROM messages "
                                   "WHERE chat_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2");
        statement.bind(1, chatId).bind(2, fetch);
        collect(statement);
    }

    // The extra row is the farthest one in the paging direction, so it is always the last read.
    if (static_cast<std::int64_t>(page.messages.size()) == fetch) {
        page.hasMore = true;
        page.messages.pop_back();
    }
    if (newestFirst) std::reverse(page.messages.begin(), page.messages.end());
    return page;
}

// =============================================================================================
// Read cursors
// =============================================================================================

std::optional<ReadCursor> SqliteStore::readCursor(std::string_view chatId, std::string_view userId) {
    Statement statement(*this, "SELECT user_id, last_read_message_id, last_read_message_created_at, last_read_at "
                               "FROM memberships "
                               "WHERE chat_id = ?1 AND user_id = ?2 AND last_read_message_id IS NOT NULL");
    statement.bind(1, chatId).bind(2, userId);
    if (!statement.step()) return std::nullopt;
    return ReadCursor{statement.text(0), statement.text(1), statement.integer(2), statement.integer(3)};
}

void SqliteStore::setReadCursor(std::string_view chatId, const ReadCursor& cursor) {
    // Sets, not advances: moving only forward is the chat layer's rule. A non-member has no
    // row, so nothing changes for them.
    Statement statement(*this, "UPDATE memberships SET last_read_message_id = ?3, last_read_message_created_at = ?4, "
                               "last_read_at = ?5 WHERE chat_id = ?1 AND user_id = ?2");
    statement.bind(1, chatId).bind(2, cursor.userId).bind(3, cursor.messageId).bind(4, cursor.messageCreatedAt);
    statement.bind(5, cursor.readAt).run();
}

std::vector<ReadCursor> SqliteStore::readCursors(std::string_view chatId) {
    Statement statement(*this, "SELECT user_id, last_read_message_id, last_read_message_created_at, last_read_at "
                               "FROM memberships WHERE chat_id = ?1 AND last_read_message_id IS NOT NULL "
                               "ORDER BY joined_at, rowid");
    statement.bind(1, chatId);
    std::vector<ReadCursor> cursors;
    while (statement.step())
        cursors.push_back(ReadCursor{statement.text(0), statement.text(1), statement.integer(2), statement.integer(3)});
    return cursors;
}

std::int64_t SqliteStore::unreadCount(std::string_view chatId, std::string_view userId) {
    auto cursor = readCursor(chatId, userId);
    if (!cursor) {
        Statement statement(*this, "SELECT COUNT(*) FROM messages WHERE chat_id = ?1 AND sender_id <> ?2");
        statement.bind(1, chatId).bind(2, userId);
        statement.step();
        return statement.integer(0);
    }
    Statement statement(*this, "SELECT COUNT(*) FROM messages "
                               "WHERE chat_id = ?1 AND sender_id <> ?2 AND (created_at, id) > (?3, ?4)");
    statement.bind(1, chatId).bind(2, userId).bind(3, cursor->messageCreatedAt).bind(4, cursor->messageId);
    statement.step();
    return statement.integer(0);
}

// =============================================================================================
// Connection state recovery
// =============================================================================================

void SqliteStore::saveRecovery(const RecoveryRecord& record) {
    const std::string rooms = encodeRecoveryRooms(record.rooms);
    // A row held by another owner is left alone: its first socket has been replaced.
    Statement statement(*this, "INSERT INTO recovery_sessions "
                               "(pid, user_id, sid, owner, rooms, created_at, updated_at, disconnected_at) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL) ON CONFLICT (pid) DO UPDATE SET "
                               "rooms = excluded.rooms, updated_at = excluded.updated_at, disconnected_at = NULL "
                               "WHERE recovery_sessions.owner = excluded.owner");
    statement.bind(1, record.pid).bind(2, record.userId).bind(3, record.sid).bind(4, record.owner);
    statement.bind(5, rooms).bind(6, record.createdAt).bind(7, record.updatedAt).run();
}

void SqliteStore::endRecovery(std::string_view pid, std::string_view owner, std::int64_t at) {
    Statement statement(*this, "UPDATE recovery_sessions SET disconnected_at = ?3 WHERE pid = ?1 AND owner = ?2");
    statement.bind(1, pid).bind(2, owner).bind(3, at).run();
}

void SqliteStore::deleteRecovery(std::string_view pid) {
    Statement statement(*this, "DELETE FROM recovery_sessions WHERE pid = ?1");
    statement.bind(1, pid).run();
}

std::optional<RecoveryRecord> SqliteStore::findRecovery(std::string_view pid) {
    Statement statement(*this, "SELECT pid, user_id, sid, owner, rooms, created_at, updated_at, disconnected_at "
                               "FROM recovery_sessions WHERE pid = ?1");
    statement.bind(1, pid);
    if (!statement.step()) return std::nullopt;
    auto rooms = decodeRecoveryRooms(statement.text(4));
    if (!rooms) throw StoreError("recovery_sessions: unreadable rooms of a record");
    RecoveryRecord record{statement.text(0), statement.text(1),    statement.text(2),    statement.text(3),
                          std::move(*rooms), statement.integer(5), statement.integer(6), std::nullopt};
    if (!statement.isNull(7)) record.disconnectedAt = statement.integer(7);
    return record;
}

void SqliteStore::takeRecovery(std::string_view pid, std::string_view owner, std::int64_t at) {
    Statement statement(*this, "UPDATE recovery_sessions SET owner = ?2, updated_at = ?3, disconnected_at = NULL "
                               "WHERE pid = ?1");
    statement.bind(1, pid).bind(2, owner).bind(3, at).run();
}

std::int64_t SqliteStore::pruneRecovery(std::int64_t notBefore) {
    Statement statement(*this, "DELETE FROM recovery_sessions WHERE COALESCE(disconnected_at, updated_at) < ?1");
    statement.bind(1, notBefore).run();
    return statement.changes();
}

// The messages of every room still a chat of the user, after `after` and not before the room's
// joinedAt (nor before the membership's: a member removed and added again while away gets nothing
// of the time between), in one query: json_each walks the rooms, each one a range of the
// messages index.
Replay SqliteStore::replay(const ReplayRequest& request) {
    Replay out;
    const std::string rooms = encodeRecoveryRooms(request.rooms);
    {
        Statement statement(*this, "SELECT r.key FROM json_each(?1) AS r JOIN memberships AS ms "
                                   "ON ms.chat_id = r.key AND ms.user_id = ?2 ORDER BY r.id");
        statement.bind(1, rooms).bind(2, request.userId);
        while (statement.step()) out.memberChats.push_back(statement.text(0));
    }
    {
        const std::int64_t fetch = std::int64_t{std::max(request.limit, 0)} + 1;
        const std::int64_t afterAt =
            request.after ? request.after->createdAt : std::numeric_limits<std::int64_t>::min();
        const std::string afterId = request.after ? request.after->id : std::string();
        Statement statement(
            *this,
            "SELECT m.id, m.chat_id, m.sender_id, m.body, m.client_id, m.created_at "
            "FROM json_each(?1) AS r JOIN memberships AS ms "
            "ON ms.chat_id = r.key AND ms.user_id = ?2 "
            "JOIN messages AS m ON m.chat_id = r.key AND m.created_at >= r.value AND m.created_at >= ms.joined_at "
            "AND (m.created_at, m.id) > (?3, ?4) ORDER BY m.created_at, m.id LIMIT ?5");
        statement.bind(1, rooms).bind(2, request.userId).bind(3, afterAt).bind(4, afterId).bind(5, fetch);
        while (statement.step()) out.messages.push_back(messageFrom(statement));
        if (static_cast<std::int64_t>(out.messages.size()) == fetch) {
            out.truncated = true;
            out.messages.clear();
        }
    }
    for (auto& chat : chatsOfUser(request.userId))
        if (chat.updatedAt > request.since) out.chats.push_back(std::move(chat));
    std::sort(out.chats.begin(), out.chats.end(), [](const Chat& a, const Chat& b) {
        return a.updatedAt != b.updatedAt ? a.updatedAt < b.updatedAt : a.id < b.id;
    });
    for (const auto& chatId : out.memberChats)
        for (auto& cursor : readCursors(chatId))
            if (cursor.readAt > request.since) out.cursors.push_back(ChatReadCursor{chatId, std::move(cursor)});
    return out;
}

} // namespace parley::store
