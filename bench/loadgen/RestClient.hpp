#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace parley::bench {

struct RestResponse {
    unsigned status = 0;
    boost::json::value body; ///< the parsed JSON answer (null if it was not JSON)
    std::string text;        ///< the answer as it came (for the text ones, like /metrics)
};

/// A plain sequential HTTP/1.1 client for set-up and verification (never measured): one
/// keep-alive connection, reopened when the server closes it. Throws std::runtime_error on
/// network failure, like any set-up step, so main() reports it and exits 2.
class RestClient {
public:
    RestClient(boost::asio::ip::tcp::endpoint endpoint, std::string hostHeader);

    /// Sends one request with `Authorization: Bearer <token>` and, when `body` is set, a JSON body.
    RestResponse request(boost::beast::http::verb method, std::string_view target, std::string_view token,
                         const boost::json::value* body = nullptr);

    /// The `data` of an `{ok:true,data}` answer with the expected status; throws otherwise,
    /// quoting the answer.
    static const boost::json::value& dataOf(const RestResponse& r, unsigned expectedStatus, std::string_view what);

private:
    RestResponse attempt(boost::beast::http::verb method, std::string_view target, std::string_view token,
                         const boost::json::value* body);

    boost::asio::io_context ctx_;
    boost::asio::ip::tcp::endpoint endpoint_;
    std::string hostHeader_;
    std::optional<boost::asio::ip::tcp::socket> socket_;
    boost::beast::flat_buffer buffer_;
};

} // namespace parley::bench
