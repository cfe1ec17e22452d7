#pragma once

#include "chat/ChatService.hpp"
#include "chat/LoginThrottle.hpp"
#include "chat/Metrics.hpp"
#include "http/Router.hpp"
#include "net/IoThreads.hpp"

#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::net {
class PeerLimits;
}

namespace parley::http {

struct RestCall;

struct RestConfig {
    std::string jwtSecret; // signs the JWT of /v1/auth/login (none: sessionToken only)
    std::string jwtIssuer; // copied into issued tokens when set
    std::string jwtAudience;
    std::chrono::seconds tokenTtl{std::chrono::hours(24)};        // login JWTs: a day, as typical web sessions
    std::chrono::seconds sessionTtl{std::chrono::hours(24 * 30)}; // opaque session tokens: 30 days
    chat::LoginLimits login;                                      // login attempts per address and per account
    // Logins waiting for or in password hashing (one Argon2id each, tens of ms on one thread);
    // past it a login is refused at once (429) rather than queued: 16 is about a second of work.
    std::size_t maxPendingLogins = 16;
    chat::Metrics* metrics = nullptr;       // counts hashes and refused logins when set
    const net::PeerLimits* peers = nullptr; // trusted proxies: whose client a login counts against
    // In a cluster: whether the node is connected to the cluster's Redis, reported by /readyz.
    // Informational: a node cut off from Redis still stores and acknowledges messages and
    // serves its own clients, and taking every node out when Redis restarts would be an outage.
    std::function<bool()> clusterConnected;
};

/// The REST API of DESIGN.md (/v1/...), plus /healthz and /readyz, on `router`.
/// Handlers run on the connection's io thread and call the chat service's operations (never the
/// store); password hashing runs on a worker thread of its own, never on an io thread
/// nor the store thread.
class RestApi {
public:
    RestApi(Router& router, chat::ChatService& chat, net::IoThreads& threads, RestConfig config);
    ~RestApi();

private:
    // A route's handler after its Call is made; an authenticated one also gets the user id the
    // bearer token resolved to.
    using Handler = void (RestApi::*)(const RestCall& call, const net::Request& req, const PathParams& params);
    using AuthedHandler = void (RestApi::*)(const RestCall& call, const std::string& userId, const net::Request& req,
                                            const PathParams& params);

    // Registers every route; the handlers below answer them.
    void install(Router& router);
    RouteHandler open(Handler handler);
    RouteHandler authed(AuthedHandler handler);
    // Health (RestApi.cpp)
    void healthz(const RestCall& call, const net::Request& req, const PathParams& params);
    void readyz(const RestCall& call, const net::Request& req, const PathParams& params);

    // Login and logout (RestAuth.cpp)
    void login(const RestCall& call, const net::Request& req, const PathParams& params);
    void refuseLogin(const RestCall& call, std::string_view message, std::int64_t retryAfterMs);
    void checkPassword(const RestCall& call, boost::asio::io_context& ctx, std::string email, std::string password,
                       std::optional<store::User> user);
    void startSession(const RestCall& call, boost::asio::io_context& ctx, const store::User& user);
    void logout(const RestCall& call, const std::string& userId, const net::Request& req, const PathParams& params);

    // Chats and their members (RestChats.cpp)
    void listChats(const RestCall& call, const std::string& userId, const net::Request& req, const PathParams& params);
    void createChat(const RestCall& call, const std::string& userId, const net::Request& req, const PathParams& params);
    void getChat(const RestCall& call, const std::string& userId, const net::Request& req, const PathParams& params);
    void renameChat(const RestCall& call, const std::string& userId, const net::Request& req, const PathParams& params);
    void addMember(const RestCall& call, const std::string& userId, const net::Request& req, const PathParams& params);
    void removeMember(const RestCall& call, const std::string& userId, const net::Request& req,
                      const PathParams& params);

    // Messages and read cursors (RestMessages.cpp)
    void listMessages(const RestCall& call, const std::string& userId, const net::Request& req,
                      const PathParams& params);
    void postMessage(const RestCall& call, const std::string& userId, const net::Request& req,
                     const PathParams& params);
    void listReadCursors(const RestCall& call, const std::string& userId, const net::Request& req,
                         const PathParams& params);

    chat::ChatService& chat_;
    const Router* router_ = nullptr; // CORS answers; outlives us
    net::IoThreads& threads_;
    RestConfig config_;
    chat::LoginThrottle loginThrottle_;
    // A hash of a random password with the same parameters as real ones: an unknown email is
    // verified against it, so that it costs the same work as a wrong password. Password pool only.
    std::string dummyHash_;
    std::atomic<std::size_t> pendingLogins_{0}; // admitted logins not yet past their hash
    boost::asio::thread_pool passwordPool_{1};  // Argon2id takes tens of ms: never on an io thread
};

} // namespace parley::http
