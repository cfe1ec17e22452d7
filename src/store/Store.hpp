#pragma once

#include "store/Types.hpp"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace parley::store {

/// A failure of the database itself (I/O error, disk full, read-only file, corrupt file).
/// Callers answer it with INTERNAL; the message goes to the log, never to a client.
class StoreError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Thrown by insertMessage when (chatId, senderId, clientId) already exists.
class DuplicateMessage : public StoreError {
public:
    using StoreError::StoreError;
};

/// The SQLite backend's synchronous interface (behind SqliteChatStore; nothing above the store
/// seam sees it): users, sessions, chats, memberships, messages, read cursors.
/// Synchronous and NOT thread-safe: an instance is used only by the store thread of its
/// StoreExecutor, which batches writes into group-committed transactions. Every method may
/// throw StoreError.
class Store {
public:
    virtual ~Store() = default;

    /// Transactions, driven by the StoreExecutor. savepoint/release/rollbackTo isolate one write
    /// inside a group commit so that its failure does not undo the others.
    virtual void begin() = 0;
    virtual void commit() = 0;
    virtual void rollback() = 0;
    virtual void savepoint() = 0;
    virtual void releaseSavepoint() = 0;
    virtual void rollbackToSavepoint() = 0;

    /// Housekeeping that must not delay any result: the executor calls it on the store thread,
    /// outside transactions, after each batch's results have been handed back. `idle` says
    /// whether work is queued. Never throws.
    virtual void maintain(bool idle) { (void)idle; }

    // --- Users and sessions --------------------------------------------------------------------
    virtual void insertUser(const User& user) = 0; ///< throws StoreError if the email is taken
    virtual std::optional<User> findUser(std::string_view id) = 0;
    virtual std::optional<User> findUserByEmail(std::string_view email) = 0;
    virtual void insertSession(const SessionRow& session) = 0;
    virtual std::optional<SessionRow> findSession(std::string_view tokenHash) = 0;
    /// Returns true if the session existed (and is now gone), false if there was none.
    virtual bool deleteSession(std::string_view tokenHash) = 0;
    virtual void touchLastSeen(std::string_view userId, std::int64_t at) = 0; ///< any identity; never moves back

    // --- Chats and memberships -----------------------------------------------------------------
    virtual void insertChat(const Chat& chat) = 0; ///< with its members
    virtual std::optional<Chat> findChat(std::string_view chatId) = 0;
    virtual std::vector<Chat> chatsOfUser(std::string_view userId) = 0; ///< newest updatedAt first
    /// chatsOfUser with each chat's unreadCount for the user, counted in the same query.
    virtual std::vector<ChatSummary> chatSummaries(std::string_view userId) = 0;
    virtual void setTitle(std::string_view chatId, const std::optional<std::string>& title, std::int64_t updatedAt) = 0;
    /// Returns false if the user already was / was not a member.
    virtual bool addMember(std::string_view chatId, std::string_view userId, std::int64_t updatedAt) = 0;
    virtual bool removeMember(std::string_view chatId, std::string_view userId, std::int64_t updatedAt) = 0;
    virtual bool isMember(std::string_view chatId, std::string_view userId) = 0;
    /// The ids of the chats `userId` is a member of, in id order.
    virtual std::vector<std::string> chatIdsOf(std::string_view userId) = 0;
    /// The members of a chat with each one's last-seen time, ordered by user id.
    virtual std::vector<ContactSeen> membersSeen(std::string_view chatId) = 0;

    // --- Messages ------------------------------------------------------------------------------
    /// Throws DuplicateMessage on (chatId, senderId, clientId) collision.
    virtual void insertMessage(const Message& message) = 0;
    virtual std::optional<Message> findMessage(std::string_view messageId) = 0;
    virtual std::optional<Message> findByClientId(std::string_view chatId, std::string_view senderId,
                                                  std::string_view clientId) = 0;
    /// Messages of a chat ordered by (createdAt, id). With `after`: the `limit` messages right
    /// after that message (forward paging, reconnection backfill). With `before`: the `limit`
    /// messages right before it. With neither: the newest `limit`. Always returned oldest
    /// first; hasMore says whether more exist beyond the page in the paging direction (older
    /// for before/newest, newer for after). An unknown cursor id yields an empty page.
    virtual MessagePage messages(std::string_view chatId, std::optional<std::string> before,
                                 std::optional<std::string> after, int limit) = 0;

    // --- Read cursors --------------------------------------------------------------------------
    virtual std::optional<ReadCursor> readCursor(std::string_view chatId, std::string_view userId) = 0;
    virtual void setReadCursor(std::string_view chatId, const ReadCursor& cursor) = 0;
    virtual std::vector<ReadCursor> readCursors(std::string_view chatId) = 0; ///< members with a cursor
    /// Messages in the chat after the user's cursor (all messages when there is none), not
    /// counting the user's own.
    virtual std::int64_t unreadCount(std::string_view chatId, std::string_view userId) = 0;

    // --- Connection state recovery (ChatStore.hpp says what each one means) --------------------
    virtual void saveRecovery(const RecoveryRecord& record) = 0;
    virtual void endRecovery(std::string_view pid, std::string_view owner, std::int64_t at) = 0;
    virtual void deleteRecovery(std::string_view pid) = 0;
    /// The record as stored (any user, any age), or nullopt.
    virtual std::optional<RecoveryRecord> findRecovery(std::string_view pid) = 0;
    /// Gives the record to `owner` at `at`, connected again.
    virtual void takeRecovery(std::string_view pid, std::string_view owner, std::int64_t at) = 0;
    virtual std::int64_t pruneRecovery(std::int64_t notBefore) = 0;
    /// Reads everything ChatStore::replay answers.
    virtual Replay replay(const ReplayRequest& request) = 0;
};

} // namespace parley::store
