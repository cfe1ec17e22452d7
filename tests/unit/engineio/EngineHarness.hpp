#pragma once

// An engineio::Server running in the test process on a loopback port (two io threads, as
// requests of one session may arrive through either), a recording SessionHandler behind it,
// and blocking HTTP and WebSocket clients that wait for what they expect with a deadline.

#include "engineio/Server.hpp"
#include "engineio/Session.hpp"
#include "net/IoThreads.hpp"
#include "net/Listener.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <sodium.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace parley::engineio::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

/// Anything a test waits for arrives well within this, even on a loaded machine.
inline constexpr std::chrono::milliseconds kDeadline{5000};
/// How long a test waits to see that something does not happen (a held GET stays held).
inline constexpr std::chrono::milliseconds kQuiet{150};

/// Timers long enough never to fire in a test unless the test shortens them.
inline Config calmConfig() {
    Config c;
    c.path = "/engine.io/";
    c.pingInterval = 10s;
    c.pingTimeout = 10s;
    c.upgradeTimeout = 10s;
    return c;
}

/// What a session delivered to its handler.
struct Delivered {
    enum class Kind { Open, Text, Binary, Close };
    Kind kind;
    std::string data;
    CloseReason reason = CloseReason::TransportClose;
};

/// The seam under test: records every handler call, per sid, and keeps each session (weakly)
/// so that a test can act on it from the session's thread.
class Recorder final : public Handler {
public:
    std::shared_ptr<SessionHandler> onOpen(const std::shared_ptr<Session>& session) override {
        {
            std::lock_guard lock(mutex_);
            sessions_[session->id()] = session;
        }
        record(session->id(), {Delivered::Kind::Open, {}});
        return std::make_shared<Recording>(*this, session->id());
    }

    /// The calls for `sid` once `pred` holds for them, or nullopt at the deadline.
    std::optional<std::vector<Delivered>> waitFor(const std::string& sid,
                                                  const std::function<bool(const std::vector<Delivered>&)>& pred) {
        std::unique_lock lock(mutex_);
        if (!changed_.wait_for(lock, kDeadline, [&] { return pred(log_[sid]); })) return std::nullopt;
        return log_[sid];
    }

    /// The first `n` messages (text or binary) delivered for `sid`, or fewer at the deadline.
    std::vector<Delivered> messages(const std::string& sid, std::size_t n) {
        std::vector<Delivered> out;
        waitFor(sid, [&](const std::vector<Delivered>& log) {
            out.clear();
            for (const auto& d : log)
                if (d.kind == Delivered::Kind::Text || d.kind == Delivered::Kind::Binary) out.push_back(d);
            return out.size() >= n;
        });
        return out;
    }

    /// Why the session `sid` closed, or nullopt if it is still open at the deadline.
    std::optional<CloseReason> closeReason(const std::string& sid) {
        std::optional<CloseReason> reason;
        waitFor(sid, [&](const std::vector<Delivered>& log) {
            for (const auto& d : log)
                if (d.kind == Delivered::Kind::Close) reason = d.reason;
            return reason.has_value();
        });
        return reason;
    }

    /// How many times the session `sid` was reported closed so far (without waiting).
    int closeCount(const std::string& sid) {
        std::lock_guard lock(mutex_);
        int n = 0;
        for (const auto& d : log_[sid]) n += d.kind == Delivered::Kind::Close;
        return n;
    }

    /// The session `sid`, once it is open (the client may see its open packet first), or
    /// nullptr if it never opened or is gone.
    std::shared_ptr<Session> session(const std::string& sid) {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, kDeadline, [&] { return sessions_.count(sid) != 0; });
        auto it = sessions_.find(sid);
        return it == sessions_.end() ? nullptr : it->second.lock();
    }

private:
    class Recording final : public SessionHandler {
    public:
        Recording(Recorder& recorder, std::string sid) : recorder_(recorder), sid_(std::move(sid)) {}
        void onMessage(std::string_view text) override {
            recorder_.record(sid_, {Delivered::Kind::Text, std::string(text)});
        }
        void onBinary(std::string_view bytes) override {
            recorder_.record(sid_, {Delivered::Kind::Binary, std::string(bytes)});
        }
        void onClose(CloseReason reason) override { recorder_.record(sid_, {Delivered::Kind::Close, {}, reason}); }

    private:
        Recorder& recorder_;
        std::string sid_;
    };

    void record(const std::string& sid, Delivered d) {
        std::lock_guard lock(mutex_);
        log_[sid].push_back(std::move(d));
        changed_.notify_all();
    }

    std::mutex mutex_;
    std::condition_variable changed_;
    std::map<std::string, std::vector<Delivered>> log_;
    std::map<std::string, std::weak_ptr<Session>> sessions_;
};

