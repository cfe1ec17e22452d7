#pragma once

#include "socketio/Namespace.hpp"
#include "store/ChatStore.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace parley::chat {

// ---------------------------------------------------------------------------------------------
// Offsets and private ids (pure functions)
// ---------------------------------------------------------------------------------------------

/// The offset a message:new carries as its last argument: its place in the replay order,
/// "<createdAt in base 10>-<id>". The same for every recipient.
std::string offsetOf(const store::Message& message);
/// The position an offset names; nullopt unless it is exactly what offsetOf writes for a time
/// >= 0 and a 24-hex id.
std::optional<store::Position> parseOffset(std::string_view offset);

/// The offset a message:new packet's encoded text carries (its last argument), or empty for any
/// other packet.
std::string_view offsetIn(std::string_view text);

/// Keeps the offsets one socket is sent moving forward. The client keeps the last offset it
/// received, and a recovery replays what comes after it. Across nodes, two messages of a chat
/// may arrive out of place order (two nodes publish their commits independently): a client
/// that last received the earlier-placed one would have the other replayed again. So a
/// message:new placed before one already sent carries that one's offset instead (its text
/// re-encoded, for this socket only); every other packet passes as it is. A Socket::Rewrite.
class OffsetOrder {
public:
    /// `start`: the offset the client already holds (a recovering client's), or empty.
    explicit OffsetOrder(std::string start = {});
    std::optional<socketio::EncodedPacket> operator()(const socketio::EncodedPacket& packet);

private:
    std::int64_t lastAt_ = 0;
    std::string last_; ///< the furthest offset sent; empty: none yet
};

/// A new private id: 128 random bits, base64url without padding (22 characters).
std::string newPid();
/// True for text newPid could have written.
bool isPid(std::string_view pid);

// ---------------------------------------------------------------------------------------------
// SessionRecovery
// ---------------------------------------------------------------------------------------------

/// Connection state recovery from the store: the socket.io 4.6+ protocol (the CONNECT reply's
/// pid, the offset of each message:new, `{pid, offset}` in a reconnecting client's auth) on top
/// of the records and the replay read of ChatStore.
///
/// A socket gets a pid at connect. Its record (user, sid, chat rooms with the time it joined
/// each) is written when it first joins a chat room and on each join and leave, and marked
/// disconnected when it goes; nothing is written per message. A client that comes back within
/// the window, with its own user's token, takes its record over: same sid, its chat rooms
/// joined again (those whose chat still has the user), then everything it missed read from the
/// store in one operation: message:new after its offset (from each room's joinedAt when it has
/// none), the current chat:update of each of its chats changed since, the current
/// receipt:update of each cursor moved since. Anything else (no such record, another user's,
/// too old, a malformed pid or offset) is a fresh session, without an error.
///
/// Events that reach the socket while the replay is read are held (Socket::hold) and sent
/// after it, but for message:new the replay already carried and events of chats the user has
/// left.
///
/// Threads: every method runs on the socket's thread, but prune() (any io thread).
class SessionRecovery {
public:
    using SocketPtr = std::shared_ptr<socketio::Socket>;

    /// `windowMs` > 0: how long after a drop a socket may be recovered. `maxReplay`: the most
    /// messages one replay sends; a client that missed more gets a fresh session.
    SessionRecovery(socketio::Namespace& nsp, store::ChatStore& store, std::int64_t windowMs, int maxReplay = 1000);

    /// The middleware's step after authentication: recovers the record the auth's pid names
    /// when it may, else gives the socket a new pid; then `next()`.
    void admit(const SocketPtr& socket, const std::string& userId, socketio::Next next);
    /// At connection: a recovered socket joins its rooms again and gets its replay.
    void onConnected(const SocketPtr& socket);
    /// After a room:join / room:leave of chat `chatId`. `saved` runs on the socket's thread once
    /// the socket's record has the change (or its write failed, which is logged), at once when
    /// there is nothing to write: the event's ack waits for it, so a node that dies after the ack
    /// cannot hand a recovering client a record without a room it was told it had joined.
    void onJoined(const SocketPtr& socket, const std::string& chatId, std::function<void()> saved);
    void onLeft(const SocketPtr& socket, const std::string& chatId, std::function<void()> saved);
    void onDisconnected(const SocketPtr& socket);
    /// Deletes the records too old to recover; `ctx` receives the completion.
    void prune(boost::asio::io_context& ctx);

private:
    void restore(const SocketPtr& socket, const std::string& userId, store::ReplayRequest request);
    void sendReplay(const SocketPtr& socket, const store::Replay& replay);
    void save(const SocketPtr& socket, std::function<void()> saved = {});
    void forget(const SocketPtr& socket);

    socketio::Namespace& nsp_;
    store::ChatStore& store_;
    std::int64_t windowMs_;
    int maxReplay_;
};

} // namespace parley::chat
