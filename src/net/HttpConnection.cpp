#include "net/HttpConnection.hpp"

#include "core/Assert.hpp"
#include "core/Log.hpp"
#include "net/WsConnection.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace parley::net {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

const char* requestFramingError(const Request& header) noexcept {
    const auto hosts = header.count(http::field::host);
    if (hosts > 1) return "Bad Request: more than one Host header";
    if (hosts == 0 && header.version() >= 11) return "Bad Request: an HTTP/1.1 request needs a Host header";
    const auto codings = header.count(http::field::transfer_encoding);
    if (codings == 0) return nullptr;
    if (header.version() < 11) return "Bad Request: Transfer-Encoding in an HTTP/1.0 request";
    if (header.count(http::field::content_length) > 0) return "Bad Request: both Transfer-Encoding and Content-Length";
    // The field's value comes without surrounding whitespace; anything but the one word (a list,
    // parameters, another coding) names a coding that is not implemented.
    if (codings > 1 || !beast::iequals(header[http::field::transfer_encoding], "chunked"))
        return "Bad Request: Transfer-Encoding other than chunked";
    return nullptr;
}

namespace {
// Every line of header `name`, joined with "," (a list header may be split over several lines).
std::string joinedHeader(const Request& req, std::string_view name) {
    std::string out;
    for (auto [it, end] = req.equal_range(name); it != end; ++it) {
        if (!out.empty()) out += ',';
        out += it->value();
    }
    return out;
}
} // namespace

boost::asio::ip::address clientAddress(const PeerLimits* peers, const boost::asio::ip::address& peer,
                                       const Request& req) {
    if (!peers || !peers->trusted(peer)) return peer;
    return peers->clientAddress(peer, joinedHeader(req, "X-Forwarded-For"), joinedHeader(req, "Forwarded"));
}

HttpConnection::HttpConnection(tcp::socket&& socket, HttpHandler& handler, const HttpLimits& limits,
                               beast::flat_buffer buffer, PeerSlot slot)
    : stream_(std::move(socket)), buffer_(std::move(buffer)), handler_(handler), limits_(limits),
      owner_(IoThreads::currentIndex()), slot_(std::move(slot)) {}

std::shared_ptr<HttpConnection> HttpConnection::refused(tcp::socket&& socket, HttpHandler& handler,
                                                        const HttpLimits& limits) {
    HttpLimits shortLimits = limits;
    shortLimits.requestTimeout = std::min(limits.requestTimeout, kRefusedRequestTimeout);
    auto conn = std::make_shared<HttpConnection>(std::move(socket), handler, shortLimits);
    conn->phase_ = Phase::Refused;
    return conn;
}

void HttpConnection::start() { doRead(); }

void HttpConnection::doRead() {
    method_ = http::verb::unknown;
    parser_.emplace();
    parser_->header_limit(limits_.headerLimit);
    parser_->body_limit(limits_.bodyLimit);
    // One deadline for the whole request: a client that sends half a request is dropped.
    stream_.expires_after(limits_.requestTimeout);
    // The header first: a request whose framing is refused is refused before its body is read.
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t n) { self->onHeader(ec, n); });
}

void HttpConnection::onHeader(beast::error_code ec, std::size_t bytes) {
    if (!ec) {
        // A refused request leaves us out of step with any proxy in front: nothing more is read
        // from the connection (what follows could be a smuggled request), it is closed.
        if (const char* error = requestFramingError(parser_->get())) return respondAndClose(400, error);
        if (!parser_->is_done()) {
            http::async_read(
                stream_, buffer_, *parser_,
                [self = shared_from_this()](beast::error_code readEc, std::size_t n) { self->onRead(readEc, n); });
            return;
        }
    }
    onRead(ec, bytes);
}

void HttpConnection::onRead(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) {
        end();
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        return;
    }
    if (ec == http::error::body_limit) {
        if (auto res = handler_.onOversizedRequest(parser_->get())) {
            keepAlive_ = false;
            res->result(http::status::payload_too_large);
            return respond(std::move(*res));
        }
        return respondAndClose(413, "Payload Too Large");
    }
    if (ec == http::error::header_limit) return respondAndClose(431, "Request Header Fields Too Large");
    if (ec == beast::error::timeout) return fail(ec, "read");
    if (ec && ec.category() == http::make_error_code(http::error::bad_target).category())
        return respondAndClose(400, "Bad Request");
    if (ec) return fail(ec, "read");

    if (phase_ == Phase::Refused) return respondAndClose(429, "Too many connections from this address");

    // The request is in; a long-poll may now be held for as long as the handler likes.
    stream_.expires_never();
    Request req = parser_->release();
    keepAlive_ = req.keep_alive();
    dispatch(std::move(req));
}

namespace {

/// What the access log records of a request: REST calls and Engine.IO handshakes (a request to
/// the Engine.IO path without a sid), not the polls and posts of a session.
bool logged(std::string_view target) {
    const auto query = target.find('?');
    const std::string_view path = target.substr(0, query);
    if (path.starts_with("/v1/")) return true;
    if (!path.starts_with("/socket.io")) return false;
    const std::string_view params = query == std::string_view::npos ? std::string_view() : target.substr(query);
    return params.find("?sid=") == std::string_view::npos && params.find("&sid=") == std::string_view::npos;
}

} // namespace

void HttpConnection::dispatch(Request&& req) {
    accessPath_.clear();
    if (limits_.accessLog && logged(req.target())) {
        const std::string_view target = req.target();
        accessMethod_ = std::string(req.method_string());
        accessPath_ = std::string(target.substr(0, target.find('?')));
        accessStart_ = std::chrono::steady_clock::now();
    }
    method_ = req.method();
    moveTo(Phase::Awaiting);
    auto self = shared_from_this();
    handler_.onRequest(self, std::move(req));
    // Not answered at once (a long-poll): keep a read pending so that a peer leaving is noticed.
    if (phase_ == Phase::Awaiting && !watching_) doWatch();
}

