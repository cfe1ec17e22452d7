// HTTP requests as the server reads them off a connection: Beast's request parser with the
// limits of net::HttpConnection (up to a few pipelined requests per input), then what the
// router does with each one: Engine.IO requests through RequestInfo::parse, REST requests
// through route matching, the bearer token and the JSON body or query of the matched route.
#include "chat/Payloads.hpp"
#include "engineio/RequestInfo.hpp"
#include "engineio/codec/Payload.hpp"
#include "http/Router.hpp"
#include "net/HttpConnection.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <utility>

namespace bhttp = boost::beast::http;
namespace http = parley::http;
namespace chat = parley::chat;

namespace {

constexpr int kMaxRequestsPerInput = 4;
constexpr std::string_view kCreator = "5f1a2b3c4d5e6f7a8b9c0d1e";

void check(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
}

// The REST API's routes, as http/RestApi.cpp adds them. match() never calls a handler.
const http::Router& router() {
    static const http::Router r = [] {
        http::Router router;
        const http::RouteHandler none = [](auto&&...) {};
        for (const auto& [method, pattern] : {std::pair{bhttp::verb::get, "/healthz"},
                                              {bhttp::verb::get, "/readyz"},
                                              {bhttp::verb::post, "/v1/auth/login"},
                                              {bhttp::verb::get, "/v1/chats"},
                                              {bhttp::verb::post, "/v1/chats"},
                                              {bhttp::verb::get, "/v1/chats/:chatId"},
                                              {bhttp::verb::patch, "/v1/chats/:chatId"},
                                              {bhttp::verb::post, "/v1/chats/:chatId/members"},
                                              {bhttp::verb::delete_, "/v1/chats/:chatId/members/:userId"},
                                              {bhttp::verb::get, "/v1/chats/:chatId/messages"},
                                              {bhttp::verb::post, "/v1/chats/:chatId/messages"},
                                              {bhttp::verb::get, "/v1/chats/:chatId/read-cursors"}})
            router.add(method, pattern, none);
        return router;
    }();
    return r;
}

// What RestApi does with a request before any store or socket is involved.
void route(const parley::net::Request& req) {
    const std::string_view target = req.target();
    const std::string_view path = http::pathOf(target);
    check(path.size() <= target.size() && target.substr(0, path.size()) == path, "pathOf is a prefix");

    if (path.starts_with("/socket.io") || path.starts_with("/engine.io")) {
        auto info =
            parley::engineio::RequestInfo::parse(target, req.method(), boost::beast::websocket::is_upgrade(req));
        if (!info) return;
        check(info->isUpgrade == (info->transport == parley::engineio::TransportType::WebSocket),
              "an upgrade is exactly a websocket transport");
        // A polling POST carries packets: the session decodes its body.
        if (req.method() == bhttp::verb::post && !info->sid.empty())
            (void)parley::engineio::codec::decodePayload(req.body());
        return;
    }

    const auto found = router().match(req.method(), path);
    check(!found.handler || found.pathMatched, "a matched handler has a matched path");
    if (!found.handler) return;

    // The body of the matched route, as RestApi reads it.
    const auto body = chat::parseJsonObject(req.body());
    const boost::json::object* object = body ? &*body : nullptr;
    switch (req.method()) {
    case bhttp::verb::post:
        if (path == "/v1/auth/login") {
            (void)chat::parseLoginRequest(object);
        } else if (path == "/v1/chats") {
            (void)chat::parseNewChatRequest(object, std::string(kCreator));
        } else if (found.params.size() == 1 && path.ends_with("/members")) {
            (void)chat::parseNewMember(object);
        } else if (found.params.size() == 1) {
            (void)chat::parseSendRequest(object, std::string_view(found.params[0]));
        }
        break;
    case bhttp::verb::patch: (void)chat::parseTitleUpdate(object); break;
    case bhttp::verb::get:
        if (path.ends_with("/messages")) (void)chat::parseHistoryQuery(target);
        break;
    default: break;
    }
    for (const auto& p : found.params) check(p.find('/') == std::string::npos, "a path parameter is one segment");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    // One connection's bytes: requests one after another, as HttpConnection reads them.
    for (int n = 0; n < kMaxRequestsPerInput && !rest.empty(); ++n) {
        bhttp::request_parser<bhttp::string_body> parser;
        const parley::net::HttpLimits limits;
        parser.header_limit(limits.headerLimit);
        parser.body_limit(limits.bodyLimit);
        parser.eager(true);
        boost::system::error_code ec;
        while (!parser.is_done() && !rest.empty()) {
            const std::size_t used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
            check(used <= rest.size(), "the parser consumes at most what it was given");
            rest.remove_prefix(used);
            if (ec == bhttp::error::need_more) {
                if (used == 0) break; // incomplete: the connection would wait for more bytes
                ec = {};
                continue;
            }
            if (ec) return 0; // the connection answers 400/413/431 and closes
        }
        // The peer closed its side: a request without a length ends here.
        if (!parser.is_done()) {
            if (!rest.empty()) return 0;
            parser.put_eof(ec);
            if (ec || !parser.is_done()) return 0;
        }
        route(parser.get());
        if (!parser.keep_alive()) return 0;
    }
    return 0;
}
