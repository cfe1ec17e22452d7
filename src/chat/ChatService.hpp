#pragma once

#include "auth/Jwt.hpp"
#include "chat/ContactDirectory.hpp"
#include "chat/ErrorReply.hpp"
#include "chat/Metrics.hpp"
#include "chat/Payloads.hpp"
#include "chat/PresenceTracker.hpp"
#include "chat/Recovery.hpp"
#include "chat/SharedState.hpp"
#include "chat/SocketBudgets.hpp"
#include "chat/SocketTokens.hpp"
#include "chat/TypingTracker.hpp"
#include "net/IoThreads.hpp"
#include "socketio/Namespace.hpp"
#include "store/ChatStore.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>

namespace parley::chat {

/// Contract limits (the seed's numbers), one commented default each.
struct ChatConfig {
    std::size_t messagesPerWindow = 10; // "Maximum 10 messages per 10 seconds"
    std::int64_t rateWindowMs = 10'000;
    std::int64_t presenceWindowMs = 2'000; // at most one presence:update per user per 2 s
    std::int64_t typingTimeoutMs = 5'000;  // a typing episode not renewed for this long stops; 0: never
    RenewLimit renewLimit{};               // auth:renew per socket: 6 a minute
    StoreBudget storeBudget{};             // receipt:read + typing outside its rooms per socket: 60 per 10 s
    std::int64_t lastSeenEveryMs = 10'000; // presence:ping writes lastSeenAt at most this often per socket
    std::int64_t connectSeenMs = 1'000;    // connects' lastSeenAt are gathered this long, then written at once
    std::int64_t recoveryWindowMs = 0;     // connection state recovery for this long after a drop; 0: off
    std::int64_t presenceBatchMs = 100;    // presence:batch gathers a chat's changes this long
    std::int64_t snapshotShareMs = 50;     // a batch-form socket's per-chat snapshot is shared this long
};

/// The outcome of message:send (socket or REST).
struct SendOutcome {
    bool created = false; ///< false: a retry of an existing message (nothing broadcast)
    store::Message message;
};

/// What a chat operation answers: its value, or the contract error a client gets.
template <class T>
using Outcome = boost::system::result<T, Failure>;
template <class T>
using Reply = std::function<void(Outcome<T>)>;

/// The rate limit and presence a ChatService uses instead of its own in-memory ones (both must
/// outlive it).
struct SharedChatState {
    SendLimit* limit = nullptr;        ///< null: LocalSendLimit
    PresenceState* presence = nullptr; ///< null: LocalPresence
};

/// The chat product on a Socket.IO namespace: authentication middleware, the seed's event
/// handlers, presence, and the chat operations the REST API calls (it never calls the store).
/// The rules of the product live here (who may do what, the member cap, the rate limit); each
/// check that must hold at the moment of a write is made by the store inside that write.
///
/// Files: ChatService.cpp (install, socket handlers, JSON shapes), ChatAccounts.cpp (tokens,
/// logins, sessions; a socket's token: its expiry, auth:renew, auth:expired), ChatChats.cpp (chats and members,
/// chat:update), ChatMessages.cpp (message:send, history, read cursors), ChatPresence.cpp, ChatTyping.cpp.
///
/// Threads: every operation may be called on any io thread and answers on the io_context it is
/// given. The rate limit (SendLimit) is thread-safe; presence (PresenceState) lives on io thread 0.
///
/// The rate limit and presence are those of `shared` when given (a cluster's, shared between its
/// processes), else the in-memory ones of this process (LocalSendLimit, LocalPresence).
class ChatService {
public:
    ChatService(net::IoThreads& threads, socketio::Namespace& nsp, store::ChatStore& store,
                const auth::JwtVerifier& jwt, ChatConfig config = {}, Metrics* metrics = nullptr,
                SharedChatState shared = {});

    /// Registers the middleware and the event handlers. Call once, before serving.
    void install();

