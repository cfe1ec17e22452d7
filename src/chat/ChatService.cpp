#include "chat/ChatService.hpp"

#include "chat/Payloads.hpp"
#include "chat/SocketUser.hpp"
#include "chat/StoreFailure.hpp"
#include "chat/Validation.hpp"
#include "core/ObjectId.hpp"
#include "core/Time.hpp"

#include <boost/json/array.hpp>
#include <spdlog/spdlog.h>

namespace parley::chat {

using SocketPtr = std::shared_ptr<socketio::Socket>;

namespace {

// An ack's arguments: the error envelope (logged with `context`), or {ok:true[,data]}.
boost::json::array errorArgs(ErrorCode code, std::string_view message, std::string_view context) {
    return boost::json::array{errorReply(code, message, context)};
}

boost::json::array okArgs(boost::json::value data = nullptr) {
    boost::json::object o{{"ok", true}};
    if (!data.is_null()) o["data"] = std::move(data);
    return boost::json::array{std::move(o)};
}

void ackError(const socketio::Ack& ack, ErrorCode code, std::string_view message, std::string_view context) {
    ack.send(errorArgs(code, message, context));
}

void ackOk(const socketio::Ack& ack, boost::json::value data = nullptr) { ack.send(okArgs(std::move(data))); }

std::string context(std::string_view event, const std::string& userId) {
    std::string c(event);
    c += " user=";
    c += userId;
    return c;
}

// The log context of an error, with its underlying cause (a store error) when there is one.
std::string withCause(std::string context, const std::string& cause) {
    if (!cause.empty()) context += " (" + cause + ")";
    return context;
}

} // namespace

ChatService::ChatService(net::IoThreads& threads, socketio::Namespace& nsp, store::ChatStore& store,
                         const auth::JwtVerifier& jwt, ChatConfig config, Metrics* metrics, SharedChatState shared)
    : threads_(threads), nsp_(nsp), store_(store), jwt_(jwt), config_(config),
      ownLimit_(shared.limit ? nullptr
                             : std::make_unique<LocalSendLimit>(config.messagesPerWindow, config.rateWindowMs)),
      ownPresence_(shared.presence ? nullptr : std::make_unique<LocalPresence>(config.presenceWindowMs)),
      limit_(shared.limit ? *shared.limit : *ownLimit_), presence_(shared.presence ? *shared.presence : *ownPresence_),
      // In a cluster another node may change a user's chats at any moment: they are read for
      // each use (one small indexed read); a chat's members are still shared for a second.
      directory_(store, threads.context(0), 1'000, shared.presence ? 0 : 30'000),
      typists_(threads, std::chrono::milliseconds(config.typingTimeoutMs),
               [this](const std::string& userId, const std::string& chatId) { emitTyping(userId, chatId, "stop"); }),
      metrics_(metrics),
      recovery_(config.recoveryWindowMs > 0 ? std::make_unique<SessionRecovery>(nsp, store, config.recoveryWindowMs)
                                            : nullptr) {
    socketTokens_.reserve(threads_.size());
    for (std::size_t i = 0; i < threads_.size(); ++i)
        socketTokens_.push_back(std::make_unique<SocketTokens>(threads_.context(i)));
    socketBudgets_.reserve(threads_.size());
    for (std::size_t i = 0; i < threads_.size(); ++i) socketBudgets_.push_back(std::make_unique<SocketBudgets>());
}

// ---------------------------------------------------------------------------------------------
// JSON shapes of the contract
// ---------------------------------------------------------------------------------------------

boost::json::object ChatService::messageJson(const store::Message& m) {
    return boost::json::object{{"chatId", m.chatId},
                               {"_id", m.id},
                               {"body", m.body},
                               {"senderId", m.senderId},
                               {"createdAt", core::isoTime(m.createdAt)},
                               {"clientId", m.clientId}};
}

boost::json::object ChatService::chatJson(const store::Chat& c) {
    boost::json::array members;
    for (const auto& id : c.memberIds) members.emplace_back(id);
    boost::json::object o{{"_id", c.id}, {"type", c.type}};
    o["title"] = c.title ? boost::json::value(*c.title) : boost::json::value(nullptr);
    o["memberIds"] = std::move(members);
    o["createdBy"] = c.createdBy;
    o["createdAt"] = core::isoTime(c.createdAt);
    o["updatedAt"] = core::isoTime(c.updatedAt);
    return o;
}

// ---------------------------------------------------------------------------------------------
// Middleware and handlers
// ---------------------------------------------------------------------------------------------

void ChatService::install() {
    nsp_.use([this](const SocketPtr& socket, socketio::Next next) { authenticateSocket(socket, std::move(next)); });
    nsp_.onConnection([this](const SocketPtr& socket) {
        const std::string userId = userOf(socket);
        socket->joinUncounted("user:" + userId);
        onTokenConnected(socket);
        onPresenceChange(userId, true);
        joinPresence(socket, userId);
        if (recovery_) recovery_->onConnected(socket);
    });
    nsp_.onDisconnect([this](const SocketPtr& socket, std::string_view) {
        typists_.gone(*socket);
        if (recovery_) recovery_->onDisconnected(socket);
        tokensHere().forget(socket.get());
        budgetsHere().forget(socket.get());
        const std::string userId = userOf(socket);
        if (!userId.empty()) onPresenceChange(userId, false);
    });
    nsp_.onLeave([this](socketio::Socket& socket, const std::string& room) { typists_.left(socket, room); });
    installHandlers();
    presence_.onDecision(
        [this](const std::string& userId, const PresenceState::Decision& d) { applyPresence(userId, d); });
    pruneTimer_ = std::make_unique<boost::asio::steady_timer>(threads_.context(0));
    presenceBatchTimer_ = std::make_unique<boost::asio::steady_timer>(threads_.context(0));
    connectSeenTimer_ = std::make_unique<boost::asio::steady_timer>(threads_.context(0));
    threads_.postTo(0, [this] { schedulePrune(); });
}

void ChatService::installHandlers() {
    using socketio::Ack;
    using socketio::Event;
    nsp_.onOverload([this](const SocketPtr& s, const Event& e, Ack ack) { refuseOverload(s, e, std::move(ack)); });
    nsp_.on("room:join", [this](const SocketPtr& s, const Event& e, Ack ack) { joinRoom(s, e, std::move(ack)); });
    nsp_.on("room:leave", [this](const SocketPtr& s, const Event& e, Ack ack) { leaveRoom(s, e, std::move(ack)); });
    nsp_.on("message:send",
            [this](const SocketPtr& s, const Event& e, Ack ack) { sendFromSocket(s, e, std::move(ack)); });
    nsp_.on("typing:start", [this](const SocketPtr& s, const Event& e, Ack) { typing(s, e, true); });
    nsp_.on("typing:stop", [this](const SocketPtr& s, const Event& e, Ack) { typing(s, e, false); });
    nsp_.on("receipt:read", [this](const SocketPtr& s, const Event& e, Ack ack) { readReceipt(s, e, std::move(ack)); });
    nsp_.on("presence:ping",
            [this](const SocketPtr& s, const Event& e, Ack ack) { presencePing(s, e, std::move(ack)); });
    nsp_.on("auth:renew", [this](const SocketPtr& s, const Event& e, Ack ack) { renewToken(s, e, std::move(ack)); });
}

// A client pipelining requests past the socket's limit gets each extra one refused at once (a
// message:send among them is an error ack of the ack histogram like any other).
void ChatService::refuseOverload(const SocketPtr& s, const socketio::Event& e, socketio::Ack ack) {
    const bool send = e.name == "message:send";
    const auto received = send ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    const auto reply = errorArgs(ErrorCode::RateLimited, "Too many requests awaiting an answer on this connection",
                                 context(e.name, userOf(s)));
    if (send) timeSendAck(ack, received, false);
    ack.send(reply);
}

void ChatService::joinRoom(const SocketPtr& s, const socketio::Event& e, socketio::Ack ack) {
    const std::string userId = userOf(s);
    auto chatId = parseChatRef(e.args);
    if (!chatId) return ackError(ack, chatId.error().code, chatId.error().message, context("room:join", userId));
    store_.isMember(s->context(), *chatId, userId,
                    [this, s, ack, chatId = *chatId, userId](store::Result<bool> member) {
                        if (!member)
                            return ackError(ack, ErrorCode::Internal, "Could not check membership",
                                            withCause(context("room:join", userId), member.error().message()));
                        if (!*member)
                            return ackError(ack, ErrorCode::Forbidden, kNotMemberMessage, context("room:join", userId));
                        if (!s->join("chat:" + chatId))
                            return ackError(ack, ErrorCode::RateLimited, "Too many rooms joined on this connection",
                                            context("room:join", userId));
                        if (!recovery_) return ackOk(ack);
                        recovery_->onJoined(s, chatId, [ack] { ackOk(ack); });
                    });
}

void ChatService::leaveRoom(const SocketPtr& s, const socketio::Event& e, socketio::Ack ack) {
    auto chatId = parseChatRef(e.args);
    if (!chatId) return ackError(ack, chatId.error().code, chatId.error().message, context("room:leave", userOf(s)));
    s->leave("chat:" + *chatId);
    if (!recovery_) return ackOk(ack);
    recovery_->onLeft(s, *chatId, [ack] { ackOk(ack); });
}

void ChatService::sendFromSocket(const SocketPtr& s, const socketio::Event& e, socketio::Ack ack) {
    // Draining: no answer at all, so the client sends it again (same clientId) once it has
    // reconnected to another node.
    if (draining()) return;
    const auto received = std::chrono::steady_clock::now();
    const std::string userId = userOf(s);
    // `done` runs on the socket's io thread, whichever thread completed the store's write.
    sendMessage(s->context(), userId, e.args.empty() ? nullptr : asObject(&e.args[0]), std::nullopt,
                [this, ack, userId, received](std::optional<Failure> failure, SendOutcome out) {
                    const auto reply = failure ? errorArgs(failure->code, failure->message,
                                                           withCause(context("message:send", userId), failure->cause))
                                               : okArgs(boost::json::object{{"clientId", out.message.clientId},
                                                                            {"serverId", out.message.id}});
                    timeSendAck(ack, received, !failure);
                    ack.send(reply);
                });
}

// parley_chat_message_ack_seconds: one more clock read, one histogram's relaxed adds. Taken
// with the ack ready, just before it is handed to the connection, so that a client holding its
// ack finds it counted. A send whose client asked for no ack has no ack to time.
void ChatService::timeSendAck(const socketio::Ack& ack, std::chrono::steady_clock::time_point received,
                              bool ok) const noexcept {
    if (metrics_ == nullptr || !ack.requested()) return;
    (ok ? metrics_->messageAckOk : metrics_->messageAckError).observe(std::chrono::steady_clock::now() - received);
}

void ChatService::readReceipt(const SocketPtr& s, const socketio::Event& e, socketio::Ack ack) {
    const std::string userId = userOf(s);
    auto request = parseReceiptRequest(e.args);
    if (!request) return ackError(ack, request.error().code, request.error().message, context("receipt:read", userId));
    const auto now = core::nowMs();
    if (!budgetsHere().take(s.get(), now, config_.storeBudget))
        return ackError(ack, ErrorCode::RateLimited,
                        fmt::format("Maximum {} read receipts per {} seconds on one connection",
                                    config_.storeBudget.perWindow, config_.storeBudget.windowMs / 1000),
                        context("receipt:read", userId));
    std::string chatId = request->chatId;
    store_.markRead(s->context(), std::move(request->chatId), userId, std::move(request->messageId), now,
                    [this, ack, chatId = std::move(chatId), userId](store::Result<store::ReadMark> mark) {
                        answerReceipt(ack, chatId, userId, std::move(mark));
                    });
}

void ChatService::answerReceipt(const socketio::Ack& ack, const std::string& chatId, const std::string& userId,
                                store::Result<store::ReadMark> mark) {
    if (!mark) {
        const auto failure = storeFailure(mark.error(), "No such message in this chat");
        return ackError(ack, failure.code,
                        failure.code == ErrorCode::Internal ? "Could not store the read cursor" : failure.message,
                        withCause(context("receipt:read", userId), failure.cause));
    }
    const std::string readAt = core::isoTime(mark->cursor.readAt);
    ackOk(ack, boost::json::object{{"readAt", readAt}});
    if (mark->advanced)
        nsp_.to("chat:" + chatId)
            .emit("receipt:update", boost::json::array{boost::json::object{{"chatId", chatId},
                                                                           {"messageId", mark->cursor.messageId},
                                                                           {"userId", userId},
                                                                           {"readAt", readAt}}});
}

void ChatService::presencePing(const SocketPtr& s, const socketio::Event& e, socketio::Ack ack) {
    const std::string userId = userOf(s);
    if (auto ping = parsePresencePing(e.args); !ping)
        return ackError(ack, ping.error().code, ping.error().message, context("presence:ping", userId));
    const auto now = core::nowMs();
    // lastSeenAt is best effort: the ping is answered without waiting for the disk, and written
    // at most once per lastSeenEveryMs per socket (a ping loop costs the store nothing more).
    if (budgetsHere().lastSeenDue(s.get(), now, config_.lastSeenEveryMs))
        store_.touchLastSeen(s->context(), {{userId, now}}, [](store::Result<void>) {});
    ackOk(ack, boost::json::object{{"serverTime", core::isoTime(now)}});
}

} // namespace parley::chat
