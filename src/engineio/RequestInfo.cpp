#include "engineio/RequestInfo.hpp"

#include <boost/url/parse.hpp>

namespace parley::engineio {

boost::system::result<RequestInfo> RequestInfo::parse(std::string_view target, boost::beast::http::verb method,
                                                      bool isUpgrade) {
    auto url = boost::urls::parse_origin_form(target);
    if (!url) return Errc::BadRequest;
    const auto params = url->params();

    auto find = [&](std::string_view key) -> std::string {
        auto it = params.find(key);
        if (it == params.end() || !(*it).has_value) return {};
        return std::string((*it).value);
    };

    if (find("EIO") != "4") return Errc::UnsupportedProtocolVersion;

    RequestInfo info;
    const std::string transport = find("transport");
    if (transport == "polling")
        info.transport = TransportType::Polling;
    else if (transport == "websocket")
        info.transport = TransportType::WebSocket;
    else
        return Errc::UnknownTransport;

    info.sid = find("sid");
    info.method = method;
    info.isUpgrade = isUpgrade;
    if (info.sid.empty()) {
        if (method != boost::beast::http::verb::get) return Errc::BadHandshakeMethod;
        if (info.transport == TransportType::WebSocket && !isUpgrade) return Errc::BadRequest;
    }
    // A WebSocket transport is only ever reached through an upgrade, and an upgrade only for it.
    if (isUpgrade != (info.transport == TransportType::WebSocket)) return Errc::BadRequest;
    return info;
}

} // namespace parley::engineio