    // --- Accounts (ChatAccounts.cpp) ----------------------------------------------------------
    /// Resolves a JWT or session token to a user id; `done` runs on `ctx`. Without a user id, the
    /// failure says why: Unauthorized for the token, Internal when the store could not tell.
    void authenticate(boost::asio::io_context& ctx, std::string token,
                      std::function<void(std::optional<std::string> userId, Failure failure)> done);
    /// The account of a login's email: nullopt when there is none.
    void findAccount(boost::asio::io_context& ctx, std::string email, Reply<std::optional<store::User>> done);
    /// Stores a session (the hash of its token) for a user who has just logged in.
    void startSession(boost::asio::io_context& ctx, store::SessionRow session, Reply<void> done);
    /// Logout: deletes the session whose token hash this is, then disconnects every socket that
    /// connected with it. UNAUTHORIZED when there was none (a concurrent logout got there first).
    void endSession(boost::asio::io_context& ctx, std::string tokenHash, Reply<void> done);
    /// Readiness: the store answers.
    void checkReady(boost::asio::io_context& ctx, Reply<void> done);

    // --- Chats and members (ChatChats.cpp); each change sends chat:update as committed -------
    void listChats(boost::asio::io_context& ctx, std::string userId, Reply<std::vector<store::ChatSummary>> done);
    void createChat(boost::asio::io_context& ctx, const std::string& userId, NewChatRequest request,
                    Reply<store::Chat> done);
    void getChat(boost::asio::io_context& ctx, std::string userId, std::string chatId, Reply<store::Chat> done);
    void renameChat(boost::asio::io_context& ctx, std::string userId, std::string chatId,
                    std::optional<std::string> title, Reply<store::Chat> done);
    /// Adding a member twice answers the chat unchanged (and sends nothing).
    void addMember(boost::asio::io_context& ctx, std::string userId, std::string chatId, std::string newMember,
                   Reply<store::Chat> done);
    /// The removed member's sockets leave the chat's room, and it is told of the change too.
    void removeMember(boost::asio::io_context& ctx, std::string userId, std::string chatId, std::string removed,
                      Reply<store::Chat> done);

    // --- Messages and read cursors (ChatMessages.cpp) ------------------------------------------
    /// Validates and stores a message (idempotent by clientId, rate limited), then broadcasts
    /// message:new for a new one. `done` runs on `ctx` after the message is durable.
    void sendMessage(boost::asio::io_context& ctx, const std::string& userId, const boost::json::object* payload,
                     std::optional<std::string_view> chatIdOverride,
                     std::function<void(std::optional<Failure>, SendOutcome)> done);
    /// A page of history; a cursor that is not a message of this chat is NOT_FOUND.
    void history(boost::asio::io_context& ctx, std::string userId, std::string chatId, const HistoryQuery& query,
                 Reply<store::MessagePage> done);
    void readCursors(boost::asio::io_context& ctx, std::string userId, std::string chatId,
                     Reply<std::vector<store::ReadCursor>> done);

    static boost::json::object messageJson(const store::Message& m);
    static boost::json::object chatJson(const store::Chat& c);

    // --- Drain (a deploy's SIGTERM) ------------------------------------------------------------
    /// From now on a message:send is not taken: from a socket it is dropped unanswered (its
    /// client sends it again, same clientId, once it has reconnected to another node), from REST
    /// it is refused with 503. Never a commit the client was told failed. Any thread.
    void startDrain() noexcept { draining_.store(true); }
    bool draining() const noexcept { return draining_.load(std::memory_order_relaxed); }
    /// Sends taken and not yet answered: their store write, message:new broadcast and ack are
    /// still to come. Any thread.
    std::int64_t sendsInFlight() const noexcept { return sendsInFlight_.load(); }

private:
    using SocketPtr = std::shared_ptr<socketio::Socket>;

