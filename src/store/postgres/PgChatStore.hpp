#pragma once

#include "store/ChatStore.hpp"
#include "store/Metrics.hpp"
#include "store/Open.hpp"
#include "store/postgres/PgPacer.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>

namespace parley::store {

class PgPool;
struct PgJob;

/// The ChatStore on PostgreSQL (libpq), with the SQLite backend's semantics.
///
/// The store runs a small pool of non-blocking libpq connections on an io_context and a thread
/// of its own; the caller's threads never wait on the database. Every operation is one round
/// trip: one statement, or a few sent together in one pipeline (one implicit transaction). Each
/// completion is posted to the caller's io_context. While the database cannot be reached,
/// operations fail with Unavailable within `operationTimeout` (at once when the last attempt
/// to connect failed), and the store reconnects by itself. docs/postgres.md has the design.
///
/// appendMessage: appends are group-committed, paced (PgPacer), and those of one chat commit in
/// the order they were queued: a chat with a batch in flight has its later appends wait for
/// its answer (PgPool::submitOrdered). The message's id and a proposed time are taken on the
/// store's thread as it is queued; the statement places it after the chat's last message
/// committed by any process, under the chat's order lock that its batch holds (PgPool). So
/// within a chat, commit order is (createdAt, id) order across a cluster: a history page or a
/// recovery's replay after the last message a client saw never skips one committed later.
class PgChatStore final : public ChatStore {
public:
    struct Options {
        /// A libpq URI ("postgres://user:pass@host:port/db") or key=value connection string.
        std::string uri;
        std::size_t poolSize = 4;
        /// Operations one connection may have in flight once every connection is busy.
        std::size_t pipelineDepth = 4;
        /// The most appends one transaction carries.
        std::size_t maxBatch = 64;
        /// How long appends may wait for others to share their commit while they arrive fast.
        PgPacer::Options pacing{};
        /// The longest an operation waits (queued or in flight) before it fails with Unavailable.
        std::chrono::milliseconds operationTimeout{5000};
        /// The longest one attempt to connect may take.
        std::chrono::milliseconds connectTimeout{3000};
        /// The longest wait between two attempts to reconnect.
        std::chrono::milliseconds retryMax{2000};
        Metrics* metrics = nullptr;
    };

    /// Starts the pool (connecting in the background); does not run migrations (openPostgres
    /// does). Throws std::invalid_argument for an empty URI.
    explicit PgChatStore(Options options);
    /// Fails what is pending with Unavailable and joins the store's thread.
    ~PgChatStore() override;
    PgChatStore(const PgChatStore&) = delete;
    PgChatStore& operator=(const PgChatStore&) = delete;

    /// Blocks until a ping succeeds or `timeout` passes; true when it succeeded.
    bool waitReady(std::chrono::milliseconds timeout);

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
    std::unique_ptr<PgJob> newJob(bool write) const;
    /// Hands the job to the pool, on the store's thread.
    void submit(std::unique_ptr<PgJob> job);
    /// A change of chat `chatId` (rename, add or remove a member): runs after the chat's
    /// previous change has finished, so changes of one chat finish in the order they commit
    /// (two on different connections could otherwise be read back in either order).
    void submitChatChange(std::string chatId, std::unique_ptr<PgJob> job);
    void startChatChange(const std::string& chatId, std::unique_ptr<PgJob> job);
    /// Gives an AppendMessage job its id and time and queues it for the pool (submitOrdered), on
    /// the store's thread.
    void submitAppend(std::size_t chatHash, std::unique_ptr<PgJob> job);

    Options options_;
    boost::asio::io_context waitAnswers_; // waitReady()'s answers (start-up only)
    boost::asio::io_context ioc_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::unique_ptr<PgPool> pool_; // used only on thread_
    // The last message's (createdAt, id) the store gave out; used only on thread_.
    // Chats with a change running (on the store's thread), each with the changes waiting behind it.
    std::unordered_map<std::string, std::deque<std::unique_ptr<PgJob>>> chatChanges_;
    std::int64_t lastCreatedAt_ = 0;
    std::string lastId_;
    std::thread thread_;
};

/// Opens the PostgreSQL store `options.uri` names: connects, runs the pending migrations (one
/// process at a time: pg_advisory_lock), and returns it with a connection ready. Throws
/// std::runtime_error with the reason when the database cannot be reached within ~10 s or a
/// migration fails.
std::unique_ptr<ChatStore> openPostgres(const OpenOptions& options);

} // namespace parley::store
