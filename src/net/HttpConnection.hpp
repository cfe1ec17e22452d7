#pragma once

#include "net/IoThreads.hpp"
#include "net/PeerLimits.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

namespace parley::net {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

/// Bounds on what one HTTP request may cost the server.
struct HttpLimits {
    std::uint32_t headerLimit = 16 * 1024;            // room for cookies and long query strings, no more
    std::uint64_t bodyLimit = 1'000'000;              // the Engine.IO maxPayload by default
    std::chrono::milliseconds requestTimeout{30'000}; // idle keep-alive and slow senders (slowloris)
    bool accessLog = false; // log each REST request and Engine.IO handshake answered (--access-log)
};

/// How long a connection refused for its address may take to send the request it is
/// answered 429 to: it holds a descriptor meanwhile, so not long.
inline constexpr std::chrono::milliseconds kRefusedRequestTimeout{2'000};

/// How long a connection answered before its request was read in full (413, 431, 400) keeps
/// reading and dropping the rest of the request before it closes: closing with unread input
/// resets the connection, and a peer still sending (a proxy streaming the body) may then lose
/// the answer (nginx turns it into a 502).
inline constexpr std::chrono::milliseconds kLingerTimeout{2'000};

/// Why a request (its header) must be refused before anything of it is routed or its body
/// read, or nullptr. These are the requests that a proxy in front may read differently from
/// us (request smuggling), answered 400 and then the connection closed (RFC 9112):
/// - Transfer-Encoding other than `chunked` alone (no other coding is implemented), with
///   Content-Length, or in an HTTP/1.0 request (sections 6.1 and 6.3);
/// - an HTTP/1.1 request without Host, or any request with more than one (section 3.2).
const char* requestFramingError(const Request& header) noexcept;

/// The client of `req`, which arrived from `peer`: the peer itself, or, when `peers` trusts it
/// as a proxy, the client its X-Forwarded-For / Forwarded headers name (PeerLimits).
boost::asio::ip::address clientAddress(const PeerLimits* peers, const boost::asio::ip::address& peer,
                                       const Request& req);

class HttpConnection;
class WsConnection;

/// Whatever answers one HTTP request: the connection it arrived on, or (in a cluster) the node
/// that forwarded it. Every call comes on one thread, the one the responder belongs to.
class Responder {
public:
    virtual ~Responder() = default;
    /// Answers the request, once; ignored once the responder is done (the peer left).
    virtual void respond(Response&& res) = 0;
    /// `fn` runs if the peer goes away while a response is still owed (e.g. a held long-poll);
    /// respond() drops it.
    virtual void onAbort(std::function<void()> fn) = 0;
};

/// The seam between the HTTP layer and whatever routes requests.
class HttpHandler {
public:
    virtual ~HttpHandler() = default;
    /// One complete request; answer it with conn->respond() now or later (long-polling).
    virtual void onRequest(const std::shared_ptr<HttpConnection>& conn, Request&& req) = 0;
    /// A request whose body is over the limit (only its header is here). The connection
    /// answers 413 and closes itself; this lets the handler act on it (e.g. end a session)
    /// and, by returning one, choose the 413 response (e.g. a JSON error envelope).
    virtual std::optional<Response> onOversizedRequest(const Request& header) {
        (void)header;
        return std::nullopt;
    }
};

/// One HTTP/1.1 connection: reads a request, hands it to the handler, writes the response,
/// repeats. At most one request is in progress at a time (no pipelining).
class HttpConnection final : public Responder, public std::enable_shared_from_this<HttpConnection> {
public:
    /// Where the connection is in its request/response cycle. Every change goes through one
    /// function that asserts it is one of:
    ///   Reading, Refused -> Awaiting (Reading only) | Writing | Done
    ///   Awaiting         -> Writing | Done
    ///   Writing          -> Reading | Done
    enum class Phase : std::uint8_t {
        Reading,  ///< reading a request, or waiting for the next one on a kept-alive connection
        Refused,  ///< over the per-address limit: reading the one request that is answered 429
        Awaiting, ///< the request is with the handler; a response is owed (a held long-poll)
        Writing,  ///< a response is being written
        Done,     ///< nothing more is read or written: closed, shut down, or handed on (upgrade, migrate)
    };

    /// Whether `to` may follow `from` (the table above).
    static constexpr bool isLegal(Phase from, Phase to) noexcept {
        switch (from) {
        case Phase::Reading: return to == Phase::Awaiting || to == Phase::Writing || to == Phase::Done;
        case Phase::Refused:
        case Phase::Awaiting: return to == Phase::Writing || to == Phase::Done;
        case Phase::Writing: return to == Phase::Reading || to == Phase::Done;
        case Phase::Done: return false;
        }
        return false;
    }

    HttpConnection(boost::asio::ip::tcp::socket&& socket, HttpHandler& handler, const HttpLimits& limits,
                   boost::beast::flat_buffer buffer = {}, PeerSlot slot = {});

    /// A connection over its address's limit: its first request is answered 429 and it closes.
    static std::shared_ptr<HttpConnection> refused(boost::asio::ip::tcp::socket&& socket, HttpHandler& handler,
                                                   const HttpLimits& limits);

    /// Starts reading requests.
    void start();

    /// Answers the current request. Must be called once per request, on this connection's thread;
    /// ignored once the connection is Done (the peer left, or it was handed on). The answer to a
    /// HEAD is sent without its body, with the Content-Length of the body it was given.
    void respond(Response&& res) override;

    /// Called if the peer goes away while a response is still owed (e.g. a held long-poll).
    void onAbort(std::function<void()> fn) override { onAbort_ = std::move(fn); }

    /// Index of the io thread that owns this connection.
    std::size_t owner() const noexcept { return owner_; }

    /// Moves the connection to io thread `index` and delivers `req` to the handler there.
    void migrate(IoThreads& threads, std::size_t index, Request&& req);

    /// Turns the connection into a WebSocket (the caller then calls accept(req) on it).
    std::shared_ptr<WsConnection> upgrade();

    /// "address:port" of the peer, or "" if the socket is already gone.
    std::string remoteAddress() const;
    /// The peer's address (unspecified if the socket is already gone).
    boost::asio::ip::address remoteIp() const;

    Phase phase() const noexcept { return phase_; }

private:
    void doRead();
    void onHeader(boost::system::error_code ec, std::size_t bytes);
    void dispatch(Request&& req);
    void onRead(boost::system::error_code ec, std::size_t bytes);
    void onWrite(boost::system::error_code ec, bool keepAlive);
    void fail(boost::system::error_code ec, const char* what);
    void doWatch();
    void onWatch(boost::system::error_code ec, std::size_t bytes);
    void respondAndClose(unsigned status, const char* body);
    void discardInput();
    void moveTo(Phase next) noexcept;
    void end() noexcept; ///< to Done, if not there already

    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    HttpHandler& handler_;
    HttpLimits limits_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    std::shared_ptr<Response> response_;
    std::function<void()> onAbort_;
    std::size_t owner_;
    PeerSlot slot_; ///< this connection's place in its address's count
    Phase phase_ = Phase::Reading;
    bool keepAlive_ = false; ///< the current request's: read the next one after its response
    /// The current request's method (unknown until one is dispatched): a HEAD's response goes
    /// without its body.
    boost::beast::http::verb method_ = boost::beast::http::verb::unknown;
    /// The request being answered, for the access log (limits_.accessLog): its method and path
    /// (never the query, which may carry a token), and when it was dispatched; empty: not logged.
    std::string accessMethod_, accessPath_;
    std::chrono::steady_clock::time_point accessStart_;
    /// A read is pending to notice the peer leaving while a response is owed. It may outlive the
    /// Awaiting phase: its completion then starts the next request's read.
    bool watching_ = false;
};

} // namespace parley::net
