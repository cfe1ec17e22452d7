#pragma once

#include "store/ChatStore.hpp"
#include "store/StoreExecutor.hpp"
#include "store/sqlite/SqliteStore.hpp"

#include <memory>
#include <string>

namespace parley::store {

class SqliteReaders;

/// The embedded default ChatStore: one SQLite file in WAL mode.
///
/// Writes run on the StoreExecutor's one writer connection, group-committed (a write completes
/// after its commit); each operation is one job there, so its checks and its write are one
/// savepoint of one transaction. Reads run on reader connections of their own threads
/// (SqliteReaders), so they never wait behind a commit: WAL lets them read the last committed
/// state while the writer writes. A read of several statements runs in one read transaction.
class SqliteChatStore final : public ChatStore {
public:
    struct Options {
        StoreExecutor::Options executor{};
        SqliteStore::Options sqlite{};
        std::size_t readers = 2; ///< reader connections, one thread each
    };

    /// Opens (creating and migrating) the database at `path`. Throws StoreError on failure.
    explicit SqliteChatStore(const std::string& path) : SqliteChatStore(path, Options{}) {}
    SqliteChatStore(const std::string& path, Options options);
    ~SqliteChatStore() override; ///< finishes queued work first
    SqliteChatStore(const SqliteChatStore&) = delete;
    SqliteChatStore& operator=(const SqliteChatStore&) = delete;

    /// How many migrations opening the file ran (what `parley migrate` reports).
    int migrationsRunAtOpen() const noexcept { return migrationsRunAtOpen_; }

    void createUser(boost::asio::io_context& ctx, User user, Done<void> done) override;
    void findUser(boost::asio::io_context& ctx, std::string id, Done<User> done) override;
    void findUserByEmail(boost::asio::io_context& ctx, std::string email, Done<User> done) override;
    void createSession(boost::asio::io_context& ctx, SessionRow session, Done<void> done) override;
    void findSession(boost::asio::io_context& ctx, std::string tokenHash, Done<SessionRow> done) override;
    void deleteSession(boost::asio::io_context& ctx, std::string tokenHash, Done<void> done) override;
    void touchLastSeen(boost::asio::io_context& ctx, std::vector<LastSeen> seen, Done<void> done) override;

    void createChat(boost::asio::io_context& ctx, Chat chat, Done<Chat> done) override;
    void chatForMember(boost::asio::io_context& ctx, std::string chatId, std::string userId, Done<Chat> done) override;
    void listChats(boost::asio::io_context& ctx, std::string userId, Done<std::vector<ChatSummary>> done) override;
    void renameChat(boost::asio::io_context& ctx, std::string chatId, std::string actorId,
                    std::optional<std::string> title, std::int64_t at, Done<Chat> done) override;
    void addMember(boost::asio::io_context& ctx, std::string chatId, std::string actorId, std::string userId,
                   std::int64_t at, std::size_t maxMembers, Done<MemberChange> done) override;
    void removeMember(boost::asio::io_context& ctx, std::string chatId, std::string actorId, std::string userId,
                      std::int64_t at, Done<MemberChange> done) override;
    void isMember(boost::asio::io_context& ctx, std::string chatId, std::string userId, Done<bool> done) override;
    void chatIdsOf(boost::asio::io_context& ctx, std::string userId, Done<std::vector<std::string>> done) override;
    void membersSeen(boost::asio::io_context& ctx, std::string chatId, Done<std::vector<ContactSeen>> done) override;

    void appendMessage(boost::asio::io_context& ctx, NewMessage message, Done<Appended> done) override;
    void findByClientId(boost::asio::io_context& ctx, std::string chatId, std::string senderId, std::string clientId,
                        Done<Message> done) override;
    void history(boost::asio::io_context& ctx, std::string chatId, std::string userId, HistoryQuery query,
                 Done<MessagePage> done) override;
    void markRead(boost::asio::io_context& ctx, std::string chatId, std::string userId, std::string messageId,
                  std::int64_t at, Done<ReadMark> done) override;
    void readCursors(boost::asio::io_context& ctx, std::string chatId, std::string userId,
                     Done<std::vector<ReadCursor>> done) override;

    void saveRecovery(boost::asio::io_context& ctx, RecoveryRecord record, Done<void> done) override;
    void endRecovery(boost::asio::io_context& ctx, std::string pid, std::string owner, std::int64_t at,
                     Done<void> done) override;
    void deleteRecovery(boost::asio::io_context& ctx, std::string pid, Done<void> done) override;
    void claimRecovery(boost::asio::io_context& ctx, std::string pid, std::string userId, std::string owner,
                       std::int64_t at, std::int64_t notBefore, Done<RecoveryRecord> done) override;
    void pruneRecovery(boost::asio::io_context& ctx, std::int64_t notBefore, Done<std::int64_t> done) override;
    void replay(boost::asio::io_context& ctx, ReplayRequest request, Done<Replay> done) override;

    void ping(boost::asio::io_context& ctx, Done<void> done) override;
    void settle(boost::asio::io_context& ctx, Done<void> done) override;

private:
    // One operation on the writer (inside its own savepoint) or on a reader (inside one read
    // transaction). `fn` returns the operation's Result; a StoreError thrown by it is Internal.
    template <class T>
    void write(boost::asio::io_context& ctx, std::function<Result<T>(Store&)> fn, Done<T> done);
    template <class T>
    void read(boost::asio::io_context& ctx, std::function<Result<T>(SqliteStore&)> fn, Done<T> done);

    int migrationsRunAtOpen_ = 0;
    std::unique_ptr<StoreExecutor> writer_;
    std::unique_ptr<SqliteReaders> readers_;
};

} // namespace parley::store