    // A socket authenticated by a session token is in this room, so that logout can reach it. The
    // room is named by the token's hash (what the store keys sessions by), never the token itself.
    static std::string sessionRoom(const std::string& tokenHash) { return "session:" + tokenHash; }

    // Who a token vouches for, and until when.
    struct Identity {
        std::string userId;
        std::int64_t validUntilMs = 0; // Unix ms at which the token stops being accepted; 0: never
    };
    // Verifies a JWT or looks a session token up, as a CONNECT does; `done(identity, failure)`
    // runs on `ctx` (at once for a JWT). A session the store could not look up is an Internal
    // failure, not an Unauthorized one: a client told its token is bad would log its user out
    // over a database outage. Defined and used in ChatAccounts.cpp only.
    template <class Done>
    void resolveToken(boost::asio::io_context& ctx, std::string token, Done done);

    // --- A socket's token (ChatAccounts.cpp) ---------------------------------------------------
    // The CONNECT middleware: the handshake's token → data().userId (and its validity), or refused.
    void authenticateSocket(const SocketPtr& socket, socketio::Next next);
    // On connection: the session room of a session token, the expiry timer of a token that expires.
    void onTokenConnected(const SocketPtr& socket);
    void renewToken(const SocketPtr& s, const socketio::Event& e, socketio::Ack ack);
    // A renewal's token verified for this socket's user replaces the socket's token; false
    // (nothing changed) when the socket cannot join the new session's room (the room cap).
    bool adoptToken(const SocketPtr& s, const std::string& token, std::int64_t validUntilMs);
    void armExpiry(const SocketPtr& s, std::int64_t validUntilMs);
    // auth:expired (UNAUTHORIZED, `message`), then a server-side disconnect.
    void expireSocket(const SocketPtr& s, std::string_view message);
    // The token state of the sockets of the calling io thread.
    SocketTokens& tokensHere();
    // The store budgets of the sockets of the calling io thread.
    SocketBudgets& budgetsHere();

    // Registers one handler per event; each one below answers its event.
    void installHandlers();
    void refuseOverload(const SocketPtr& s, const socketio::Event& e, socketio::Ack ack);
    void joinRoom(const SocketPtr& s, const socketio::Event& e, socketio::Ack ack);
    void leaveRoom(const SocketPtr& s, const socketio::Event& e, socketio::Ack ack);
    void sendFromSocket(const SocketPtr& s, const socketio::Event& e, socketio::Ack ack);
    // Times a message:send answered by `ack` (just written) from `received`, the handler's start.
    void timeSendAck(const socketio::Ack& ack, std::chrono::steady_clock::time_point received, bool ok) const noexcept;
    void typing(const SocketPtr& s, const socketio::Event& e, bool starting);
    void emitTyping(const std::string& userId, const std::string& chatId, const char* state);
    void readReceipt(const SocketPtr& s, const socketio::Event& e, socketio::Ack ack);
    void presencePing(const SocketPtr& s, const socketio::Event& e, socketio::Ack ack);

    void answerReceipt(const socketio::Ack& ack, const std::string& chatId, const std::string& userId,
                       store::Result<store::ReadMark> mark);

    // message:send after validation and the rate limit: refused, or the store (with the slot
    // given back when no new message was stored).
    void admitted(boost::asio::io_context& ctx, store::NewMessage m, const Admission& admission,
                  std::function<void(std::optional<Failure>, SendOutcome)> done);
    void storeMessage(boost::asio::io_context& ctx, store::NewMessage m, const Admission& admission,
                      std::function<void(std::optional<Failure>, SendOutcome)> done);
    // A send the limiter refused: a retry still gets its first copy; anything else is refused.
    void answerRateLimited(boost::asio::io_context& ctx, store::NewMessage m, std::int64_t retryAfterMs,
                           std::function<void(std::optional<Failure>, SendOutcome)> done);
    // A membership change as committed (on io thread 0): chat:update to the members (and
    // `alsoTo`), then `done` on `ctx`, the caller's io thread.
    void answerChange(boost::asio::io_context& ctx, store::Result<store::MemberChange> change,
                      const std::vector<std::string>& alsoTo, const Reply<store::Chat>& done);
    // Hands a chat change's outcome to `done` on `ctx`.
    static void answerOn(boost::asio::io_context& ctx, store::Result<store::Chat> chat, const Reply<store::Chat>& done);
    /// chat:update to user:<id> of every member and of `alsoTo` (e.g. a removed member).
    void emitChatUpdate(const store::Chat& chat, const std::vector<std::string>& alsoTo = {});

