#pragma once

#include "socketio/Types.hpp"

#include <boost/json/array.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parley::socketio {

/// The elements of `args` as JSON text without the brackets: `1,"2",{}`.
std::string argsText(const boost::json::array& args);

/// `["event",<argsText>]` as an EVENT (or BINARY_EVENT when `buffers` is not empty) of `nsp`.
EncodedPacket encodeEvent(std::string_view nsp, std::string_view event, std::string_view argsText,
                          std::optional<std::uint64_t> id = std::nullopt, std::span<const std::string> buffers = {});

/// `[<argsText>]` as an ACK (or BINARY_ACK) with `id`.
EncodedPacket encodeAck(std::string_view nsp, std::uint64_t id, std::string_view argsText,
                        std::span<const std::string> buffers = {});

/// CONNECT reply `40{"sid":...}` (`{"sid":...,"pid":...}` with a private id: connection state
/// recovery), CONNECT_ERROR `44{"message":...,"data":...}`, DISCONNECT `41`.
EncodedPacket encodeConnect(std::string_view nsp, std::string_view sid, std::string_view pid = {});
EncodedPacket encodeConnectError(std::string_view nsp, const ConnectError& error);
EncodedPacket encodeDisconnect(std::string_view nsp);

} // namespace parley::socketio
