// Tokens, logins and sessions.

#include "chat/ChatService.hpp"

#include "auth/SessionTokens.hpp"
#include "chat/SocketUser.hpp"
#include "chat/StoreFailure.hpp"
#include "core/Time.hpp"

#include <boost/json/array.hpp>

namespace parley::chat {

namespace {

constexpr std::string_view kExpiredEvent = "auth:expired";

void ackRenewError(const socketio::Ack& ack, ErrorCode code, std::string_view message, const std::string& userId) {
    ack.send(boost::json::array{errorReply(code, message, "auth:renew user=" + userId)});
}

// The session room a socket is in, if any (it holds at most one: that of its token).
const std::string* sessionRoomOf(const socketio::Socket& s) {
    for (const auto& room : s.rooms())
        if (room.starts_with("session:")) return &room;
    return nullptr;
}

} // namespace

template <class Done>
void ChatService::resolveToken(boost::asio::io_context& ctx, std::string token, Done done) {
    auto refused = [](std::string reason) { return Failure{ErrorCode::Unauthorized, std::move(reason)}; };
    if (token.empty()) return done(std::nullopt, refused("Missing token"));
    if (auth::looksLikeJwt(token)) {
        auto claims = jwt_.verify(token);
        if (!claims) return done(std::nullopt, refused("Invalid token: " + claims.error().message()));
        const std::int64_t validUntil = jwt_.validUntilMs(*claims);
        return done(Identity{std::move(claims->subject), validUntil}, Failure{});
    }
    if (!auth::looksLikeSessionToken(token)) return done(std::nullopt, refused("Invalid token"));
    store_.findSession(ctx, auth::hashSessionToken(token),
                       [done = std::move(done), refused](store::Result<store::SessionRow> session) mutable {
                           if (!session && session.error() == store::Errc::NotFound)
                               return done(std::nullopt, refused("Unknown session"));
                           if (!session)
                               return done(std::nullopt,
                                           Failure{ErrorCode::Internal, "The session could not be looked up: try again",
                                                   session.error().message()});
                           if (session->expiresAt <= core::nowMs())
                               return done(std::nullopt, refused("Session expired"));
                           // expiresAt is the first ms at which the lookup above refuses it.
                           done(Identity{std::move(session->userId), session->expiresAt}, Failure{});
                       });
}

void ChatService::authenticate(boost::asio::io_context& ctx, std::string token,
                               std::function<void(std::optional<std::string>, Failure)> done) {
    resolveToken(ctx, std::move(token), [done = std::move(done)](std::optional<Identity> identity, Failure failure) {
        if (!identity) return done(std::nullopt, std::move(failure));
        done(std::move(identity->userId), std::move(failure));
    });
}

// ---------------------------------------------------------------------------------------------
// A socket's token: CONNECT, expiry, auth:renew
// ---------------------------------------------------------------------------------------------

void ChatService::authenticateSocket(const SocketPtr& socket, socketio::Next next) {
    auto token = handshakeToken(socket->auth(), socket->handshake().url);
    resolveToken(socket->context(), token.value_or(""),
                 [this, socket, next = std::move(next)](std::optional<Identity> identity, Failure failure) {
                     if (!identity) {
                         std::string context = "connect from " + socket->handshake().remoteAddress;
                         if (!failure.cause.empty()) context += " (" + failure.cause + ")";
                         auto reply = errorReply(failure.code, failure.message, context);
                         return next(socketio::ConnectError{std::string(toString(failure.code)), std::move(reply)});
                     }
                     socket->data()["userId"] = identity->userId;
                     // Read once by onTokenConnected(); only a token that expires has it.
                     if (identity->validUntilMs) socket->data()["tokenValidUntil"] = identity->validUntilMs;
                     if (recovery_) return recovery_->admit(socket, identity->userId, next);
                     next(std::nullopt);
                 });
}

void ChatService::onTokenConnected(const SocketPtr& socket) {
    if (auto token = handshakeToken(socket->auth(), socket->handshake().url);
        token && auth::looksLikeSessionToken(*token))
        socket->joinUncounted(sessionRoom(auth::hashSessionToken(*token)));
    if (const auto* until = socket->data().if_contains("tokenValidUntil"); until && until->is_int64())
        armExpiry(socket, until->get_int64());
}

SocketTokens& ChatService::tokensHere() { return *socketTokens_[net::IoThreads::ownIndex(threads_)]; }

SocketBudgets& ChatService::budgetsHere() { return *socketBudgets_[net::IoThreads::ownIndex(threads_)]; }

void ChatService::armExpiry(const SocketPtr& s, std::int64_t validUntilMs) {
    tokensHere().arm(s.get(), validUntilMs, [this, weak = std::weak_ptr<socketio::Socket>(s)] {
        if (auto socket = weak.lock()) expireSocket(socket, "token expired");
    });
}

// The event goes out before the DISCONNECT packet on the same connection, so the client reads
// it first; a server-side disconnect is one socket.io-client does not reconnect after.
void ChatService::expireSocket(const SocketPtr& s, std::string_view message) {
    if (!s->connected()) return;
    const std::string userId = userOf(s);
    s->emit(kExpiredEvent, boost::json::array{errorReply(ErrorCode::Unauthorized, message,
                                                         std::string(kExpiredEvent) + " user=" + userId)});
    s->disconnect(true);
}

void ChatService::renewToken(const SocketPtr& s, const socketio::Event& e, socketio::Ack ack) {
    const std::string userId = userOf(s);
    auto token = parseRenewRequest(e.args);
    if (!token) return ackRenewError(ack, token.error().code, token.error().message, userId);
    switch (tokensHere().beginRenewal(s.get(), core::nowMs(), config_.renewLimit)) {
    case SocketTokens::Renewal::Busy:
        return ackRenewError(ack, ErrorCode::RateLimited, "A token renewal is already in progress", userId);
    case SocketTokens::Renewal::OverBudget:
        return ackRenewError(ack, ErrorCode::RateLimited, "Too many token renewals on this connection", userId);
    case SocketTokens::Renewal::Started: break;
    }
    std::string copy = *token;
    resolveToken(s->context(), std::move(copy),
                 [this, weak = std::weak_ptr<socketio::Socket>(s), ack = std::move(ack), userId,
                  token = std::move(*token)](std::optional<Identity> identity, const Failure& failure) {
                     auto socket = weak.lock();
                     // A socket that disconnected meanwhile has no token state left to end.
                     if (!socket || !socket->connected()) return;
                     tokensHere().endRenewal(socket.get());
                     if (!identity) return ackRenewError(ack, failure.code, failure.message, userId);
                     if (identity->userId != userId)
                         return ackRenewError(ack, ErrorCode::Forbidden, "The token is for another user", userId);
                     if (!adoptToken(socket, token, identity->validUntilMs))
                         return ackRenewError(ack, ErrorCode::RateLimited, "Too many rooms joined on this connection",
                                              userId);
                     boost::json::object data{{"expiresAt", nullptr}};
                     if (identity->validUntilMs) data["expiresAt"] = core::isoTime(identity->validUntilMs);
                     ack.send(boost::json::array{boost::json::object{{"ok", true}, {"data", std::move(data)}}});
                 });
}

// The session room follows the token, so that a logout reaches exactly the sockets that hold
// that session now; a renewal to a JWT leaves the socket out of every session room.
bool ChatService::adoptToken(const SocketPtr& s, const std::string& token, std::int64_t validUntilMs) {
    std::string room;
    if (auth::looksLikeSessionToken(token)) room = sessionRoom(auth::hashSessionToken(token));
    // Joined before the old room is left (false only for a socket gone).
    if (!room.empty() && !s->inRoom(room) && !s->joinUncounted(room)) return false;
    if (const std::string* old = sessionRoomOf(*s); old && *old != room) s->leave(std::string(*old));
    if (validUntilMs)
        s->data()["tokenValidUntil"] = validUntilMs;
    else
        s->data().erase("tokenValidUntil");
    armExpiry(s, validUntilMs);
    return true;
}

void ChatService::findAccount(boost::asio::io_context& ctx, std::string email, Reply<std::optional<store::User>> done) {
    store_.findUserByEmail(ctx, std::move(email), [done = std::move(done)](store::Result<store::User> user) {
        if (user) return done(std::optional<store::User>(std::move(*user)));
        if (user.error() == store::Errc::NotFound) return done(std::optional<store::User>());
        done(storeFailure(user.error()));
    });
}

void ChatService::startSession(boost::asio::io_context& ctx, store::SessionRow session, Reply<void> done) {
    store_.createSession(ctx, std::move(session), [done = std::move(done)](store::Result<void> stored) {
        if (!stored) return done(storeFailure(stored.error()));
        done({});
    });
}

void ChatService::endSession(boost::asio::io_context& ctx, std::string tokenHash, Reply<void> done) {
    store_.deleteSession(ctx, tokenHash, [this, hash = tokenHash, done = std::move(done)](store::Result<void> deleted) {
        if (!deleted && deleted.error() == store::Errc::NotFound)
            return done(Failure{ErrorCode::Unauthorized, "Unknown session"});
        if (!deleted) return done(storeFailure(deleted.error()));
        // Both go through the adapter in this order, to every node: auth:expired, then the
        // disconnect (a server-side one, so socket.io-client does not reconnect).
        const auto reply =
            errorReply(ErrorCode::Unauthorized, "session ended by logout", std::string(kExpiredEvent) + " session");
        nsp_.to(sessionRoom(hash)).emit(kExpiredEvent, boost::json::array{reply});
        nsp_.to(sessionRoom(hash)).disconnectSockets(true);
        done({});
    });
}

void ChatService::checkReady(boost::asio::io_context& ctx, Reply<void> done) {
    store_.ping(ctx, [done = std::move(done)](store::Result<void> answered) {
        if (!answered) return done(Failure{ErrorCode::Internal, "store unavailable", answered.error().message()});
        done({});
    });
}

} // namespace parley::chat
