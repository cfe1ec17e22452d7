#pragma once

#include "net/HttpConnection.hpp"

#include <boost/beast/http/verb.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

// The messages that carry a long-polling request from the node it reached to the node that owns
// its session, and the answer back, on the channels parley-engine#<uid>. A compact binary
// framing of Parley's own (no other server speaks it): a format byte, a kind byte, then fixed
// fields, 64-bit ids big-endian, and strings as a 32-bit big-endian length and the bytes.
//   Request:  from, id, method (1 GET, 2 POST), HTTP version (10, 11), target, Origin,
//             Content-Type, client address, body
//   Response: id, status (16 bits), HTTP version, field count (8 bits) and name/value pairs, body
//   Abort:    from, id (the client left before the answer)
// Anyone on Redis may publish there, so decode() is a parser of untrusted input, and what it
// accepts is safe to act on: a node uid is alphanumeric, a target has no space or control byte,
// header values no CR, LF or NUL, and a response carries only content and CORS headers (nothing
// that frames the client's connection).
namespace parley::cluster::forward {

inline constexpr std::string_view kChannelPrefix = "parley-engine#";

struct RequestMessage {
    std::string_view from; ///< the uid of the node the client is connected to
    std::uint64_t id = 0;  ///< that node's number for the request
    boost::beast::http::verb method = boost::beast::http::verb::get;
    unsigned version = 11;
    std::string_view target, origin, contentType, clientAddress, body; ///< empty origin: none
};

struct ResponseMessage {
    std::uint64_t id = 0;
    unsigned status = 200;
    unsigned version = 11;
    std::vector<std::pair<std::string_view, std::string_view>> fields;
    std::string_view body;
};

struct AbortMessage {
    std::string_view from;
    std::uint64_t id = 0;
};

/// Why a message was refused (for the log).
struct Malformed {
    const char* why;
};

/// A decoded message; its views point into the bytes decode() was given.
using Message = std::variant<RequestMessage, ResponseMessage, AbortMessage, Malformed>;

std::string encodeRequest(std::string_view from, std::uint64_t id, const net::Request& req,
                          std::string_view clientAddress);
/// Only the fields a client of a forwarded poll needs travel: Content-Type, Vary and the
/// Access-Control-* ones.
std::string encodeResponse(std::uint64_t id, const net::Response& res);
std::string encodeAbort(std::string_view from, std::uint64_t id);

Message decode(std::string_view bytes);

/// The request `m` describes, as the owner's Engine.IO server reads it.
net::Request toRequest(const RequestMessage& m);
/// The response `m` describes, for the client's connection.
net::Response toResponse(const ResponseMessage& m);

/// Whether a response field of this name is forwarded (and accepted when decoding).
bool forwardedField(std::string_view name) noexcept;

} // namespace parley::cluster::forward