    void onPresenceChange(const std::string& userId, bool connected);
    void applyPresence(const std::string& userId, const PresenceState::Decision& d);
    void broadcastPresence(const std::string& userId, Presence status);
    void flushPresenceBatches();
    void seenAtConnect(const std::string& userId, std::int64_t at);
    void schedulePrune();
    // A socket that has just connected joins the presence rooms of its chats, then is told where
    // its contacts stand (presence:snapshot).
    void joinPresence(const SocketPtr& s, const std::string& userId);
    void sendPresenceSnapshot(const SocketPtr& s, const std::string& userId, const std::vector<std::string>& chatIds);
    // The batched form's snapshot: one presence:snapshot per chat, written once for every socket
    // whose request reached io thread 0 before it was built (io thread 0).
    void requestChatSnapshot(const SocketPtr& s, const std::string& chatId);
    void buildChatSnapshot(const std::string& chatId);
    // A chat's membership changed as committed (io thread 0): the directory follows, and the
    // sockets of `joined` / `left` join / leave the chat's presence room.
    void presenceMembersChanged(const store::Chat& chat, const std::vector<std::string>& joined,
                                const std::vector<std::string>& left);

    net::IoThreads& threads_;
    socketio::Namespace& nsp_;
    store::ChatStore& store_;
    const auth::JwtVerifier& jwt_;
    ChatConfig config_;
    std::unique_ptr<SendLimit> ownLimit_;        // when no shared one is given
    std::unique_ptr<PresenceState> ownPresence_; // when no shared one is given
    SendLimit& limit_;
    PresenceState& presence_;    // io thread 0 only
    ContactDirectory directory_; // io thread 0 only
    // presence:batch: each chat's changes since the last flush, as update objects (io thread 0).
    std::unordered_map<std::string, boost::json::array> presenceBatches_;
    std::unique_ptr<boost::asio::steady_timer> presenceBatchTimer_;
    bool presenceFlushArmed_ = false;
    // Batch-form sockets waiting for a chat's snapshot, and the timer of its build (io thread 0).
    struct ChatSnapshotWait {
        std::vector<std::weak_ptr<socketio::Socket>> sockets;
        std::unique_ptr<boost::asio::steady_timer> timer;
    };
    std::unordered_map<std::string, ChatSnapshotWait> chatSnapshots_;
    std::unique_ptr<boost::asio::steady_timer> pruneTimer_;
    // Connects' lastSeenAt, not yet written, by user, and the timer of their write (io thread 0).
    std::unordered_map<std::string, std::int64_t> connectSeen_;
    std::unique_ptr<boost::asio::steady_timer> connectSeenTimer_;
    TypingTracker typists_;                                     // each socket's state on its own io thread
    std::vector<std::unique_ptr<SocketTokens>> socketTokens_;   // one per io thread, used on it only
    std::vector<std::unique_ptr<SocketBudgets>> socketBudgets_; // one per io thread, used on it only
    Metrics* metrics_;
    std::unique_ptr<SessionRecovery> recovery_; // null when ChatConfig::recoveryWindowMs is 0
    // A send counts from when it is taken (after validation) until its answer has been given.
    std::atomic<std::int64_t> sendsInFlight_{0};
    std::atomic<bool> draining_{false};
};

} // namespace parley::chat
