#pragma once

#include "net/HttpConnection.hpp"
#include "support/Mailbox.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace parley::http::test {

using Headers = std::vector<std::pair<boost::beast::http::field, std::string>>;

/// One request on a fresh connection; the response (a HEAD's read without a body), or a gtest
/// failure and a 599 if none came within kDeadline.
inline net::Response request(unsigned short port, boost::beast::http::verb method, const std::string& target,
                             const Headers& headers = {}, std::string body = {}) {
    namespace bhttp = boost::beast::http;
    boost::asio::io_context io;
    boost::beast::tcp_stream stream(io);
    stream.expires_after(testsupport::kDeadline); // every step below, together
    net::Request req{method, target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    for (const auto& [field, value] : headers) req.set(field, value);
    if (!body.empty()) req.body() = std::move(body);
    req.prepare_payload();
    boost::beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    // A HEAD answer's Content-Length is the GET body's, which does not follow.
    parser.skip(method == bhttp::verb::head);
    boost::system::error_code result = boost::asio::error::timed_out;
    stream.async_connect({boost::asio::ip::make_address("127.0.0.1"), port}, [&](boost::system::error_code ec) {
        if (ec) return void(result = ec);
        bhttp::async_write(stream, req, [&](boost::system::error_code wec, std::size_t) {
            if (wec) return void(result = wec);
            bhttp::async_read(stream, buffer, parser,
                              [&](boost::system::error_code rec, std::size_t) { result = rec; });
        });
    });
    io.run();
    if (result) {
        ADD_FAILURE() << method << " " << target << ": " << result.message();
        net::Response failed;
        failed.result(599);
        return failed;
    }
    return parser.release();
}

} // namespace parley::http::test
