#include "http/Router.hpp"

#include "HttpRequest.hpp"
#include "support/LoopbackServer.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

// http::Router: route matching (pure, Router::match), and the answers a real Listener on a
// loopback port gives through it: a handler's response with its path parameters, 404 and 405
// in the JSON error envelope, CORS preflight per setCorsOrigins, and Engine.IO's prefix.

namespace {

using namespace parley;
using testsupport::LoopbackServer;
namespace bhttp = boost::beast::http;

using http::test::request;

// A handler that answers `name` and its path parameters: "chats:abc,def".
http::RouteHandler answer(std::string name) {
    return [name = std::move(name)](const std::shared_ptr<net::HttpConnection>& conn, net::Request&& req,
                                    http::PathParams&& params) {
        std::string body = name + ":";
        for (std::size_t i = 0; i < params.size(); ++i) body += (i ? "," : "") + params[i];
        net::Response res{bhttp::status::ok, req.version()};
        res.set(bhttp::field::content_type, "text/plain");
        res.set("X-Method", std::string(req.method_string()));
        res.body() = std::move(body);
        conn->respond(std::move(res));
    };
}

void addChatRoutes(http::Router& router) {
    router.add(bhttp::verb::get, "/v1/chats", answer("list"));
    router.add(bhttp::verb::post, "/v1/chats", answer("create"));
    router.add(bhttp::verb::get, "/v1/chats/:chatId", answer("chat"));
    router.add(bhttp::verb::get, "/v1/chats/:chatId/messages/:messageId", answer("message"));
    router.add(bhttp::verb::delete_, "/v1/chats/:chatId", answer("delete"));
}

// =====================================================================================================
// Router::match
// =====================================================================================================

TEST(RouterTest, MatchesByMethodAndEverySegmentOfThePath) {
    http::Router router;
    addChatRoutes(router);

    auto list = router.match(bhttp::verb::get, "/v1/chats");
    ASSERT_NE(list.handler, nullptr);
    EXPECT_TRUE(list.params.empty());
    EXPECT_TRUE(list.pathMatched);

    auto message = router.match(bhttp::verb::get, "/v1/chats/abc/messages/42");
    ASSERT_NE(message.handler, nullptr);
    EXPECT_EQ(message.params, (http::PathParams{"abc", "42"}));

    // The same path under another method is another route.
    EXPECT_NE(router.match(bhttp::verb::post, "/v1/chats").handler, list.handler);
    EXPECT_NE(router.match(bhttp::verb::delete_, "/v1/chats/abc").handler, nullptr);
}

TEST(RouterTest, AKnownPathUnderAnotherMethodIsTold) {
    http::Router router;
    addChatRoutes(router);

    auto wrongMethod = router.match(bhttp::verb::patch, "/v1/chats/abc");
    EXPECT_EQ(wrongMethod.handler, nullptr);
    EXPECT_TRUE(wrongMethod.pathMatched);

    for (const char* path : {"/v1/chat", "/v1/chats/abc/messages", "/v1/chats/abc/messages/1/more", "/", ""}) {
        auto none = router.match(bhttp::verb::get, path);
        EXPECT_EQ(none.handler, nullptr) << path;
        EXPECT_FALSE(none.pathMatched) << path;
    }
}

TEST(RouterTest, EmptySegmentsAreNotCounted) {
    http::Router router;
    addChatRoutes(router);
    auto m = router.match(bhttp::verb::get, "//v1//chats/abc/");
    ASSERT_NE(m.handler, nullptr);
    EXPECT_EQ(m.params, (http::PathParams{"abc"}));
}

// =====================================================================================================
// Router::cors
// =====================================================================================================

net::Request withOrigin(const char* origin) {
    net::Request req{bhttp::verb::get, "/v1/chats", 11};
    if (origin) req.set(bhttp::field::origin, origin);
    return req;
}

TEST(RouterTest, WithoutAnAllowListEveryOriginIsAllowed) {
    http::Router router;
    for (const char* origin : {"https://app.example", static_cast<const char*>(nullptr)}) {
        const auto h = router.cors(withOrigin(origin));
        EXPECT_EQ(h.allowOrigin, "*");
        EXPECT_FALSE(h.varyOrigin);
    }
}

TEST(RouterTest, WithAnAllowListOnlyListedOriginsAreEchoed) {
    http::Router router;
    router.setCorsOrigins({"https://app.example", "https://admin.example"});
    EXPECT_EQ(router.cors(withOrigin("https://admin.example")).allowOrigin, "https://admin.example");
    EXPECT_EQ(router.cors(withOrigin("https://evil.example")).allowOrigin, "");
    EXPECT_EQ(router.cors(withOrigin(nullptr)).allowOrigin, "");
    EXPECT_TRUE(router.cors(withOrigin("https://evil.example")).varyOrigin);

    net::Response res;
    router.cors(withOrigin("https://app.example")).apply(res);
    EXPECT_EQ(res[bhttp::field::access_control_allow_origin], "https://app.example");
    EXPECT_EQ(res[bhttp::field::vary], "Origin");
}

// =====================================================================================================
// Requests through a Listener
// =====================================================================================================

TEST(RouterTest, AMatchedRouteAnswersWithItsHandlersResponse) {
    LoopbackServer server;
    addChatRoutes(server.router());
    const unsigned short port = server.start();

    auto res = request(port, bhttp::verb::get, "/v1/chats/abc/messages/42?limit=5");
    EXPECT_EQ(res.result(), bhttp::status::ok);
    EXPECT_EQ(res.body(), "message:abc,42") << "the query is not part of the path";
    EXPECT_EQ(res[bhttp::field::content_type], "text/plain");

    res = request(port, bhttp::verb::post, "/v1/chats", {{bhttp::field::content_type, "application/json"}}, "{}");
    EXPECT_EQ(res.body(), "create:");
    EXPECT_EQ(res["X-Method"], "POST");
}

TEST(RouterTest, AnUnknownPathIs404AndAKnownOneUnderAnotherMethod405) {
    LoopbackServer server;
    addChatRoutes(server.router());
    const unsigned short port = server.start();

    auto res = request(port, bhttp::verb::get, "/v1/nothing");
    EXPECT_EQ(res.result(), bhttp::status::not_found);
    EXPECT_EQ(res[bhttp::field::content_type], "application/json");
    auto body = boost::json::parse(res.body()).as_object();
    EXPECT_EQ(body.at("ok"), false);
    EXPECT_EQ(body.at("error"), "NOT_FOUND");
    EXPECT_EQ(body.at("message"), "No such route");
    EXPECT_TRUE(body.contains("correlationId"));

    res = request(port, bhttp::verb::put, "/v1/chats/abc");
    EXPECT_EQ(res.result(), bhttp::status::method_not_allowed);
    body = boost::json::parse(res.body()).as_object();
    EXPECT_EQ(body.at("message"), "Method not allowed");
}

TEST(RouterTest, APreflightUnderACorsPrefixIsAnsweredPerTheAllowList) {
    LoopbackServer server;
    addChatRoutes(server.router());
    server.router().allowCors("/v1/");
    server.router().setCorsOrigins({"https://app.example"});
    const unsigned short port = server.start();

    auto res = request(port, bhttp::verb::options, "/v1/chats/abc", {{bhttp::field::origin, "https://app.example"}});
    EXPECT_EQ(res.result(), bhttp::status::no_content);
    EXPECT_EQ(res[bhttp::field::access_control_allow_origin], "https://app.example");
    EXPECT_EQ(res[bhttp::field::vary], "Origin");
    EXPECT_EQ(res[bhttp::field::access_control_allow_methods], "GET,POST,PATCH,DELETE,OPTIONS");
    EXPECT_EQ(res[bhttp::field::access_control_allow_headers], "Authorization,Content-Type");

    res = request(port, bhttp::verb::options, "/v1/chats", {{bhttp::field::origin, "https://evil.example"}});
    EXPECT_EQ(res.result(), bhttp::status::no_content);
    EXPECT_EQ(res.count(bhttp::field::access_control_allow_origin), 0u) << "a browser will refuse the call";
    EXPECT_EQ(res[bhttp::field::vary], "Origin");

    // Outside every CORS prefix, OPTIONS is routed like any method: no route has it.
    res = request(port, bhttp::verb::options, "/other", {{bhttp::field::origin, "https://app.example"}});
    EXPECT_EQ(res.result(), bhttp::status::not_found);
}

TEST(RouterTest, TheEngineIoPrefixGoesToTheMountedEngine) {
    LoopbackServer server;
    server.io().of("/");
    addChatRoutes(server.router());
    const unsigned short port = server.start();

    auto res = request(port, bhttp::verb::get, "/socket.io/?EIO=4&transport=polling");
    EXPECT_EQ(res.result(), bhttp::status::ok);
    EXPECT_TRUE(res.body().starts_with(R"(0{"sid":")")) << res.body();

    // Engine.IO's own error answer, not the router's 404.
    res = request(port, bhttp::verb::get, "/socket.io/?EIO=4&transport=carrier-pigeon");
    EXPECT_EQ(res.result(), bhttp::status::bad_request);
    EXPECT_EQ(res.body(), R"({"code":0,"message":"Transport unknown"})");
}

} // namespace
