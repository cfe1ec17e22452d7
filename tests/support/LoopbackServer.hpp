#pragma once

#include "cluster/LocalAdapter.hpp"
#include "engineio/Server.hpp"
#include "http/Router.hpp"
#include "net/IoThreads.hpp"
#include "net/Listener.hpp"
#include "socketio/Server.hpp"
#include "support/Mailbox.hpp"

#include <future>
#include <memory>
#include <optional>
#include <string>

namespace parley::testsupport {

/// The layers wired as app::Runtime wires them, without the chat product: io threads, a
/// socketio::Server whose namespaces each get a cluster::LocalAdapter, its engineio::Server
/// (on /socket.io/ by default) mounted on an http::Router, and a Listener on 127.0.0.1, port 0.
/// Register namespaces, handlers and routes first, then start(): they are read-only after.
class LoopbackServer {
public:
    struct Options {
        std::size_t threads = 1;
        socketio::Config socketio;
        engineio::Config engineio; ///< its path is where the Socket.IO server is mounted
    };

    LoopbackServer() : LoopbackServer(Options{}) {}
    explicit LoopbackServer(Options options);
    /// Closes every session (their handlers see CloseReason::Shutdown), then stops the threads.
    ~LoopbackServer();
    LoopbackServer(const LoopbackServer&) = delete;
    LoopbackServer& operator=(const LoopbackServer&) = delete;

    socketio::Server& io() noexcept { return io_; }
    engineio::Server& engine() noexcept { return engine_; }
    http::Router& router() noexcept { return router_; }
    net::IoThreads& threads() noexcept { return threads_; }
    /// The adapter of namespace `nsp` (created if need be, so call it before start()).
    cluster::LocalAdapter& adapter(const std::string& nsp);

    /// Listens and starts the io threads. Returns the port.
    unsigned short start();
    unsigned short port() const noexcept { return port_; }

    /// Runs `fn` on io thread `index` and returns what it returns, or nullopt if that did not
    /// happen within kDeadline. For reading state that only that thread may touch.
    template <class Fn>
    auto onThread(std::size_t index, Fn fn) -> std::optional<decltype(fn())> {
        using Result = decltype(fn());
        auto promise = std::make_shared<std::promise<Result>>();
        auto future = promise->get_future();
        threads_.postTo(index, [promise, fn = std::move(fn)]() mutable { promise->set_value(fn()); });
        if (future.wait_for(kDeadline) != std::future_status::ready) return std::nullopt;
        return future.get();
    }

private:
    net::IoThreads threads_;
    socketio::Server io_;
    engineio::Server engine_;
    http::Router router_;
    std::shared_ptr<net::Listener> listener_;
    unsigned short port_ = 0;
};

} // namespace parley::testsupport
