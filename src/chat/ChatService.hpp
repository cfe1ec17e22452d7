#pragma once

#include "auth/Jwt.hpp"
#include "chat/ErrorReply.hpp"
#include "chat/Metrics.hpp"
#include "chat/Payloads.hpp"
#include "chat/PresenceTracker.hpp"
#include "chat/RateLimiter.hpp"
#include "net/IoThreads.hpp"
#include "socketio/Namespace.hpp"
#include "store/StoreExecutor.hpp"

#include <boost/json/object.hpp>

#include <functional>
#include <optional>
#include <string>

namespace parley::chat {

/// Contract limits (the seed's numbers), one commented default each.
struct ChatConfig {
    std::size_t messagesPerWindow = 10; // "Maximum 10 messages per 10 seconds"
    std::int64_t rateWindowMs = 10'000;
    std::int64_t presenceWindowMs = 2'000; // at most one presence:update per user per 2 s
};

/// The outcome of message:send (socket or REST).
struct SendOutcome {
    bool created = false; ///< false: a retry of an existing message (nothing broadcast)
    store::Message message;
};

/// The chat product on a Socket.IO namespace: authentication middleware, the seed's event
/// handlers, presence, and the operations the REST API shares with the sockets.
///
/// Ownership: the RateLimiter is touched only inside store jobs (the store thread); the
/// PresenceTracker only on io thread 0; everything else is read-only after install().
class ChatService {
public:
    ChatService(net::IoThreads& threads, socketio::Namespace& nsp, store::StoreExecutor& store,
                const auth::JwtVerifier& jwt, ChatConfig config = {}, Metrics* metrics = nullptr);

    /// Registers the middleware and the event handlers. Call once, before serving.
    void install();

    store::StoreExecutor& store() noexcept { return store_; }

    /// Resolves a JWT or session token to a user id; `done` runs on `ctx`.
    void authenticate(boost::asio::io_context& ctx, std::string token,
                      std::function<void(std::optional<std::string> userId, std::string reason)> done);

    /// Validates and stores a message (idempotent by clientId, rate limited), then broadcasts
    /// message:new for a new one. `done` runs on `ctx` after the message is durable.
    void sendMessage(boost::asio::io_context& ctx, const std::string& userId, const boost::json::object* payload,
                     std::optional<std::string_view> chatIdOverride,
                     std::function<void(std::optional<Failure>, SendOutcome)> done);

    /// chat:update to user:<id> of every member and of `alsoTo` (e.g. a removed member).
    void emitChatUpdate(const store::Chat& chat, const std::vector<std::string>& alsoTo = {});
    /// Makes every socket of `userId` leave chat:<chatId> (after removal from the chat).
    void leaveChatRoom(const std::string& chatId, const std::string& userId);
    /// Disconnects every socket that connected with the session token whose hash is
    /// `tokenHash` (after logout deleted the session), closing their connections.
    void disconnectSession(const std::string& tokenHash);

    static boost::json::object messageJson(const store::Message& m);
    static boost::json::object chatJson(const store::Chat& c);

private:
    using SocketPtr = std::shared_ptr<socketio::Socket>;

    // Registers one handler per event; each one below answers its event.
    void installHandlers();
    static void refuseOverload(const SocketPtr& s, const socketio::Event& e, socketio::Ack ack);
    void joinRoom(const SocketPtr& s, const socketio::Event& e, socketio::Ack ack);
    static void leaveRoom(const SocketPtr& s, const socketio::Event& e, socketio::Ack ack);
    void sendFromSocket(const SocketPtr& s, const socketio::Event& e, socketio::Ack ack);
    void typing(const SocketPtr& s, const socketio::Event& e, const char* state);
    void readReceipt(const SocketPtr& s, const socketio::Event& e, socketio::Ack ack);
    void presencePing(const SocketPtr& s, const socketio::Event& e, socketio::Ack ack);

    // receipt:read's store job (store thread) and its answer (the socket's thread).
    enum class ReceiptStatus { Advanced, Unchanged, Forbidden, NotFound };
    struct ReceiptOutcome {
        ReceiptStatus status = ReceiptStatus::Advanced;
        store::ReadCursor cursor;
    };
    static ReceiptOutcome advanceReadCursor(store::Store& st, const std::string& chatId, const std::string& messageId,
                                            const std::string& userId);
    void answerReceipt(const socketio::Ack& ack, const std::string& chatId, const std::string& userId,
                       const std::string& err, const ReceiptOutcome& r);

    void onPresenceChange(const std::string& userId, bool connected);
    void applyPresence(const std::string& userId, const PresenceTracker::Decision& d);
    void broadcastPresence(const std::string& userId, Presence status);
    void schedulePrune();

    net::IoThreads& threads_;
    socketio::Namespace& nsp_;
    store::StoreExecutor& store_;
    const auth::JwtVerifier& jwt_;
    ChatConfig config_;
    RateLimiter limiter_;      // store thread only
    PresenceTracker presence_; // io thread 0 only
    std::unique_ptr<boost::asio::steady_timer> pruneTimer_;
    Metrics* metrics_;
};

} // namespace parley::chat
