// Tokens, logins and sessions.

#include "chat/ChatService.hpp"

#include "auth/SessionTokens.hpp"
#include "chat/StoreFailure.hpp"
#include "core/Time.hpp"

namespace parley::chat {

void ChatService::authenticate(boost::asio::io_context& ctx, std::string token,
                               std::function<void(std::optional<std::string>, std::string)> done) {
    if (token.empty()) return done(std::nullopt, "Missing token");
    if (auth::looksLikeJwt(token)) {
        auto claims = jwt_.verify(token);
        if (!claims) return done(std::nullopt, "Invalid token: " + claims.error().message());
        return done(claims->subject, {});
    }
    if (!auth::looksLikeSessionToken(token)) return done(std::nullopt, "Invalid token");
    store_.findSession(ctx, auth::hashSessionToken(token),
                       [done = std::move(done)](store::Result<store::SessionRow> session) {
                           if (!session && session.error() == store::Errc::NotFound)
                               return done(std::nullopt, "Unknown session");
                           if (!session) return done(std::nullopt, "Session lookup failed");
                           if (session->expiresAt <= core::nowMs()) return done(std::nullopt, "Session expired");
                           done(session->userId, {});
                       });
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
