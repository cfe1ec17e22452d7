#pragma once

#include "store/Errc.hpp"
#include "store/Types.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/system/result.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace parley::store {

/// What every store operation completes with: the value, or a store::Errc (never an exception).
template <class T>
using Result = boost::system::result<T>;

/// A completion handler. It runs on the io_context passed to the operation, exactly once, also
/// when the operation fails; never inline inside the call that started the operation.
template <class T>
using Done = std::function<void(Result<T>)>;

/// The persistence seam of the chat product: one asynchronous call per chat operation, each
/// atomic and complete in itself (a check and the write it guards are one transaction or one
/// statement). Implemented by SqliteChatStore (the embedded default) and PgChatStore.
///
/// Thread safety: every operation may be called from any thread at any time. Each completes
/// on the io_context it was given, with a Result carrying a store::Errc on failure:
/// - Forbidden: the acting user is not a member of the chat, or the chat does not exist (the
///   two are never told apart: no probing).
/// - NotFound: the thing named besides the chat does not exist (a message, a member to remove,
///   a session, a user).
/// - Duplicate: a unique key is taken (createUser's email).
/// - NotAGroup / ChatFull: a membership change that the chat's type or size refuses.
/// - Unavailable: the database cannot be reached; the operation did not happen. Reported within
///   a few seconds, never left hanging.
/// - Internal: the database failed the operation (details in the server log).
///
/// A write that completes without error is durable (committed with synchronous commit).
class ChatStore {
public:
    virtual ~ChatStore() = default;

    // --- Users and sessions --------------------------------------------------------------------
    /// Duplicate if the email (stored lower-case) is taken.
    virtual void createUser(boost::asio::io_context& ctx, User user, Done<void> done) = 0;
    virtual void findUser(boost::asio::io_context& ctx, std::string id, Done<User> done) = 0;
    virtual void findUserByEmail(boost::asio::io_context& ctx, std::string email, Done<User> done) = 0;
    virtual void createSession(boost::asio::io_context& ctx, SessionRow session, Done<void> done) = 0;
    /// NotFound if no session has this hash (an expired one is returned: the caller decides).
    virtual void findSession(boost::asio::io_context& ctx, std::string tokenHash, Done<SessionRow> done) = 0;
    /// NotFound if there was none (a concurrent logout deleted it first).
    virtual void deleteSession(boost::asio::io_context& ctx, std::string tokenHash, Done<void> done) = 0;
    /// Records when each user was last seen (connected, disconnected, pinged), for any identity,
    /// with or without a users row (a JWT-only user), in one write for the whole list. A user may
    /// be listed more than once: the latest time counts. Never moves a time back.
    virtual void touchLastSeen(boost::asio::io_context& ctx, std::vector<LastSeen> seen, Done<void> done) = 0;

    // --- Chats and memberships -----------------------------------------------------------------
    /// Stores the chat with its members (in the order given), all joined at createdAt.
    virtual void createChat(boost::asio::io_context& ctx, Chat chat, Done<Chat> done) = 0;
    /// The chat, if `userId` is a member (Forbidden otherwise).
    virtual void chatForMember(boost::asio::io_context& ctx, std::string chatId, std::string userId,
                               Done<Chat> done) = 0;
    /// Every chat of the user by last activity (the later of updatedAt and its last message's
    /// time), newest first, each with its last message and its unread count (messages after the
    /// user's read cursor, all when it has none, not counting the user's own). One query.
    virtual void listChats(boost::asio::io_context& ctx, std::string userId, Done<std::vector<ChatSummary>> done) = 0;
    /// The changes below take place at `at`, or at the chat's updatedAt when that is later (a
    /// change timed before one committed ahead of it): a chat's updatedAt never goes back, and
    /// members join in the order their adds commit.
    ///
    /// Sets the title (nullopt clears it) if `actorId` is a member; the chat as committed.
    virtual void renameChat(boost::asio::io_context& ctx, std::string chatId, std::string actorId,
                            std::optional<std::string> title, std::int64_t at, Done<Chat> done) = 0;
    /// Adds `userId` if `actorId` is a member, the chat is a group (else NotAGroup) and it has
    /// fewer than `maxMembers` members (else ChatFull). A member already there: changed=false.
    virtual void addMember(boost::asio::io_context& ctx, std::string chatId, std::string actorId, std::string userId,
                           std::int64_t at, std::size_t maxMembers, Done<MemberChange> done) = 0;
    /// Removes `userId` if `actorId` is a member and the chat is a group (else NotAGroup);
    /// NotFound if `userId` is not a member. The removed member keeps its messages in history.
    virtual void removeMember(boost::asio::io_context& ctx, std::string chatId, std::string actorId, std::string userId,
                              std::int64_t at, Done<MemberChange> done) = 0;
    virtual void isMember(boost::asio::io_context& ctx, std::string chatId, std::string userId, Done<bool> done) = 0;
    /// The ids of every chat `userId` is a member of, in id order (a user's contacts are the
    /// members of these chats).
    virtual void chatIdsOf(boost::asio::io_context& ctx, std::string userId, Done<std::vector<std::string>> done) = 0;
    /// Every member of the chat with when it was last seen (touchLastSeen), in one query; by user
    /// id. Empty for a chat that does not exist.
    virtual void membersSeen(boost::asio::io_context& ctx, std::string chatId, Done<std::vector<ContactSeen>> done) = 0;

