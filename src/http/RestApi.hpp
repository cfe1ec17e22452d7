#pragma once

#include "chat/ChatService.hpp"
#include "http/Router.hpp"
#include "net/IoThreads.hpp"

#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace parley::http {

struct RestConfig {
    std::string jwtSecret;                              // signs the JWT of /v1/auth/login (none: sessionToken only)
    std::string jwtIssuer;                              // copied into issued tokens when set
    std::string jwtAudience;
    std::chrono::seconds tokenTtl{std::chrono::hours(24)};      // login JWTs: a day, as typical web sessions
    std::chrono::seconds sessionTtl{std::chrono::hours(24 * 30)}; // opaque session tokens: 30 days
};

/// The REST API of DESIGN.md (/v1/...), plus /healthz and /readyz, on `router`.
/// Handlers run on the connection's io thread; store work goes through the chat service's
/// StoreExecutor; password hashing runs on a worker thread of its own.
class RestApi {
public:
    RestApi(Router& router, chat::ChatService& chat, net::IoThreads& threads, RestConfig config);
    ~RestApi();

private:
    void install(Router& router);

    chat::ChatService& chat_;
    net::IoThreads& threads_;
    RestConfig config_;
    boost::asio::thread_pool passwordPool_{1}; // Argon2id takes tens of ms: never on an io thread
};

} // namespace parley::http
