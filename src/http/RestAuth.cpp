// POST /v1/auth/login and POST /v1/auth/logout.
//
// Every admitted login costs one Argon2id verification on passwordPool_, unknown emails too
// (against dummyHash_), and gets the same answer for an unknown email as for a wrong password.
// Before any work, a login is refused with 429 RATE_LIMITED when its address or account is over
// its limit (LoginThrottle) or when maxPendingLogins are already queued.

#include "http/RestApi.hpp"

#include "auth/Jwt.hpp"
#include "auth/PasswordHash.hpp"
#include "auth/SessionTokens.hpp"
#include "chat/Payloads.hpp"
#include "core/Time.hpp"
#include "http/RestCall.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>

namespace parley::http {

using chat::ErrorCode;

namespace {

// How long a login refused for a full hash queue is told to wait: about what the queue takes.
constexpr std::int64_t kBusyRetryAfterMs = 1000;

// The key of a client address for the login limit: an IPv4 address, or the /64 of an IPv6 one
// (what one household or host is given, so rotating within it gains nothing).
std::string loginAddressKey(const boost::asio::ip::address& ip) {
    if (ip.is_v4()) return ip.to_string();
    const auto v6 = ip.to_v6();
    if (v6.is_v4_mapped()) return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
    auto bytes = v6.to_bytes();
    std::fill(bytes.begin() + 8, bytes.end(), 0);
    return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

} // namespace

// Admits the login (or refuses it), then looks the account up; checkPassword() goes on.
void RestApi::login(const RestCall& call, const net::Request& req, const PathParams&) {
    auto login = chat::parseLoginRequest(objectOrNull(parseBody(req)));
    if (!login) return call.fail(login.error().code, login.error().message);
    if (pendingLogins_.fetch_add(1, std::memory_order_relaxed) >= config_.maxPendingLogins) {
        pendingLogins_.fetch_sub(1, std::memory_order_relaxed);
        return refuseLogin(call, "Server busy, try again shortly", kBusyRetryAfterMs);
    }
    // Behind a trusted proxy, the client it forwards for is the address that counts.
    const auto client = net::clientAddress(config_.peers, call.conn->remoteIp(), req);
    const auto verdict = loginThrottle_.admit(loginAddressKey(client), login->email, core::nowMs());
    if (!verdict) {
        pendingLogins_.fetch_sub(1, std::memory_order_relaxed);
        return refuseLogin(call,
                           verdict.refusal == chat::LoginThrottle::Refusal::Address
                               ? "Too many login attempts from this address, try again later"
                               : "Too many failed login attempts for this account, try again later",
                           verdict.retryAfterMs);
    }
    auto& ctx = here(threads_);
    chat_.findAccount(ctx, login->email,
                      [this, call, &ctx, email = login->email,
                       password = std::move(login->password)](chat::Outcome<std::optional<store::User>> user) mutable {
                          if (!user) {
                              pendingLogins_.fetch_sub(1, std::memory_order_relaxed);
                              return call.fail(user.error().code, user.error().message, user.error().cause);
                          }
                          checkPassword(call, ctx, std::move(email), std::move(password), std::move(*user));
                      });
}

void RestApi::refuseLogin(const RestCall& call, std::string_view message, std::int64_t retryAfterMs) {
    if (config_.metrics) config_.metrics->loginsRefused.fetch_add(1, std::memory_order_relaxed);
    call.rateLimited(message, retryAfterMs);
}

// On the password pool: one Argon2id verification, against dummyHash_ for an unknown email.
// The answer goes back to the request's io thread (`ctx`).
void RestApi::checkPassword(const RestCall& call, boost::asio::io_context& ctx, std::string email, std::string password,
                            std::optional<store::User> user) {
    boost::asio::post(passwordPool_, [this, call, &ctx, email = std::move(email), password = std::move(password),
                                      user = std::move(user)] {
        const bool matches = auth::verifyPassword(user ? user->passwordHash : dummyHash_, password);
        const bool good = user && matches;
        if (config_.metrics) config_.metrics->passwordHashes.fetch_add(1, std::memory_order_relaxed);
        pendingLogins_.fetch_sub(1, std::memory_order_relaxed);
        boost::asio::post(ctx, [this, call, &ctx, good, email, user] {
            if (!good) return call.fail(ErrorCode::Unauthorized, "Wrong email or password");
            loginThrottle_.succeeded(email);
            startSession(call, ctx, *user);
        });
    });
}

// Stores a new session for `user`, then answers with its token (and a JWT when a secret is set).
void RestApi::startSession(const RestCall& call, boost::asio::io_context& ctx, const store::User& user) {
    const std::string sessionToken = auth::newSessionToken();
    const auto now = core::nowMs();
    store::SessionRow row{auth::hashSessionToken(sessionToken), user.id, now,
                          now + std::chrono::duration_cast<std::chrono::milliseconds>(config_.sessionTtl).count()};
    chat_.startSession(ctx, std::move(row), [this, call, user, sessionToken](chat::Outcome<void> started) {
        if (!started) return call.fail(started.error().code, started.error().message, started.error().cause);
        boost::json::value token = nullptr;
        if (!config_.jwtSecret.empty())
            token = auth::signJwt(config_.jwtSecret, user.id, config_.tokenTtl, config_.jwtIssuer, config_.jwtAudience);
        call.ok(boost::json::object{
            {"token", token},
            {"sessionToken", sessionToken},
            {"user", boost::json::object{{"_id", user.id}, {"email", user.email}, {"displayName", user.displayName}}}});
    });
}

// Deletes the session of the bearer session token, and disconnects every socket that connected
// with it. A JWT cannot be revoked here (it is stateless and expires on its own).
void RestApi::logout(const RestCall& call, const std::string&, const net::Request& req, const PathParams&) {
    const std::string token = bearerOf(req);
    if (!auth::looksLikeSessionToken(token))
        return call.fail(ErrorCode::ValidationError, "Only a session token can be logged out");
    chat_.endSession(here(threads_), auth::hashSessionToken(token), [call](chat::Outcome<void> ended) {
        if (!ended) return call.fail(ended.error().code, ended.error().message, ended.error().cause);
        call.ok(boost::json::object{});
    });
}

} // namespace parley::http