/// Hands every request to the engine, as the http layer's Router does for its path.
class EngineRoute final : public net::HttpHandler {
public:
    explicit EngineRoute(Server& server) : server_(server) {}
    void onRequest(const std::shared_ptr<net::HttpConnection>& conn, net::Request&& req) override {
        server_.handle(conn, std::move(req));
    }
    std::optional<net::Response> onOversizedRequest(const net::Request& header) override {
        server_.onOversized(header);
        return std::nullopt;
    }

private:
    Server& server_;
};

struct Reply {
    unsigned status = 0; ///< 0: no answer before the deadline
    std::string body;
};

/// One HTTP request on a connection of its own.
inline Reply httpRequest(unsigned short port, http::verb method, const std::string& target, std::string body = {}) {
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.body() = std::move(body);
    req.prepare_payload();
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    Reply reply;
    stream.expires_after(kDeadline);
    stream.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port), [&](beast::error_code ec) {
        if (ec) return;
        http::async_write(stream, req, [&](beast::error_code wec, std::size_t) {
            if (wec) return;
            http::async_read(stream, buffer, res, [&](beast::error_code rec, std::size_t) {
                if (rec) return;
                reply.status = res.result_int();
                reply.body = res.body();
            });
        });
    });
    ioc.run();
    return reply;
}

/// The sid of an open packet ("0{...}").
inline std::string sidOf(const std::string& openPacket) {
    if (openPacket.empty() || openPacket[0] != '0') return {};
    return std::string(boost::json::parse(openPacket.substr(1)).at("sid").as_string());
}

/// A WebSocket client whose reads run on a thread of its own and queue what arrives.
class WsClient {
public:
    struct Event {
        enum class Kind { Text, Binary, Closed };
        Kind kind;
        std::string data;
        std::uint16_t code = 0; ///< the server's close code, for Closed
    };

    WsClient(unsigned short port, const std::string& target) {
        beast::error_code ec;
        beast::get_lowest_layer(ws_).socket().connect(tcp::endpoint(asio::ip::address_v4::loopback(), port), ec);
        if (!ec) ws_.handshake("127.0.0.1", target, ec);
        if (ec) {
            error_ = ec;
            return;
        }
        readNext();
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~WsClient() {
        work_.reset();
        ioc_.stop();
        if (thread_.joinable()) thread_.join();
    }
    WsClient(const WsClient&) = delete;
    WsClient& operator=(const WsClient&) = delete;

    bool connected() const { return !error_; }

    /// Writes one message; false if it could not be written before the deadline.
    bool send(std::string data, bool binary = false) {
        auto done = std::make_shared<std::promise<beast::error_code>>();
        auto result = done->get_future();
        asio::post(ioc_, [this, done, data = std::move(data), binary]() mutable {
            out_ = std::move(data);
            ws_.binary(binary);
            ws_.async_write(asio::buffer(out_), [done](beast::error_code ec, std::size_t) { done->set_value(ec); });
        });
        return result.wait_for(kDeadline) == std::future_status::ready && !result.get();
    }

    /// Starts the closing handshake from the client's side.
    void close() {
        asio::post(ioc_, [this] { ws_.async_close(websocket::close_code::normal, [](beast::error_code) {}); });
    }

    /// The next thing that arrived, or nullopt at the deadline (or after `within`).
    std::optional<Event> next(std::chrono::milliseconds within = kDeadline) {
        std::unique_lock lock(mutex_);
        if (!arrived_.wait_for(lock, within, [&] { return !events_.empty(); })) return std::nullopt;
        Event e = std::move(events_.front());
        events_.pop_front();
        return e;
    }

    /// The next text message's payload, or "<...>" naming what came instead.
    std::string nextText() {
        auto e = next();
        if (!e) return "<nothing>";
        if (e->kind == Event::Kind::Closed) return "<closed " + std::to_string(e->code) + ">";
        if (e->kind == Event::Kind::Binary) return "<binary>";
        return e->data;
    }

    /// True once the connection closed, whatever came before.
    bool waitClosed() {
        while (auto e = next())
            if (e->kind == Event::Kind::Closed) return true;
        return false;
    }

private:
    void readNext() {
        ws_.async_read(in_, [this](beast::error_code ec, std::size_t) {
            std::lock_guard lock(mutex_);
            if (ec) {
                events_.push_back({Event::Kind::Closed, ec.message(), ws_.reason().code});
            } else {
                events_.push_back(
                    {ws_.got_text() ? Event::Kind::Text : Event::Kind::Binary, beast::buffers_to_string(in_.data())});
                in_.consume(in_.size());
                readNext();
            }
            arrived_.notify_all();
        });
    }

    asio::io_context ioc_;
    asio::executor_work_guard<asio::io_context::executor_type> work_{ioc_.get_executor()};
    websocket::stream<beast::tcp_stream> ws_{ioc_};
    beast::flat_buffer in_;
    std::string out_;
    beast::error_code error_;
    std::mutex mutex_;
    std::condition_variable arrived_;
    std::deque<Event> events_;
    std::thread thread_;
};

/// The engine under test, serving on 127.0.0.1 on a port of its own.
class Engine {
public:
    explicit Engine(Config config = calmConfig()) : server_(std::move(config), recorder_, threads_), route_(server_) {
        if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
        listener_ = std::make_shared<net::Listener>(threads_, route_, net::HttpLimits{});
        port_ = listener_->listen(tcp::endpoint(asio::ip::address_v4::loopback(), 0));
        listener_->start();
        threads_.start();
    }
    // Sessions are closed before the threads stop, as the server's own shutdown does: an open
    // WebSocket session and its connection hold each other until the session closes.
    ~Engine() {
        listener_->stop();
        server_.closeAll();
        for (std::size_t i = 0; i < threads_.size(); ++i) { // closeAll() has run there once this has
            auto ran = std::make_shared<std::promise<void>>();
            auto done = ran->get_future();
            threads_.postTo(i, [ran] { ran->set_value(); });
            done.wait_for(kDeadline);
        }
        threads_.stop();
        threads_.join();
    }
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    Recorder& recorder() { return recorder_; }
    unsigned short port() const { return port_; }

