#include "http/Router.hpp"

namespace parley::http {

namespace bhttp = boost::beast::http;

net::Response jsonResponse(bhttp::status status, std::string body, unsigned version) {
    net::Response res{status, version};
    res.set(bhttp::field::content_type, "application/json");
    res.body() = std::move(body);
    return res;
}

void Router::add(bhttp::verb method, std::string path, RouteHandler handler) {
    routes_.push_back(Route{method, std::move(path), std::move(handler)});
}

namespace {
std::string_view pathOf(std::string_view target) { return target.substr(0, target.find('?')); }
} // namespace

engineio::Server* Router::engineFor(std::string_view path) const {
    for (engineio::Server* engine : engines_) {
        const std::string_view prefix = engine->config().path;
        // "/socket.io/" also matches "/socket.io" (no trailing slash), as the reference does.
        if (path.starts_with(prefix) || path == prefix.substr(0, prefix.size() - 1)) return engine;
    }
    return nullptr;
}

void Router::onOversizedRequest(const net::Request& header) {
    if (auto* engine = engineFor(pathOf(header.target()))) engine->onOversized(header);
}

void Router::onRequest(const std::shared_ptr<net::HttpConnection>& conn, net::Request&& req) {
    const std::string_view path = pathOf(req.target());
    if (auto* engine = engineFor(path)) return engine->handle(conn, std::move(req));
    for (auto& route : routes_)
        if (route.path == path && route.method == req.method()) return route.handler(conn, std::move(req));
    conn->respond(jsonResponse(bhttp::status::not_found,
                               R"({"ok":false,"error":"NOT_FOUND","message":"No such route"})", req.version()));
}

} // namespace parley::http
