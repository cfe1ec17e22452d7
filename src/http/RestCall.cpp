#include "http/RestCall.hpp"

#include "chat/Payloads.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>

namespace parley::http {

namespace bhttp = boost::beast::http;

bhttp::status httpStatusOf(chat::ErrorCode code) noexcept {
    using chat::ErrorCode;
    switch (code) {
    case ErrorCode::ValidationError: return bhttp::status::bad_request;
    case ErrorCode::Forbidden: return bhttp::status::forbidden;
    case ErrorCode::Unauthorized: return bhttp::status::unauthorized;
    case ErrorCode::RateLimited: return bhttp::status::too_many_requests;
    case ErrorCode::NotFound: return bhttp::status::not_found;
    case ErrorCode::Internal: return bhttp::status::internal_server_error;
    }
    return bhttp::status::internal_server_error;
}

RestCall::RestCall(std::shared_ptr<net::HttpConnection> connection, const net::Request& req, CorsHeaders corsHeaders)
    : conn(std::move(connection)), version(req.version()),
      context(std::string(req.method_string()) + " " + std::string(req.target())), cors(std::move(corsHeaders)) {}

void RestCall::reply(bhttp::status status, const boost::json::value& body, std::int64_t retryAfterSeconds) const {
    net::Response res{status, version};
    res.set(bhttp::field::content_type, "application/json");
    cors.apply(res);
    if (retryAfterSeconds > 0) res.set(bhttp::field::retry_after, std::to_string(retryAfterSeconds));
    res.body() = boost::json::serialize(body);
    conn->respond(std::move(res));
}

void RestCall::ok(boost::json::value data, bhttp::status status) const {
    reply(status, boost::json::object{{"ok", true}, {"data", std::move(data)}});
}

void RestCall::fail(chat::ErrorCode code, std::string_view message, const std::string& cause) const {
    const std::string logContext = cause.empty() ? context : context + " (" + cause + ")";
    reply(httpStatusOf(code), chat::errorReply(code, message, logContext));
}

void RestCall::rateLimited(std::string_view message, std::int64_t retryAfterMs) const {
    reply(bhttp::status::too_many_requests, chat::errorReply(chat::ErrorCode::RateLimited, message, context),
          std::max<std::int64_t>(1, (retryAfterMs + 999) / 1000));
}

std::optional<boost::json::object> parseBody(const net::Request& req) { return chat::parseJsonObject(req.body()); }

std::string bearerOf(const net::Request& req) {
    auto it = req.find(bhttp::field::authorization);
    if (it == req.end()) return {};
    std::string_view v = it->value();
    if (v.size() < 7 || !(v.substr(0, 7) == "Bearer " || v.substr(0, 7) == "bearer ")) return {};
    return std::string(v.substr(7));
}

} // namespace parley::http
