#include "chat/ChatService.hpp"

#include "auth/SessionTokens.hpp"
#include "chat/Payloads.hpp"
#include "chat/Validation.hpp"
#include "core/ObjectId.hpp"
#include "core/Time.hpp"

#include <boost/json/array.hpp>
#include <spdlog/spdlog.h>

namespace parley::chat {

using core::ObjectId;
using SocketPtr = std::shared_ptr<socketio::Socket>;

namespace {

void ackError(const socketio::Ack& ack, ErrorCode code, std::string_view message, std::string_view context) {
    ack.send(boost::json::array{errorReply(code, message, context)});
}

void ackOk(const socketio::Ack& ack, boost::json::value data = nullptr) {
    boost::json::object o{{"ok", true}};
    if (!data.is_null()) o["data"] = std::move(data);
    ack.send(boost::json::array{std::move(o)});
}

std::string userOf(const SocketPtr& s) {
    const auto* v = s->data().if_contains("userId");
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// A socket authenticated by a session token is in this room, so that logout can reach it. The
// room is named by the token's hash (what the store keys sessions by), never the token itself.
std::string sessionRoom(const std::string& tokenHash) { return "session:" + tokenHash; }

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

ChatService::ChatService(net::IoThreads& threads, socketio::Namespace& nsp, store::StoreExecutor& store,
                         const auth::JwtVerifier& jwt, ChatConfig config, Metrics* metrics)
    : threads_(threads), nsp_(nsp), store_(store), jwt_(jwt), config_(config),
      limiter_(config.messagesPerWindow, config.rateWindowMs), presence_(config.presenceWindowMs), metrics_(metrics) {}

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
// Authentication
// ---------------------------------------------------------------------------------------------

void ChatService::authenticate(boost::asio::io_context& ctx, std::string token,
                               std::function<void(std::optional<std::string>, std::string)> done) {
    if (token.empty()) return done(std::nullopt, "Missing token");
    if (auth::looksLikeJwt(token)) {
        auto claims = jwt_.verify(token);
        if (!claims) return done(std::nullopt, "Invalid token: " + claims.error().message());
        return done(claims->subject, {});
    }
    if (!auth::looksLikeSessionToken(token)) return done(std::nullopt, "Invalid token");
    store_.read<std::optional<store::SessionRow>>(
        ctx, [hash = auth::hashSessionToken(token)](store::Store& s) { return s.findSession(hash); },
        [done = std::move(done)](std::string error, std::optional<store::SessionRow> session) {
            if (!error.empty()) return done(std::nullopt, "Session lookup failed");
            if (!session) return done(std::nullopt, "Unknown session");
            if (session->expiresAt <= core::nowMs()) return done(std::nullopt, "Session expired");
            done(session->userId, {});
        });
}

// ---------------------------------------------------------------------------------------------
// message:send, shared with POST /v1/chats/:id/messages
// ---------------------------------------------------------------------------------------------

void ChatService::sendMessage(boost::asio::io_context& ctx, const std::string& userId,
                              const boost::json::object* payload, std::optional<std::string_view> chatIdOverride,
                              std::function<void(std::optional<Failure>, SendOutcome)> done) {
    // Everything is validated before the store sees anything.
    auto request = parseSendRequest(payload, chatIdOverride);
    if (!request) return done(request.error(), {});

    enum class Stored { Created, Existing, Forbidden, RateLimited };
    struct Result {
        Stored status = Stored::Created;
        store::Message message;
    };
    store::Message m;
    m.chatId = std::move(request->chatId);
    m.senderId = userId;
    m.body = std::move(request->body);
    m.clientId = std::move(request->clientId);
    store_.write<Result>(
        ctx,
        [this, m = std::move(m)](store::Store& s) mutable {
            Result r;
            if (!s.isMember(m.chatId, m.senderId)) {
                r.status = Stored::Forbidden;
                return r;
            }
            // A retry is answered with the stored copy, whatever the limiter says, and is not
            // counted. The insert's unique key is what finds a retry, so a new message (the
            // common case) costs no lookup before it.
            const std::int64_t now = core::nowMs();
            if (limiter_.allows(m.senderId, now)) {
                m.id = ObjectId::generate();
                m.createdAt = now;
                try {
                    s.insertMessage(m);
                    limiter_.tryAcquire(m.senderId, now); // succeeds: allows() said so just now
                    r.message = std::move(m);
                    return r;
                } catch (const store::DuplicateMessage&) {
                    // A retry: the statement changed nothing; answered below.
                }
            }
            if (auto existing = s.findByClientId(m.chatId, m.senderId, m.clientId)) {
                r.status = Stored::Existing;
                r.message = std::move(*existing);
                return r;
            }
            r.status = Stored::RateLimited;
            return r;
        },
        [this, done = std::move(done)](std::string error, Result r) {
            if (!error.empty()) return done(Failure{ErrorCode::Internal, "Could not store the message", error}, {});
            if (r.status == Stored::Forbidden)
                return done(Failure{ErrorCode::Forbidden, std::string(kNotMemberMessage)}, {});
            if (r.status == Stored::RateLimited)
                return done(Failure{ErrorCode::RateLimited, "Maximum 10 messages per 10 seconds"}, {});
            SendOutcome out{r.status == Stored::Created, std::move(r.message)};
            if (out.created && metrics_) metrics_->messagesStored.fetch_add(1, std::memory_order_relaxed);
            if (out.created)
                nsp_.to("chat:" + out.message.chatId).emit("message:new", boost::json::array{messageJson(out.message)});
            done(std::nullopt, std::move(out));
        });
}

// ---------------------------------------------------------------------------------------------
// chat:update and room membership after REST changes
// ---------------------------------------------------------------------------------------------

void ChatService::emitChatUpdate(const store::Chat& chat, const std::vector<std::string>& alsoTo) {
    socketio::BroadcastOptions opts;
    for (const auto& id : chat.memberIds) opts.rooms.push_back("user:" + id);
    for (const auto& id : alsoTo) opts.rooms.push_back("user:" + id);
    socketio::BroadcastOperator(nsp_, std::move(opts))
        .emit("chat:update", boost::json::array{boost::json::object{{"chat", chatJson(chat)}}});
}

void ChatService::leaveChatRoom(const std::string& chatId, const std::string& userId) {
    nsp_.to("user:" + userId).socketsLeave({"chat:" + chatId});
}

void ChatService::disconnectSession(const std::string& tokenHash) {
    nsp_.to(sessionRoom(tokenHash)).disconnectSockets(true);
}

// ---------------------------------------------------------------------------------------------
// Presence (io thread 0 owns the tracker)
// ---------------------------------------------------------------------------------------------

void ChatService::onPresenceChange(const std::string& userId, bool connected) {
    threads_.postTo(0, [this, userId, connected] {
        const auto now = core::nowMs();
        applyPresence(userId, connected ? presence_.connect(userId, now) : presence_.disconnect(userId, now));
    });
}

void ChatService::applyPresence(const std::string& userId, const PresenceTracker::Decision& d) {
    if (d.broadcastNow) broadcastPresence(userId, *d.broadcastNow);
    if (d.checkAtMs) {
        auto timer = std::make_shared<boost::asio::steady_timer>(threads_.context(0));
        timer->expires_after(std::chrono::milliseconds(std::max<std::int64_t>(0, *d.checkAtMs - core::nowMs())));
        timer->async_wait([this, timer, userId](boost::system::error_code ec) {
            if (ec) return;
            applyPresence(userId, presence_.onTimer(userId, core::nowMs()));
        });
    }
}

void ChatService::broadcastPresence(const std::string& userId, Presence status) {
    const std::string timestamp = core::isoTime(core::nowMs());
    store_.read<std::vector<std::string>>(
        threads_.context(0), [userId](store::Store& s) { return s.contactsOf(userId); },
        [this, userId, status, timestamp](std::string error, std::vector<std::string> contacts) {
            if (!error.empty()) {
                spdlog::error("presence: contacts of {}: {}", userId, error);
                return;
            }
            if (contacts.empty()) return;
            socketio::BroadcastOptions opts;
            for (const auto& c : contacts) opts.rooms.push_back("user:" + c);
            socketio::BroadcastOperator(nsp_, std::move(opts))
                .emit("presence:update", boost::json::array{boost::json::object{
                                             {"userId", userId},
                                             {"status", status == Presence::Online ? "online" : "offline"},
                                             {"timestamp", timestamp}}});
        });
}

void ChatService::schedulePrune() {
    pruneTimer_->expires_after(std::chrono::seconds(30));
    pruneTimer_->async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        presence_.prune(core::nowMs());
        schedulePrune();
    });
    // The limiter lives on the store thread: prune it there.
    store_.write<bool>(
        threads_.context(0),
        [this](store::Store&) {
            limiter_.prune(core::nowMs());
            return true;
        },
        [](std::string, bool) {});
}

// ---------------------------------------------------------------------------------------------
// Middleware and handlers
// ---------------------------------------------------------------------------------------------

void ChatService::install() {
    nsp_.use([this](const SocketPtr& socket, socketio::Next next) {
        auto token = handshakeToken(socket->auth(), socket->handshake().url);
        authenticate(socket->context(), token.value_or(""),
                     [socket, next = std::move(next)](std::optional<std::string> userId, std::string reason) {
                         if (!userId) {
                             auto reply = errorReply(ErrorCode::Unauthorized, reason,
                                                     "connect from " + socket->handshake().remoteAddress);
                             return next(socketio::ConnectError{"UNAUTHORIZED", std::move(reply)});
                         }
                         socket->data()["userId"] = *userId;
                         next(std::nullopt);
                     });
    });
    nsp_.onConnection([this](const SocketPtr& socket) {
        const std::string userId = userOf(socket);
        socket->join("user:" + userId);
        if (auto token = handshakeToken(socket->auth(), socket->handshake().url);
            token && auth::looksLikeSessionToken(*token))
            socket->join(sessionRoom(auth::hashSessionToken(*token)));
        onPresenceChange(userId, true);
    });
    nsp_.onDisconnect([this](const SocketPtr& socket, std::string_view) {
        const std::string userId = userOf(socket);
        if (!userId.empty()) onPresenceChange(userId, false);
    });
    installHandlers();
    pruneTimer_ = std::make_unique<boost::asio::steady_timer>(threads_.context(0));
    threads_.postTo(0, [this] { schedulePrune(); });
}

void ChatService::installHandlers() {
    using socketio::Ack;
    using socketio::Event;
    nsp_.onOverload(&refuseOverload);
    nsp_.on("room:join", [this](const SocketPtr& s, const Event& e, Ack ack) { joinRoom(s, e, std::move(ack)); });
    nsp_.on("room:leave", [](const SocketPtr& s, const Event& e, Ack ack) { leaveRoom(s, e, std::move(ack)); });
    nsp_.on("message:send",
            [this](const SocketPtr& s, const Event& e, Ack ack) { sendFromSocket(s, e, std::move(ack)); });
    nsp_.on("typing:start", [this](const SocketPtr& s, const Event& e, Ack) { typing(s, e, "start"); });
    nsp_.on("typing:stop", [this](const SocketPtr& s, const Event& e, Ack) { typing(s, e, "stop"); });
    nsp_.on("receipt:read", [this](const SocketPtr& s, const Event& e, Ack ack) { readReceipt(s, e, std::move(ack)); });
    nsp_.on("presence:ping",
            [this](const SocketPtr& s, const Event& e, Ack ack) { presencePing(s, e, std::move(ack)); });
}

// A client pipelining requests past the socket's limit gets each extra one refused at once.
void ChatService::refuseOverload(const SocketPtr& s, const socketio::Event& e, socketio::Ack ack) {
    ackError(ack, ErrorCode::RateLimited, "Too many requests awaiting an answer on this connection",
             context(e.name, userOf(s)));
}

void ChatService::joinRoom(const SocketPtr& s, const socketio::Event& e, socketio::Ack ack) {
    const std::string userId = userOf(s);
    auto chatId = parseChatRef(e.args);
    if (!chatId) return ackError(ack, chatId.error().code, chatId.error().message, context("room:join", userId));
    store_.read<bool>(
        s->context(), [chatId = *chatId, userId](store::Store& st) { return st.isMember(chatId, userId); },
        [s, ack, chatId = *chatId, userId](std::string err, bool member) {
            if (!err.empty())
                return ackError(ack, ErrorCode::Internal, "Could not check membership", context("room:join", userId));
            if (!member) return ackError(ack, ErrorCode::Forbidden, kNotMemberMessage, context("room:join", userId));
            if (!s->join("chat:" + chatId))
                return ackError(ack, ErrorCode::RateLimited, "Too many rooms joined on this connection",
                                context("room:join", userId));
            ackOk(ack);
        });
}

void ChatService::leaveRoom(const SocketPtr& s, const socketio::Event& e, socketio::Ack ack) {
    auto chatId = parseChatRef(e.args);
    if (!chatId) return ackError(ack, chatId.error().code, chatId.error().message, context("room:leave", userOf(s)));
    s->leave("chat:" + *chatId);
    ackOk(ack);
}

void ChatService::sendFromSocket(const SocketPtr& s, const socketio::Event& e, socketio::Ack ack) {
    const std::string userId = userOf(s);
    sendMessage(s->context(), userId, e.args.empty() ? nullptr : asObject(&e.args[0]), std::nullopt,
                [ack, userId](std::optional<Failure> failure, SendOutcome out) {
                    if (failure)
                        return ackError(ack, failure->code, failure->message,
                                        withCause(context("message:send", userId), failure->cause));
                    ackOk(ack, boost::json::object{{"clientId", out.message.clientId}, {"serverId", out.message.id}});
                });
}

// Fire-and-forget: invalid payloads and non-members are ignored without a word.
void ChatService::typing(const SocketPtr& s, const socketio::Event& e, const char* state) {
    auto chatId = parseChatRef(e.args);
    if (!chatId) return;
    const std::string userId = userOf(s);
    auto broadcast = [this, userId, state, chatId = *chatId] {
        nsp_.to("chat:" + chatId)
            .except("user:" + userId)
            .volatileFlag()
            .emit("typing:update",
                  boost::json::array{boost::json::object{{"chatId", chatId}, {"userId", userId}, {"state", state}}});
    };
    // In the room means membership was checked at room:join (and removal leaves it).
    if (s->inRoom("chat:" + *chatId)) return broadcast();
    store_.read<bool>(
        s->context(), [chatId = *chatId, userId](store::Store& st) { return st.isMember(chatId, userId); },
        [broadcast](std::string err, bool member) {
            if (err.empty() && member) broadcast();
        });
}

void ChatService::readReceipt(const SocketPtr& s, const socketio::Event& e, socketio::Ack ack) {
    const std::string userId = userOf(s);
    auto request = parseReceiptRequest(e.args);
    if (!request) return ackError(ack, request.error().code, request.error().message, context("receipt:read", userId));
    const std::string chatId = std::move(request->chatId);
    store_.write<ReceiptOutcome>(
        s->context(),
        [chatId, messageId = std::move(request->messageId), userId](store::Store& st) {
            return advanceReadCursor(st, chatId, messageId, userId);
        },
        [this, ack, chatId, userId](std::string err, ReceiptOutcome r) { answerReceipt(ack, chatId, userId, err, r); });
}

ChatService::ReceiptOutcome ChatService::advanceReadCursor(store::Store& st, const std::string& chatId,
                                                           const std::string& messageId, const std::string& userId) {
    ReceiptOutcome r;
    if (!st.isMember(chatId, userId)) {
        r.status = ReceiptStatus::Forbidden;
        return r;
    }
    auto message = st.findMessage(messageId);
    if (!message || message->chatId != chatId) {
        r.status = ReceiptStatus::NotFound;
        return r;
    }
    auto current = st.readCursor(chatId, userId);
    // The cursor only moves forward, by (createdAt, id).
    if (current && (current->messageCreatedAt > message->createdAt ||
                    (current->messageCreatedAt == message->createdAt && current->messageId >= message->id))) {
        r.status = ReceiptStatus::Unchanged;
        r.cursor = *current;
        return r;
    }
    r.cursor = store::ReadCursor{userId, message->id, message->createdAt, core::nowMs()};
    st.setReadCursor(chatId, r.cursor);
    return r;
}

void ChatService::answerReceipt(const socketio::Ack& ack, const std::string& chatId, const std::string& userId,
                                const std::string& err, const ReceiptOutcome& r) {
    if (!err.empty())
        return ackError(ack, ErrorCode::Internal, "Could not store the read cursor", context("receipt:read", userId));
    if (r.status == ReceiptStatus::Forbidden)
        return ackError(ack, ErrorCode::Forbidden, kNotMemberMessage, context("receipt:read", userId));
    if (r.status == ReceiptStatus::NotFound)
        return ackError(ack, ErrorCode::NotFound, "No such message in this chat", context("receipt:read", userId));
    const std::string readAt = core::isoTime(r.cursor.readAt);
    ackOk(ack, boost::json::object{{"readAt", readAt}});
    if (r.status == ReceiptStatus::Advanced)
        nsp_.to("chat:" + chatId)
            .emit("receipt:update",
                  boost::json::array{boost::json::object{
                      {"chatId", chatId}, {"messageId", r.cursor.messageId}, {"userId", userId}, {"readAt", readAt}}});
}

void ChatService::presencePing(const SocketPtr& s, const socketio::Event& e, socketio::Ack ack) {
    const std::string userId = userOf(s);
    if (auto ping = parsePresencePing(e.args); !ping)
        return ackError(ack, ping.error().code, ping.error().message, context("presence:ping", userId));
    const auto now = core::nowMs();
    // lastSeenAt is best effort: the ping is answered without waiting for the disk.
    store_.write<bool>(
        s->context(),
        [userId, now](store::Store& st) {
            st.touchLastSeen(userId, now);
            return true;
        },
        [](std::string, bool) {});
    ackOk(ack, boost::json::object{{"serverTime", core::isoTime(now)}});
}

} // namespace parley::chat
