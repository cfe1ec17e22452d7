#include "http/WebRoot.hpp"

#include "HttpRequest.hpp"
#include "support/LoopbackServer.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <utility>
#include <vector>

// http::WebRoot: which names are served (pure), and what a real Listener answers through it: the
// files of the web root with their types, HEAD, 304 on a current ETag, every traversal attempt
// and unservable name 404, a missing root 404, and the client bundle under the Engine.IO prefix
// while the engine still answers its own requests there.

namespace {

using namespace parley;
using testsupport::LoopbackServer;
namespace bhttp = boost::beast::http;
namespace fs = std::filesystem;

using http::test::request;

/// A fresh directory under the system's temp dir, removed with the object: the web root
/// (index.html, app.js, style.css, a few files that must not be served, vendor/) inside a
/// parent that holds a file beside it (what a traversal would reach).
class WebDir {
public:
    WebDir() {
        std::random_device random;
        parent_ = fs::temp_directory_path() / ("parley-webroot-" + std::to_string(random()));
        root_ = parent_ / "web";
        fs::create_directories(root_ / "vendor");
        fs::create_directories(root_ / "sub");
        write(parent_ / "CMakeLists.txt", "outside the root");
        write(root_ / "index.html", "<!doctype html><title>Parley</title>");
        write(root_ / "app.js", "console.log('app');\n");
        write(root_ / "style.css", "body{margin:0}");
        write(root_ / ".hidden.js", "hidden");
        write(root_ / "notes.txt", "not an allowed extension");
        write(root_ / "sub" / "deep.js", "below the root");
        write(root_ / "vendor" / "socket.io.min.js", "/* socket.io-client bundle */");
    }
    ~WebDir() {
        std::error_code ec;
        fs::remove_all(parent_, ec);
    }
    WebDir(const WebDir&) = delete;
    WebDir& operator=(const WebDir&) = delete;

