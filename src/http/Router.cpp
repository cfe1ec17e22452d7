#include "http/Router.hpp"

#include "chat/ErrorReply.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>

namespace parley::http {

namespace bhttp = boost::beast::http;

net::Response jsonResponse(bhttp::status status, std::string body, unsigned version) {
    net::Response res{status, version};
    res.set(bhttp::field::content_type, "application/json");
    res.body() = std::move(body);
    return res;
}

namespace {
// "GET /v1/chats": what a logged error was answering.
std::string requestContext(const net::Request& req) {
    return std::string(req.method_string()) + " " + std::string(pathOf(req.target()));
}

std::vector<std::string> splitPath(std::string_view path) {
    std::vector<std::string> out;
    while (!path.empty()) {
        if (path.front() == '/') {
            path.remove_prefix(1);
            continue;
        }
        const auto slash = path.find('/');
        out.emplace_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash);
    }
    return out;
}
} // namespace

void Router::add(bhttp::verb method, std::string pattern, RouteHandler handler) {
    routes_.push_back(Route{method, splitPath(pattern), std::move(handler)});
}

engineio::Server* Router::engineFor(std::string_view path) const {
    for (engineio::Server* engine : engines_) {
        const std::string_view prefix = engine->config().path;
        // "/socket.io/" also matches "/socket.io" (no trailing slash), as the reference does.
        if (path.starts_with(prefix) || path == prefix.substr(0, prefix.size() - 1)) return engine;
    }
    return nullptr;
}

void CorsHeaders::apply(net::Response& res) const {
    if (!allowOrigin.empty()) res.set(bhttp::field::access_control_allow_origin, allowOrigin);
    if (varyOrigin) res.set(bhttp::field::vary, "Origin");
}

CorsHeaders Router::cors(const net::Request& req) const {
    if (corsOrigins_.empty()) return CorsHeaders{"*", false};
    CorsHeaders h{{}, true};
    if (auto origin = req.find(bhttp::field::origin); origin != req.end()) {
        const auto value = origin->value();
        if (std::find(corsOrigins_.begin(), corsOrigins_.end(), value) != corsOrigins_.end())
            h.allowOrigin = std::string(value);
    }
    return h;
}

std::optional<net::Response> Router::onOversizedRequest(const net::Request& header) {
    const std::string_view path = pathOf(header.target());
    if (auto* engine = engineFor(path)) {
        engine->onOversized(header); // Engine.IO's own answer: a plain 413
        return std::nullopt;
    }
    auto res = jsonResponse(bhttp::status::payload_too_large,
                            boost::json::serialize(chat::errorReply(chat::ErrorCode::ValidationError,
                                                                    "Request body too large", requestContext(header))),
                            header.version());
    cors(header).apply(res);
    return res;
}

Router::Match Router::match(bhttp::verb method, std::string_view path) const {
    const auto segments = splitPath(path);
    Match found;
    for (const auto& route : routes_) {
        if (route.segments.size() != segments.size()) continue;
        PathParams params;
        bool same = true;
        for (std::size_t i = 0; i < segments.size() && same; ++i) {
            if (!route.segments[i].empty() && route.segments[i][0] == ':')
                params.push_back(segments[i]);
            else
                same = route.segments[i] == segments[i];
        }
        if (!same) continue;
        found.pathMatched = true;
        if (route.method == method) {
            found.handler = &route.handler;
            found.params = std::move(params);
            return found;
        }
    }
    return found;
}

void Router::onRequest(const std::shared_ptr<net::HttpConnection>& conn, net::Request&& req) {
    const std::string_view path = pathOf(req.target());
    if (auto* engine = engineFor(path)) {
        // Clients connect to the prefix itself ("/socket.io/"): only a longer path may be a route
        // of its own, so the engine's requests pay for no route lookup.
        if (path.size() > engine->config().path.size()) {
            auto found = match(req.method(), path);
            if (found.handler) return (*found.handler)(conn, std::move(req), std::move(found.params));
        }
        return engine->handle(conn, std::move(req));
    }
    if (req.method() == bhttp::verb::options) {
        for (const auto& prefix : corsPrefixes_) {
            if (!path.starts_with(prefix)) continue;
            net::Response res{bhttp::status::no_content, req.version()};
            cors(req).apply(res);
            res.set(bhttp::field::access_control_allow_methods, "GET,POST,PATCH,DELETE,OPTIONS");
            res.set(bhttp::field::access_control_allow_headers, "Authorization,Content-Type");
            res.set(bhttp::field::access_control_max_age, "86400");
            return conn->respond(std::move(res));
        }
    }
    auto found = match(req.method(), path);
    if (found.handler) return (*found.handler)(conn, std::move(req), std::move(found.params));
    const bool pathMatched = found.pathMatched;
    const bool readOnly = req.method() == bhttp::verb::get || req.method() == bhttp::verb::head;
    if (fallback_ && readOnly && !pathMatched) return fallback_(conn, std::move(req), PathParams{});
    const char* message = pathMatched ? "Method not allowed" : "No such route";
    conn->respond(
        jsonResponse(pathMatched ? bhttp::status::method_not_allowed : bhttp::status::not_found,
                     boost::json::serialize(chat::errorReply(chat::ErrorCode::NotFound, message, requestContext(req))),
                     req.version()));
}

} // namespace parley::http