    // --- Messages and read cursors -------------------------------------------------------------
    /// Stores the message if its sender is a member (Forbidden otherwise). Idempotent by
    /// (chatId, senderId, clientId): a retry stores nothing and answers the first copy.
    virtual void appendMessage(boost::asio::io_context& ctx, NewMessage message, Done<Appended> done) = 0;
    /// The message with this idempotency key (NotFound if none): how a retry refused by the rate
    /// limiter still gets its first copy.
    virtual void findByClientId(boost::asio::io_context& ctx, std::string chatId, std::string senderId,
                                std::string clientId, Done<Message> done) = 0;
    /// A page of the chat's history, oldest first (Forbidden for a non-member). NotFound when the
    /// cursor is not a message of this chat.
    virtual void history(boost::asio::io_context& ctx, std::string chatId, std::string userId, HistoryQuery query,
                         Done<MessagePage> done) = 0;
    /// Moves the user's read cursor forward to `messageId` (Forbidden for a non-member, NotFound
    /// if the message is not in the chat). Forward only, by (createdAt, id), checked in the write.
    virtual void markRead(boost::asio::io_context& ctx, std::string chatId, std::string userId, std::string messageId,
                          std::int64_t at, Done<ReadMark> done) = 0;
    /// Every member's read cursor that is set (Forbidden if `userId` is not a member).
    virtual void readCursors(boost::asio::io_context& ctx, std::string chatId, std::string userId,
                             Done<std::vector<ReadCursor>> done) = 0;

    // --- Connection state recovery -------------------------------------------------------------
    /// Creates or replaces the record of `record.pid` (updatedAt and createdAt as given,
    /// disconnectedAt cleared). A record that another owner holds is left as it is (success):
    /// the socket that wrote it first has been replaced by a recovered one.
    virtual void saveRecovery(boost::asio::io_context& ctx, RecoveryRecord record, Done<void> done) = 0;
    /// Marks the record disconnected at `at` if `owner` still holds it (success either way).
    virtual void endRecovery(boost::asio::io_context& ctx, std::string pid, std::string owner, std::int64_t at,
                             Done<void> done) = 0;
    /// Deletes the record (success also when there is none).
    virtual void deleteRecovery(boost::asio::io_context& ctx, std::string pid, Done<void> done) = 0;
    /// Takes over the record of `pid` for `owner` if it belongs to `userId` and its age (from
    /// disconnectedAt, or updatedAt when never marked disconnected) is not before `notBefore`:
    /// answers the record as it was and leaves it with owner=`owner`, updatedAt=`at` and no
    /// disconnectedAt. NotFound otherwise (no record, another user's, too old): the three are
    /// never told apart.
    virtual void claimRecovery(boost::asio::io_context& ctx, std::string pid, std::string userId, std::string owner,
                               std::int64_t at, std::int64_t notBefore, Done<RecoveryRecord> done) = 0;
    /// Deletes the records whose age is before `notBefore`; answers how many.
    virtual void pruneRecovery(boost::asio::io_context& ctx, std::int64_t notBefore, Done<std::int64_t> done) = 0;
    /// What a recovering socket missed (ReplayRequest, Replay), read in one operation. Membership
    /// is checked as of the read: a chat the user has left contributes nothing.
    virtual void replay(boost::asio::io_context& ctx, ReplayRequest request, Done<Replay> done) = 0;

    // --- Health --------------------------------------------------------------------------------
    /// Succeeds when the database answers a query now (readiness).
    virtual void ping(boost::asio::io_context& ctx, Done<void> done) = 0;
    /// Completes (always with success) once every write this store took before the call has
    /// completed, committed or failed, its `done` posted: what a drain waits for before the
    /// process exits. Writes taken meanwhile may delay it.
    virtual void settle(boost::asio::io_context& ctx, Done<void> done) = 0;
};

} // namespace parley::store
