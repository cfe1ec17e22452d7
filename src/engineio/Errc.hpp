#pragma once

#include "net/HttpConnection.hpp"

#include <boost/system/error_code.hpp>

namespace parley::engineio {

/// The Engine.IO protocol's request errors; the number is the `code` of the JSON body.
enum class Errc {
    UnknownTransport = 0,           ///< transport missing or not polling/websocket
    UnknownSid = 1,                 ///< no open session with this sid
    BadHandshakeMethod = 2,         ///< a handshake (no sid) that is not a GET
    BadRequest = 3,                 ///< anything else: wrong transport for the sid, upgrade misuse, ...
    Forbidden = 4,                  ///< refused by the application (e.g. origin not allowed)
    UnsupportedProtocolVersion = 5, ///< EIO missing or not 4
};

const boost::system::error_category& errorCategory() noexcept;

inline boost::system::error_code make_error_code(Errc e) noexcept { return {static_cast<int>(e), errorCategory()}; }

/// The HTTP answer for a request error: 400 (403 for Forbidden) with `{"code":N,"message":"..."}`.
net::Response toHttpResponse(Errc e);

} // namespace parley::engineio

template <>
struct boost::system::is_error_code_enum<parley::engineio::Errc> : std::true_type {};
