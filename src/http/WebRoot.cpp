#include "http/WebRoot.hpp"

#include "chat/ErrorReply.hpp"

#include <boost/json/serialize.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>

namespace parley::http {

namespace bhttp = boost::beast::http;

namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kTypes{{
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".map", "application/json"},
}};

// What the bundle's paths name in the web root's vendor/ (what scripts/install-deps copies there).
constexpr std::array<std::string_view, 4> kBundleFiles{"socket.io.min.js", "socket.io.min.js.map", "socket.io.js",
                                                       "socket.io.js.map"};

bool allowedChar(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
           c == '_';
}

net::Response notFound(const net::Request& req) {
    const std::string context = std::string(req.method_string()) + " " + std::string(pathOf(req.target()));
    return jsonResponse(bhttp::status::not_found,
                        boost::json::serialize(chat::errorReply(chat::ErrorCode::NotFound, "No such file", context)),
                        req.version());
}

// Whether the If-None-Match of `req` names `etag` (or is "*"): the copy the client holds is current.
bool holdsCurrent(const net::Request& req, std::string_view etag) {
    const auto header = req.find(bhttp::field::if_none_match);
    if (header == req.end()) return false;
    std::string_view list = header->value();
    while (!list.empty()) {
        const auto comma = list.find(',');
        std::string_view tag = list.substr(0, comma);
        while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
        while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
        // Weak comparison (RFC 9110 13.1.2): a W/ prefix on either side does not matter.
        if (tag.starts_with("W/")) tag.remove_prefix(2);
        if (tag == "*" || tag == etag.substr(etag.starts_with("W/") ? 2 : 0)) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

// The admin UI's page: its paths are relative (css/app.css), so /admin is sent to /admin/.
net::Response serveAdmin(const net::Request& req, const std::filesystem::path& dir, std::string_view path) {
    if (path == "/admin") {
        net::Response res{bhttp::status::permanent_redirect, req.version()};
        res.set(bhttp::field::location, "/admin/");
        return res;
    }
    std::string_view rest = path.substr(std::string_view("/admin/").size());
    if (rest.empty()) return WebRoot::serve(req, dir, "index.html");
    if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
        const std::string_view sub = rest.substr(0, slash);
        if (sub != "css" && sub != "js" && sub != "img") return notFound(req);
        return WebRoot::serve(req, dir / std::string(sub), rest.substr(slash + 1));
    }
    return WebRoot::serve(req, dir, rest);
}

} // namespace

std::optional<std::string_view> WebRoot::servableType(std::string_view name) noexcept {
    if (name.empty() || name.size() > 128 || name.front() == '.') return std::nullopt;
    if (name.find("..") != std::string_view::npos) return std::nullopt;
    for (char c : name)
        if (!allowedChar(c)) return std::nullopt;
    for (const auto& [extension, type] : kTypes)
        if (name.ends_with(extension) && name.size() > extension.size()) return type;
    return std::nullopt;
}

net::Response WebRoot::serve(const net::Request& req, const std::filesystem::path& dir, std::string_view name) {
    const auto type = servableType(name);
    if (!type) return notFound(req);
    const std::filesystem::path file = dir / std::string(name);
    std::error_code ec;
    // A directory or a device of an allowed name is no file to serve (is_regular_file follows a
    // symlink: one placed in the web root is the operator's choice).
    if (!std::filesystem::is_regular_file(file, ec) || ec) return notFound(req);
    const auto size = std::filesystem::file_size(file, ec);
    if (ec) return notFound(req);
    const auto modified = std::filesystem::last_write_time(file, ec);
    if (ec) return notFound(req);
    // Size and modification time: a changed file gets another tag without reading it to hash it.
    char etag[64];
    std::snprintf(etag, sizeof etag, "W/\"%llx-%llx\"", static_cast<unsigned long long>(size),
                  static_cast<unsigned long long>(modified.time_since_epoch().count()));

    net::Response res{bhttp::status::ok, req.version()};
    // no-cache: the browser asks every time (the files change with the server), and the ETag
    // turns the answer into a bodiless 304 while the file is unchanged.
    res.set(bhttp::field::cache_control, "no-cache");
    res.set(bhttp::field::etag, etag);
    res.set("X-Content-Type-Options", "nosniff");
    if (holdsCurrent(req, etag)) {
        res.result(bhttp::status::not_modified);
        return res;
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) return notFound(req);
    std::string body(std::istreambuf_iterator<char>(in), {});
    if (in.bad()) return notFound(req);
    res.set(bhttp::field::content_type, *type);
    res.body() = std::move(body);
    return res;
}

void WebRoot::install(Router& router) {
    // A HEAD is answered as its GET (HttpConnection sends it without the body).
    for (const auto method : {bhttp::verb::get, bhttp::verb::head}) {
        for (const std::string_view bundle : kBundleFiles) {
            RouteHandler answer = [vendor = dir_ / "vendor", bundle](const std::shared_ptr<net::HttpConnection>& conn,
                                                                     net::Request&& req, PathParams&&) {
                conn->respond(serve(req, vendor, bundle));
            };
            router.add(method, "/socket.io/" + std::string(bundle), std::move(answer));
        }
    }
    router.setFallback([dir = dir_, admin = adminUi_](const std::shared_ptr<net::HttpConnection>& conn,
                                                      net::Request&& req, PathParams&&) {
        const std::string_view path = pathOf(req.target());
        if (path == "/") return conn->respond(serve(req, dir, "index.html"));
        if (admin && (path == "/admin" || path.starts_with("/admin/")))
            return conn->respond(serveAdmin(req, dir / "vendor" / "admin", path));
        // The name after the one leading '/': another '/' in it makes it unservable. A target in
        // another form (absolute, "*") names nothing here.
        conn->respond(serve(req, dir, path.starts_with('/') ? path.substr(1) : std::string_view()));
    });
}

} // namespace parley::http