void HttpConnection::doWatch() {
    watching_ = true;
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) { self->onWatch(ec, n); });
}

void HttpConnection::onWatch(beast::error_code ec, std::size_t bytes) {
    watching_ = false;
    if (ec) {
        auto onAbort = std::move(onAbort_);
        onAbort_ = nullptr;
        if (phase_ == Phase::Awaiting && onAbort) onAbort();
        end();
        beast::error_code ignored;
        stream_.socket().close(ignored);
        return;
    }
    // The next request started early: keep its bytes for the parser.
    buffer_.commit(bytes);
    // Read only once the response is out (onWrite leaves the read to this completion).
    if (phase_ == Phase::Reading) doRead();
}

void HttpConnection::respond(Response&& res) {
    onAbort_ = nullptr;
    if (phase_ == Phase::Done) return;
    if (!accessPath_.empty()) {
        const auto took =
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - accessStart_);
        const auto status = static_cast<unsigned>(res.result_int());
        const std::string remote = remoteAddress();
        char ms[32];
        std::snprintf(ms, sizeof ms, "%.3f", static_cast<double>(took.count()) / 1000.0);
        core::LogFields fields{{"event", "http"},        {"method", accessMethod_},
                               {"path", accessPath_},    {"status", std::to_string(status), true},
                               {"durationMs", ms, true}, {"remote", remote}};
        spdlog::info("{} {} {} {} ms {}", accessMethod_, accessPath_, status, ms, remote);
        accessPath_.clear();
    }
    moveTo(Phase::Writing);
    res.keep_alive(keepAlive_);
    res.prepare_payload();
    // HEAD: the header of the GET answer, Content-Length included, and no body (RFC 9110 9.3.2).
    if (method_ == http::verb::head) res.body().clear();
    response_ = std::make_shared<Response>(std::move(res));
    const bool keepAlive = response_->keep_alive();
    stream_.expires_after(limits_.requestTimeout);
    http::async_write(stream_, *response_, [self = shared_from_this(), keepAlive](beast::error_code ec, std::size_t) {
        self->onWrite(ec, keepAlive);
    });
}

void HttpConnection::onWrite(beast::error_code ec, bool keepAlive) {
    response_.reset();
    if (ec) return fail(ec, "write");
    if (!keepAlive) {
        end();
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        // Answered before the request was read in full: drop the rest until the peer closes.
        if (parser_ && !parser_->is_done()) {
            stream_.expires_after(kLingerTimeout);
            discardInput();
        }
        return;
    }
    // The watch may have noticed the peer leaving during the write.
    if (phase_ == Phase::Done) return;
    moveTo(Phase::Reading);
    // With a watch read pending, its completion starts the next request's read.
    if (!watching_) doRead();
}

void HttpConnection::discardInput() {
    stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, std::size_t) {
        // The peer's end, an error or kLingerTimeout: the last reference goes, the socket closes.
        if (!ec) self->discardInput();
    });
}

void HttpConnection::respondAndClose(unsigned status, const char* body) {
    Response res{static_cast<http::status>(status), 11};
    res.set(http::field::content_type, "text/plain");
    res.body() = body;
    keepAlive_ = false;
    respond(std::move(res));
}

void HttpConnection::fail(beast::error_code ec, const char* what) {
    end();
    if (ec == boost::asio::error::operation_aborted || ec == beast::error::timeout) return;
    spdlog::debug("http {}: {}", what, ec.message());
}

void HttpConnection::migrate(IoThreads& threads, std::size_t index, Request&& req) {
    // Only the descriptor crosses threads: the new owner wraps it in a socket of its own context.
    end();
    beast::error_code ec;
    tcp::socket socket = stream_.release_socket();
    const auto protocol = socket.local_endpoint(ec).protocol();
    if (ec) return;
    const int fd = socket.release(ec);
    if (ec) return;
    auto& context = threads.context(index);
    threads.postTo(index, [&context, fd, protocol, req = std::move(req), buffer = std::move(buffer_),
                           &handler = handler_, limits = limits_, keepAlive = keepAlive_,
                           slot = std::move(slot_)]() mutable {
        tcp::socket moved(context);
        beast::error_code assignEc;
        moved.assign(protocol, fd, assignEc);
        if (assignEc) {
            ::close(fd);
            return;
        }
        auto conn =
            std::make_shared<HttpConnection>(std::move(moved), handler, limits, std::move(buffer), std::move(slot));
        conn->keepAlive_ = keepAlive;
        conn->dispatch(std::move(req));
    });
}

std::shared_ptr<WsConnection> HttpConnection::upgrade() {
    end();
    stream_.expires_never();
    return std::make_shared<WsConnection>(std::move(stream_), std::move(buffer_), std::move(slot_));
}

std::string HttpConnection::remoteAddress() const {
    beast::error_code ec;
    const auto ep = stream_.socket().remote_endpoint(ec);
    if (ec) return {};
    return ep.address().to_string() + ":" + std::to_string(ep.port());
}

void HttpConnection::moveTo(Phase next) noexcept {
    PARLEY_ASSERT(isLegal(phase_, next), "HttpConnection: a phase change outside the request cycle's table");
    phase_ = next;
}

void HttpConnection::end() noexcept {
    if (phase_ != Phase::Done) moveTo(Phase::Done);
}

boost::asio::ip::address HttpConnection::remoteIp() const {
    beast::error_code ec;
    const auto ep = stream_.socket().remote_endpoint(ec);
    return ec ? boost::asio::ip::address{} : ep.address();
}

} // namespace parley::net
