#pragma once

// What the REST handlers (RestApi*.cpp) share: the request being answered and the small parsers
// of its parts. Internal to parley_http.

#include "chat/ErrorReply.hpp"
#include "http/Router.hpp"
#include "net/HttpConnection.hpp"
#include "net/IoThreads.hpp"

#include <boost/beast/http/status.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace parley::http {

/// The HTTP status of each of the contract's error codes.
boost::beast::http::status httpStatusOf(chat::ErrorCode code) noexcept;

/// Everything a handler needs to answer its request, on its own io thread. Copied into the
/// callbacks of the store and the password pool: the connection is shared, the rest is small.
struct RestCall {
    std::shared_ptr<net::HttpConnection> conn;
    unsigned version = 11;
    std::string context; ///< for error logs: "POST /v1/chats"
    CorsHeaders cors;    ///< what the request's Origin may see (Router::cors)

    RestCall(std::shared_ptr<net::HttpConnection> connection, const net::Request& req, CorsHeaders corsHeaders);

    /// `body` as JSON with `status`, and Retry-After when `retryAfterSeconds` > 0.
    void reply(boost::beast::http::status status, const boost::json::value& body,
               std::int64_t retryAfterSeconds = 0) const;
    /// `{ok:true, data}`.
    void ok(boost::json::value data, boost::beast::http::status status = boost::beast::http::status::ok) const;
    /// The error envelope with the code's status. `cause` goes to the log line that carries the
    /// correlationId, never to the client.
    void fail(chat::ErrorCode code, std::string_view message, const std::string& cause = {}) const;
    void internal(const std::string& error) const { fail(chat::ErrorCode::Internal, "Internal error", error); }
    /// 429 RATE_LIMITED with Retry-After: the whole seconds (at least 1) until a retry may pass.
    void rateLimited(std::string_view message, std::int64_t retryAfterMs) const;
};

/// The request's body as a JSON object; nullopt when it is none.
std::optional<boost::json::object> parseBody(const net::Request& req);

inline const boost::json::object* objectOrNull(const std::optional<boost::json::object>& body) {
    return body ? &*body : nullptr;
}

/// The token of `Authorization: Bearer <token>`; empty when there is none.
std::string bearerOf(const net::Request& req);

/// The io_context of the calling io thread: where a handler's store results come back to.
inline boost::asio::io_context& here(net::IoThreads& threads) {
    return threads.context(net::IoThreads::ownIndex(threads));
}

} // namespace parley::http
