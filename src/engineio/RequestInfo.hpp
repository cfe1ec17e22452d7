#pragma once

#include "engineio/Errc.hpp"

#include <boost/beast/http/verb.hpp>
#include <boost/system/result.hpp>

#include <string>
#include <string_view>

namespace parley::engineio {

enum class TransportType { Polling, WebSocket };

/// What an Engine.IO request asks for, parsed and validated before anything acts on it.
struct RequestInfo {
    TransportType transport = TransportType::Polling;
    std::string sid; ///< empty for a handshake
    boost::beast::http::verb method = boost::beast::http::verb::get;
    bool isUpgrade = false; ///< a WebSocket upgrade request

    /// Validates `target` (path and query) in the reference order: EIO, transport, then
    /// handshake method. The sid itself is checked by the server.
    static boost::system::result<RequestInfo> parse(std::string_view target, boost::beast::http::verb method,
                                                    bool isUpgrade);
};

} // namespace parley::engineio