    std::string pollingUrl(const std::string& sid = {}) const {
        return "/engine.io/?EIO=4&transport=polling" + (sid.empty() ? "" : "&sid=" + sid);
    }
    std::string wsUrl(const std::string& sid = {}) const {
        return "/engine.io/?EIO=4&transport=websocket" + (sid.empty() ? "" : "&sid=" + sid);
    }

    /// A polling handshake; the new session's sid ("" if it failed).
    std::string openPolling() {
        auto r = httpRequest(port_, http::verb::get, pollingUrl());
        return r.status == 200 ? sidOf(r.body) : std::string{};
    }
    Reply get(const std::string& sid) { return httpRequest(port_, http::verb::get, pollingUrl(sid)); }
    std::future<Reply> getAsync(const std::string& sid) {
        return std::async(std::launch::async, [this, sid] { return get(sid); });
    }
    Reply post(const std::string& sid, std::string body) {
        return httpRequest(port_, http::verb::post, pollingUrl(sid), std::move(body));
    }

    /// Runs `fn` on the session's own thread and returns its result; throws if the session is
    /// gone or the thread does not get to it before the deadline.
    template <class Fn>
    auto onSessionThread(const std::string& sid, Fn fn) -> decltype(fn(std::declval<Session&>())) {
        auto session = recorder_.session(sid);
        if (!session) throw std::runtime_error("no session " + sid);
        return onSessionThread(session, std::move(fn));
    }

    /// The same for a session already in hand (kept alive by `session` while `fn` runs).
    template <class Fn>
    auto onSessionThread(const std::shared_ptr<Session>& session, Fn fn) -> decltype(fn(std::declval<Session&>())) {
        using R = decltype(fn(*session));
        auto task = std::make_shared<std::packaged_task<R()>>([session, fn] { return fn(*session); });
        auto result = task->get_future();
        asio::post(session->context(), [task] { (*task)(); });
        if (result.wait_for(kDeadline) != std::future_status::ready) throw std::runtime_error("session thread stuck");
        return result.get();
    }

    /// The session's state; Closed once it is gone.
    SessionState state(const std::string& sid) {
        // One look-up: a session that closes between two look-ups would otherwise be found by
        // the first and missing at the second.
        const auto session = recorder_.session(sid);
        if (!session) return SessionState::Closed;
        return onSessionThread(session, [](Session& s) { return s.state(); });
    }

    /// Whether the session reaches `want` before the deadline (asked on its thread, repeatedly:
    /// for changes the client has no way to see, such as the server reading a close frame).
    bool reaches(const std::string& sid, SessionState want) {
        const auto until = std::chrono::steady_clock::now() + kDeadline;
        while (state(sid) != want) {
            if (std::chrono::steady_clock::now() > until) return false;
            std::this_thread::sleep_for(2ms);
        }
        return true;
    }

    void send(const std::string& sid, std::string packet, bool binary = false) {
        onSessionThread(sid, [packet = std::move(packet), binary](Session& s) {
            s.send(net::Frame{net::makeSharedBuffer(packet), binary});
        });
    }

private:
    net::IoThreads threads_{2};
    Recorder recorder_;
    Server server_;
    EngineRoute route_;
    std::shared_ptr<net::Listener> listener_;
    unsigned short port_ = 0;
};

} // namespace parley::engineio::test
