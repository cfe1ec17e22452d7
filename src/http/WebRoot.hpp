#pragma once

#include "http/Router.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace parley::http {

/// Serves the web client (web/ of the source tree, /usr/share/parley/web once packaged) from one
/// directory:
/// - GET and HEAD `/` answer its index.html, `/<name>` the file `name` directly in it;
/// - `/socket.io/socket.io.min.js` and `/socket.io/socket.io.js` (and their .map) answer the
///   socket.io-client browser bundle from its `vendor/` (scripts/install-deps copies it from npm),
///   as Node's socket.io does with serveClient.
/// - with the admin UI on, `/admin/` answers the socket.io admin UI's page from `vendor/admin/`
///   (its index.html, and a plain name directly in it or in its css/, js/ or img/), `/admin` a
///   redirect there.
/// Only a plain name of allowed characters and extension is looked up (servableType): no path,
/// `..`, leading dot or percent-encoding ever reaches the file system. Everything else is 404.
/// Files are read at each request (they are small, and a page loads them once; an edit shows on
/// the next reload), with `Cache-Control: no-cache` and an ETag that makes a reload a 304.
class WebRoot {
public:
    /// `dir` need not exist: its files are looked up at each request, and are 404 until it does.
    explicit WebRoot(std::filesystem::path dir) : dir_(std::move(dir)) {}

    /// Adds the bundle's routes and the fallback for `/` and `/<name>` to `router` (after which
    /// its other routes still win: the fallback only answers paths no route has).
    void install(Router& router);
    /// Also serves the admin UI's page (before install()).
    void serveAdminUi() noexcept { adminUi_ = true; }

    const std::filesystem::path& dir() const noexcept { return dir_; }

    /// The Content-Type of file `name`, or nullopt if it may not be served: not 1 to 128 of
    /// [A-Za-z0-9._-], a leading dot, `..`, or an extension other than .html .js .css .svg .png
    /// .ico .map. Pure.
    static std::optional<std::string_view> servableType(std::string_view name) noexcept;

    /// The answer to `req` for file `name` of `dir`: 200 with it, 304 when If-None-Match names
    /// its ETag, 404 (the JSON error envelope) when the name is not servable or no regular file
    /// of that name can be read there.
    static net::Response serve(const net::Request& req, const std::filesystem::path& dir, std::string_view name);

private:
    std::filesystem::path dir_;
    bool adminUi_ = false;
};

} // namespace parley::http
