#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace parley::store {

// Times are milliseconds since the Unix epoch (UTC). Ids are 24-hex ObjectIds.

struct User {
    std::string id;
    std::string email; ///< unique, stored lower-case
    std::string displayName;
    std::string passwordHash; ///< Argon2id string (libsodium crypto_pwhash_str)
    std::int64_t createdAt = 0;
};

/// An opaque session token, stored only as its hash.
struct SessionRow {
    std::string tokenHash; ///< hex SHA-256 of the token
    std::string userId;
    std::int64_t createdAt = 0;
    std::int64_t expiresAt = 0;
};

struct Chat {
    std::string id;
    std::string type; ///< "dm" or "group"
    std::optional<std::string> title;
    std::vector<std::string> memberIds; ///< in the order they joined
    std::string createdBy;
    std::int64_t createdAt = 0;
    std::int64_t updatedAt = 0;
    /// How many events of the chat (its creation, its changes, its messages) a store shared by
    /// several processes has committed, this one included: the cluster delivers a chat's events
    /// in this order. 0 from a store of one process, which does not count them.
    std::int64_t eventSeq = 0;
};

struct Message {
    std::string id;
    std::string chatId;
    std::string senderId;
    std::string body;
    std::string clientId;
    std::int64_t createdAt = 0;
};

struct ReadCursor {
    std::string userId;
    std::string messageId;
    std::int64_t messageCreatedAt = 0; ///< createdAt of messageId: the cursor orders by (createdAt, id)
    std::int64_t readAt = 0;
};

/// A page of messages, oldest first.
struct MessagePage {
    std::vector<Message> messages;
    bool hasMore = false;
};

// --- What the ChatStore operations take and answer (ChatStore.hpp) ----------------------------

/// message:send as the store sees it. Both backends take the message's id and createdAt
/// themselves at the moment of the write, so that history order is commit order; the caller's
/// `id` and `createdAt` are not stored (the chat layer leaves `id` empty). Appended::message
/// carries what was stored.
struct NewMessage {
    std::string id;
    std::string chatId;
    std::string senderId;
    std::string body;
    std::string clientId;
    std::int64_t createdAt = 0;
};

/// The answer of appendMessage: the message as stored. `created` is false for a retry, whose
/// (chatId, senderId, clientId) was stored before: `message` is then that first copy.
struct Appended {
    bool created = false;
    Message message;
    /// The chat's event_seq (Chat::eventSeq) the new message took; 0 for a retry, or from a store
    /// that does not count events.
    std::int64_t eventSeq = 0;
};

/// A user seen at a time (ChatStore::touchLastSeen).
struct LastSeen {
    std::string userId;
    std::int64_t at = 0;
};

/// A contact of a user (they share a chat) and when it was last seen.
struct ContactSeen {
    std::string userId;
    std::optional<std::int64_t> lastSeenAt; ///< nullopt: not seen since the store has kept it
};

/// A chat of listChats with the user's count of unread messages in it.
/// A chat of the user's chat list: the chat, its unread count, and its newest message (none in
/// a chat without messages). The list is ordered by last activity: the later of the chat's
/// updatedAt and its last message's createdAt, newest first.
struct ChatSummary {
    Chat chat;
    std::int64_t unreadCount = 0;
    std::optional<Message> lastMessage;
};

/// The answer of markRead: the cursor as committed. `advanced` is false when the message was
/// not past the cursor already stored (which is then `cursor`, unchanged).
struct ReadMark {
    bool advanced = false;
    ReadCursor cursor;
};

/// The answer of addMember / removeMember: the chat as committed, and whether it changed
/// (adding a member twice changes nothing).
struct MemberChange {
    Chat chat;
    bool changed = false;
};

/// A page of history: with `before`, the `limit` messages right before that message; with
/// `after`, the `limit` right after it; with neither, the newest `limit`.
struct HistoryQuery {
    std::optional<std::string> before;
    std::optional<std::string> after;
    int limit = 50;
};

// --- Connection state recovery (ChatStore.hpp) --------------------------------------------------

/// A chat room a recoverable socket was in, and since when: nothing before joinedAt is replayed.
struct RecoveryRoom {
    std::string chatId;
    std::int64_t joinedAt = 0;
};

/// What the store keeps of a socket that may recover its state after a drop.
struct RecoveryRecord {
    std::string pid; ///< the client's private id: the capability to recover (unguessable)
    std::string userId;
    std::string sid;   ///< the socket id a recovered socket takes again
    std::string owner; ///< the socket that wrote the record last (see ChatStore::saveRecovery)
    std::vector<RecoveryRoom> rooms;
    std::int64_t createdAt = 0;
    std::int64_t updatedAt = 0;
    std::optional<std::int64_t> disconnectedAt;
};

/// A message's place in the replay order: (createdAt, id).
struct Position {
    std::int64_t createdAt = 0;
    std::string id;
};

/// What a recovering socket missed, asked in one operation (ChatStore::replay).
struct ReplayRequest {
    std::string userId;
    std::vector<RecoveryRoom> rooms;
    std::optional<Position> after; ///< the last message the client received; none: it received none
    std::int64_t since = 0;        ///< chats and read cursors changed after this time
    int limit = 1000;              ///< the most messages; more sets Replay::truncated
};

struct ChatReadCursor {
    std::string chatId;
    ReadCursor cursor;
};

struct Replay {
    std::vector<std::string> memberChats; ///< the request's rooms whose chat still has the user
    std::vector<Message> messages;        ///< in (createdAt, id) order across the chats
    bool truncated = false;               ///< more than `limit` were missed (messages is then empty)
    std::vector<Chat> chats;              ///< the user's chats with updatedAt > since, oldest change first
    std::vector<ChatReadCursor> cursors;  ///< cursors of memberChats with readAt > since, in that order
};

} // namespace parley::store
