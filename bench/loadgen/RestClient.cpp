#include "RestClient.hpp"

#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <stdexcept>

namespace parley::bench {

namespace http = boost::beast::http;

RestClient::RestClient(boost::asio::ip::tcp::endpoint endpoint, std::string hostHeader)
    : endpoint_(endpoint), hostHeader_(std::move(hostHeader)) {}

RestResponse RestClient::request(http::verb method, std::string_view target, std::string_view token,
                                 const boost::json::value* body) {
    try {
        return attempt(method, target, token, body);
    } catch (const boost::system::system_error&) {
        // A keep-alive connection the server closed while idle: one retry on a fresh one.
        socket_.reset();
        buffer_.clear();
        try {
            return attempt(method, target, token, body);
        } catch (const boost::system::system_error& e) {
            socket_.reset();
            throw std::runtime_error("REST " + std::string(target) + ": " + e.code().message());
        }
    }
}

RestResponse RestClient::attempt(http::verb method, std::string_view target, std::string_view token,
                                 const boost::json::value* body) {
    if (!socket_) {
        socket_.emplace(ctx_);
        socket_->connect(endpoint_);
        socket_->set_option(boost::asio::ip::tcp::no_delay(true));
    }
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, hostHeader_);
    req.set(http::field::authorization, "Bearer " + std::string(token));
    req.keep_alive(true);
    if (body) {
        req.set(http::field::content_type, "application/json");
        req.body() = boost::json::serialize(*body);
    }
    req.prepare_payload();
    http::write(*socket_, req);

    http::response<http::string_body> res;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    http::read(*socket_, buffer_, parser);
    res = parser.release();
    if (!res.keep_alive()) socket_.reset();

    RestResponse out;
    out.status = res.result_int();
    boost::system::error_code ec;
    out.body = boost::json::parse(res.body(), ec);
    if (ec) out.body = nullptr;
    out.text = std::move(res.body());
    return out;
}

const boost::json::value& RestClient::dataOf(const RestResponse& r, unsigned expectedStatus, std::string_view what) {
    const auto* obj = r.body.if_object();
    const auto* ok = obj ? obj->if_contains("ok") : nullptr;
    const auto* data = obj ? obj->if_contains("data") : nullptr;
    if (r.status != expectedStatus || !ok || !ok->is_bool() || !ok->get_bool() || !data)
        throw std::runtime_error(std::string(what) + ": HTTP " + std::to_string(r.status) + " " +
                                 boost::json::serialize(r.body));
    return *data;
}

} // namespace parley::bench
