#include "http/RestApi.hpp"

#include "auth/PasswordHash.hpp"
#include "auth/SessionTokens.hpp"
#include "core/ObjectId.hpp"
#include "http/RestCall.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>

namespace parley::http {

namespace bhttp = boost::beast::http;
using chat::ErrorCode;

RestApi::RestApi(Router& router, chat::ChatService& chat, net::IoThreads& threads, RestConfig config)
    : chat_(chat), threads_(threads), config_(std::move(config)), loginThrottle_(config_.login) {
    // The dummy hash costs one Argon2id (tens of ms): made on the password pool, which is where
    // it is read and which runs its jobs in order, so start-up does not wait for it and the
    // first login finds it made.
    boost::asio::post(passwordPool_, [this] { dummyHash_ = auth::hashPassword(auth::newSessionToken()); });
    install(router);
}

RestApi::~RestApi() { passwordPool_.join(); }

void RestApi::install(Router& router) {
    router_ = &router;
    router.allowCors("/v1/");
    using bhttp::verb;
    router.add(verb::get, "/healthz", open(&RestApi::healthz));
    router.add(verb::get, "/readyz", open(&RestApi::readyz));

    router.add(verb::post, "/v1/auth/login", open(&RestApi::login));
    router.add(verb::post, "/v1/auth/logout", authed(&RestApi::logout));

    router.add(verb::get, "/v1/chats", authed(&RestApi::listChats));
    router.add(verb::post, "/v1/chats", authed(&RestApi::createChat));
    router.add(verb::get, "/v1/chats/:chatId", authed(&RestApi::getChat));
    router.add(verb::patch, "/v1/chats/:chatId", authed(&RestApi::renameChat));
    router.add(verb::post, "/v1/chats/:chatId/members", authed(&RestApi::addMember));
    router.add(verb::delete_, "/v1/chats/:chatId/members/:userId", authed(&RestApi::removeMember));

    router.add(verb::get, "/v1/chats/:chatId/messages", authed(&RestApi::listMessages));
    router.add(verb::post, "/v1/chats/:chatId/messages", authed(&RestApi::postMessage));
    router.add(verb::get, "/v1/chats/:chatId/read-cursors", authed(&RestApi::listReadCursors));
}

RouteHandler RestApi::open(Handler handler) {
    return [this, handler](const std::shared_ptr<net::HttpConnection>& conn, net::Request&& req, PathParams&& params) {
        (this->*handler)(RestCall(conn, req, router_->cors(req)), req, params);
    };
}

// Resolves the bearer token first; the request waits for it in a shared copy.
RouteHandler RestApi::authed(AuthedHandler handler) {
    return [this, handler](const std::shared_ptr<net::HttpConnection>& conn, net::Request&& req, PathParams&& params) {
        RestCall call(conn, req, router_->cors(req));
        auto request = std::make_shared<net::Request>(std::move(req));
        chat_.authenticate(here(threads_), bearerOf(*request),
                           [this, handler, call = std::move(call), request,
                            params = std::move(params)](std::optional<std::string> userId, chat::Failure failure) {
                               if (!userId) return call.fail(failure.code, failure.message, failure.cause);
                               (this->*handler)(call, *userId, *request, params);
                           });
    };
}

// ---------------------------------------------------------------------------------------------
// Health
// ---------------------------------------------------------------------------------------------

void RestApi::healthz(const RestCall& call, const net::Request&, const PathParams&) {
    call.ok(boost::json::object{{"status", "ok"}});
}

// Ready when the store answers and the process is not draining.
void RestApi::readyz(const RestCall& call, const net::Request&, const PathParams&) {
    // 503 at once: a balancer that checks health stops sending new connections here.
    if (chat_.draining())
        return call.reply(bhttp::status::service_unavailable, boost::json::object{{"status", "draining"}});
    chat_.checkReady(here(threads_), [call, cluster = config_.clusterConnected](chat::Outcome<void> ready) {
        // 503: a load balancer takes the node out of rotation until the store is back.
        if (!ready)
            return call.reply(bhttp::status::service_unavailable,
                              chat::errorReply(ErrorCode::Internal, ready.error().message,
                                               call.context + " (" + ready.error().cause + ")"));
        boost::json::object status{{"status", "ready"}};
        if (cluster) status["cluster"] = cluster() ? "connected" : "disconnected";
        call.ok(std::move(status));
    });
}

} // namespace parley::http