    const fs::path& root() const { return root_; }

private:
    static void write(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }
    fs::path parent_, root_;
};

// =====================================================================================================
// WebRoot::servableType
// =====================================================================================================

TEST(WebRootTest, OnlyPlainNamesWithAnAllowedExtensionAreServable) {
    EXPECT_EQ(http::WebRoot::servableType("index.html"), "text/html; charset=utf-8");
    EXPECT_EQ(http::WebRoot::servableType("app.js"), "text/javascript; charset=utf-8");
    EXPECT_EQ(http::WebRoot::servableType("style.css"), "text/css; charset=utf-8");
    EXPECT_EQ(http::WebRoot::servableType("logo.svg"), "image/svg+xml");
    EXPECT_EQ(http::WebRoot::servableType("icon-2_x.png"), "image/png");
    EXPECT_EQ(http::WebRoot::servableType("favicon.ico"), "image/x-icon");
    EXPECT_EQ(http::WebRoot::servableType("socket.io.min.js.map"), "application/json");

    for (const char* name :
         {"", ".js", ".hidden.js", "..", "../app.js", "a..js", "sub/app.js", "sub\\app.js", "%2e%2e", "app%2ejs",
          "app.js%00", "notes.txt", "app.JS", "app.js.bak", "app", "ind ex.html", "index.html?x"})
        EXPECT_FALSE(http::WebRoot::servableType(name)) << '"' << name << '"';
    EXPECT_FALSE(http::WebRoot::servableType(std::string_view("app\0.js", 7))) << "a NUL";
    EXPECT_FALSE(http::WebRoot::servableType(std::string(200, 'a') + ".js")) << "too long";
}

// =====================================================================================================
// Requests through a Listener
// =====================================================================================================

TEST(WebRootTest, ServesIndexOnSlashAndEachFileWithItsType) {
    WebDir dir;
    LoopbackServer server;
    http::WebRoot(dir.root()).install(server.router());
    const unsigned short port = server.start();

    auto res = request(port, bhttp::verb::get, "/");
    EXPECT_EQ(res.result(), bhttp::status::ok);
    EXPECT_EQ(res[bhttp::field::content_type], "text/html; charset=utf-8");
    EXPECT_EQ(res.body(), "<!doctype html><title>Parley</title>");
    EXPECT_EQ(res[bhttp::field::cache_control], "no-cache");
    EXPECT_FALSE(res[bhttp::field::etag].empty());

    res = request(port, bhttp::verb::get, "/app.js?v=2");
    EXPECT_EQ(res.result(), bhttp::status::ok);
    EXPECT_EQ(res[bhttp::field::content_type], "text/javascript; charset=utf-8");
    EXPECT_EQ(res.body(), "console.log('app');\n");

    res = request(port, bhttp::verb::get, "/style.css");
    EXPECT_EQ(res[bhttp::field::content_type], "text/css; charset=utf-8");
    EXPECT_EQ(res.body(), "body{margin:0}");
}

TEST(WebRootTest, HeadAnswersTheGetHeaderWithoutTheBody) {
    WebDir dir;
    LoopbackServer server;
    http::WebRoot(dir.root()).install(server.router());
    const unsigned short port = server.start();

    const auto get = request(port, bhttp::verb::get, "/app.js");
    const auto head = request(port, bhttp::verb::head, "/app.js");
    EXPECT_EQ(head.result(), bhttp::status::ok);
    EXPECT_EQ(head[bhttp::field::content_type], "text/javascript; charset=utf-8");
    EXPECT_EQ(head[bhttp::field::content_length], std::to_string(get.body().size()));
    EXPECT_EQ(head[bhttp::field::etag], get[bhttp::field::etag]);
    EXPECT_TRUE(head.body().empty());
    EXPECT_EQ(request(port, bhttp::verb::head, "/").result(), bhttp::status::ok);
}

TEST(WebRootTest, ACurrentETagIsAnswered304WithoutABody) {
    WebDir dir;
    LoopbackServer server;
    http::WebRoot(dir.root()).install(server.router());
    const unsigned short port = server.start();

    const std::string etag(request(port, bhttp::verb::get, "/style.css")[bhttp::field::etag]);
    auto res = request(port, bhttp::verb::get, "/style.css", {{bhttp::field::if_none_match, etag}});
    EXPECT_EQ(res.result(), bhttp::status::not_modified);
    EXPECT_TRUE(res.body().empty());
    res = request(port, bhttp::verb::get, "/style.css", {{bhttp::field::if_none_match, "W/\"0-0\""}});
    EXPECT_EQ(res.result(), bhttp::status::ok) << "another tag: the file";
}

TEST(WebRootTest, TraversalAndUnservableNamesAre404) {
    WebDir dir;
    LoopbackServer server;
    http::WebRoot(dir.root()).install(server.router());
    const unsigned short port = server.start();

    for (const char* target :
         {"/../CMakeLists.txt", "/%2e%2e/CMakeLists.txt", "/..%2fCMakeLists.txt", "/%2e%2e%2fCMakeLists.txt",
          "/.hidden.js", "/notes.txt", "/sub/deep.js", "/sub", "/vendor", "/vendor/socket.io.min.js", "/missing.js",
          "//app.js", "/app.js%00", "/./app.js", "/index.html/"}) {
        const auto res = request(port, bhttp::verb::get, target);
        EXPECT_EQ(res.result(), bhttp::status::not_found) << target;
        EXPECT_EQ(res[bhttp::field::content_type], "application/json") << target;
        EXPECT_EQ(res.body().find("outside the root"), std::string::npos) << target;
    }
    const auto body = boost::json::parse(request(port, bhttp::verb::get, "/.hidden.js").body()).as_object();
    EXPECT_EQ(body.at("error"), "NOT_FOUND");
    // Only GET and HEAD reach the files.
    EXPECT_EQ(request(port, bhttp::verb::post, "/app.js").result(), bhttp::status::not_found);
}

TEST(WebRootTest, AMissingRootAnswers404) {
    LoopbackServer server;
    http::WebRoot(fs::temp_directory_path() / "parley-no-such-web-root").install(server.router());
    const unsigned short port = server.start();

    for (const char* target : {"/", "/index.html", "/app.js", "/socket.io/socket.io.min.js"})
        EXPECT_EQ(request(port, bhttp::verb::get, target).result(), bhttp::status::not_found) << target;
}

TEST(WebRootTest, TheClientBundleIsAFileUnderTheEnginePrefixWhileTheEngineKeepsItsOwnRequests) {
    WebDir dir;
    LoopbackServer server;
    http::WebRoot(dir.root()).install(server.router());
    const unsigned short port = server.start();

    auto res = request(port, bhttp::verb::get, "/socket.io/socket.io.min.js");
    EXPECT_EQ(res.result(), bhttp::status::ok);
    EXPECT_EQ(res[bhttp::field::content_type], "text/javascript; charset=utf-8");
    EXPECT_EQ(res.body(), "/* socket.io-client bundle */");
    EXPECT_EQ(request(port, bhttp::verb::head, "/socket.io/socket.io.min.js").result(), bhttp::status::ok);
    // Not copied into this vendor/: 404, not a handshake.
    EXPECT_EQ(request(port, bhttp::verb::get, "/socket.io/socket.io.js").result(), bhttp::status::not_found);

    // The engine's own path is still the engine's: an Engine.IO v4 handshake.
    res = request(port, bhttp::verb::get, "/socket.io/?EIO=4&transport=polling");
    EXPECT_EQ(res.result(), bhttp::status::ok);
    EXPECT_EQ(res.body().rfind("0{", 0), 0U) << res.body();
}

TEST(WebRootTest, RoutesStillWinOverTheFiles) {
    WebDir dir;
    LoopbackServer server;
    http::WebRoot(dir.root()).install(server.router());
    server.router().add(bhttp::verb::get, "/app.js",
                        [](const std::shared_ptr<net::HttpConnection>& conn, net::Request&& req, http::PathParams&&) {
                            net::Response res{bhttp::status::ok, req.version()};
                            res.body() = "route";
                            conn->respond(std::move(res));
                        });
    const unsigned short port = server.start();
    EXPECT_EQ(request(port, bhttp::verb::get, "/app.js").body(), "route");
    // A route's path under another method stays 405, never a file.
    EXPECT_EQ(request(port, bhttp::verb::head, "/app.js").result(), bhttp::status::method_not_allowed);
}

} // namespace
