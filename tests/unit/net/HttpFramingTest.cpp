#include "net/HttpConnection.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

using parley::net::Request;
using parley::net::requestFramingError;
namespace http = boost::beast::http;

namespace {

Request request(unsigned version, const std::vector<std::pair<http::field, std::string>>& fields) {
    Request req{http::verb::post, "/socket.io/", version};
    for (const auto& [name, value] : fields) req.insert(name, value);
    return req;
}

constexpr unsigned kHttp11 = 11;
constexpr unsigned kHttp10 = 10;

} // namespace

TEST(HttpFramingTest, AcceptsWhatTheServerFramesTheSameWayAsAnyProxy) {
    EXPECT_EQ(requestFramingError(request(kHttp11, {{http::field::host, "x"}})), nullptr);
    EXPECT_EQ(requestFramingError(request(kHttp11, {{http::field::host, "x"}, {http::field::content_length, "5"}})),
              nullptr);
    EXPECT_EQ(
        requestFramingError(request(kHttp11, {{http::field::host, "x"}, {http::field::transfer_encoding, "chunked"}})),
        nullptr);
    EXPECT_EQ(
        requestFramingError(request(kHttp11, {{http::field::host, "x"}, {http::field::transfer_encoding, "Chunked"}})),
        nullptr);
    // An empty Host is what a request without an authority sends.
    EXPECT_EQ(requestFramingError(request(kHttp11, {{http::field::host, ""}})), nullptr);
}

TEST(HttpFramingTest, Http10MayOmitHost) {
    EXPECT_EQ(requestFramingError(request(kHttp10, {})), nullptr);
    EXPECT_EQ(requestFramingError(request(kHttp10, {{http::field::content_length, "3"}})), nullptr);
}

TEST(HttpFramingTest, Http11NeedsExactlyOneHost) {
    EXPECT_NE(requestFramingError(request(kHttp11, {})), nullptr);
    EXPECT_NE(requestFramingError(request(kHttp11, {{http::field::host, "x"}, {http::field::host, "y"}})), nullptr);
    EXPECT_NE(requestFramingError(request(kHttp10, {{http::field::host, "x"}, {http::field::host, "x"}})), nullptr);
}

TEST(HttpFramingTest, RefusesEveryTransferEncodingButChunkedAlone) {
    for (const char* te :
         {"gzip", "identity", "gzip, chunked", "chunked, gzip", "chunked, chunked", "chunked;x=1", ""}) {
        EXPECT_NE(
            requestFramingError(request(kHttp11, {{http::field::host, "x"}, {http::field::transfer_encoding, te}})),
            nullptr)
            << te;
    }
    // The same codings over two field lines.
    EXPECT_NE(requestFramingError(request(kHttp11, {{http::field::host, "x"},
                                                    {http::field::transfer_encoding, "gzip"},
                                                    {http::field::transfer_encoding, "chunked"}})),
              nullptr);
}

TEST(HttpFramingTest, RefusesTransferEncodingWithContentLength) {
    EXPECT_NE(requestFramingError(request(kHttp11, {{http::field::host, "x"},
                                                    {http::field::transfer_encoding, "chunked"},
                                                    {http::field::content_length, "5"}})),
              nullptr);
    EXPECT_NE(requestFramingError(request(kHttp11, {{http::field::host, "x"},
                                                    {http::field::content_length, "0"},
                                                    {http::field::transfer_encoding, "gzip"}})),
              nullptr);
}

TEST(HttpFramingTest, RefusesTransferEncodingInHttp10) {
    EXPECT_NE(requestFramingError(request(kHttp10, {{http::field::transfer_encoding, "chunked"}})), nullptr);
}
