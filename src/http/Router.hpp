#pragma once

#include "engineio/Server.hpp"
#include "net/HttpConnection.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace parley::http {

/// Values of the `:name` segments of the matched pattern, in order.
using PathParams = std::vector<std::string>;
using RouteHandler = std::function<void(const std::shared_ptr<net::HttpConnection>&, net::Request&&, PathParams&&)>;

/// The CORS headers of one REST answer, decided from its request's Origin (Router::cors).
struct CorsHeaders {
    std::string allowOrigin; ///< Access-Control-Allow-Origin; empty: none (the origin is not allowed)
    bool varyOrigin = false; ///< the answer depends on Origin (an allow-list is set)
    void apply(net::Response& res) const;
};

/// Routes each request: Engine.IO endpoints by path prefix, other handlers by method and
/// exact path, then GET and HEAD to the fallback if one is set, everything else 404 in the
/// JSON error envelope.
class Router : public net::HttpHandler {
public:
    /// Hands every request under `server.config().path` to `server`, except those of a route
    /// added below that prefix (the client bundle, /socket.io/socket.io.min.js, as socket.io's
    /// serveClient answers it before its engine).
    void mount(engineio::Server& server) { engines_.push_back(&server); }
    /// `pattern` is a path whose segments may be `:name` placeholders ("/v1/chats/:chatId").
    void add(boost::beast::http::verb method, std::string pattern, RouteHandler handler);
    /// Answers the GET and HEAD requests whose path no route and no engine has (the web
    /// client's files), in place of the 404. Its PathParams are empty.
    void setFallback(RouteHandler handler) { fallback_ = std::move(handler); }
    /// Answers OPTIONS (CORS preflight) for every path under `prefix`.
    void allowCors(std::string prefix) { corsPrefixes_.push_back(std::move(prefix)); }
    /// The origins REST answers are shown to (set before serving). Empty: any ("*"); else only
    /// these, each echoed back to itself with `Vary: Origin`, and other origins get no
    /// Access-Control-Allow-Origin at all. A request without Origin (not a browser) is answered
    /// as usual either way: CORS only tells browsers what a page may read.
    void setCorsOrigins(std::vector<std::string> origins) { corsOrigins_ = std::move(origins); }
    CorsHeaders cors(const net::Request& req) const;

    /// What a method and path (query excluded) resolve to among the added routes: the handler
    /// (null if none) with its path parameters, and whether some route had this path at all
    /// (405 rather than 404). Pure: fuzzed by fuzz/http.cpp.
    struct Match {
        const RouteHandler* handler = nullptr;
        PathParams params;
        bool pathMatched = false;
    };
    Match match(boost::beast::http::verb method, std::string_view path) const;

    void onRequest(const std::shared_ptr<net::HttpConnection>& conn, net::Request&& req) override;
    std::optional<net::Response> onOversizedRequest(const net::Request& header) override;

private:
    engineio::Server* engineFor(std::string_view path) const;

    struct Route {
        boost::beast::http::verb method;
        std::vector<std::string> segments;
        RouteHandler handler;
    };
    std::vector<std::string> corsPrefixes_;
    std::vector<std::string> corsOrigins_;
    std::vector<engineio::Server*> engines_;
    std::vector<Route> routes_;
    RouteHandler fallback_;
};

/// The path of a request target: everything before the first '?'.
inline std::string_view pathOf(std::string_view target) { return target.substr(0, target.find('?')); }

/// A JSON response with the given status.
net::Response jsonResponse(boost::beast::http::status status, std::string body, unsigned version = 11);

} // namespace parley::http
