#pragma once

#include "net/SharedBuffer.hpp"
#include "socketio/codec/Packet.hpp"

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parley::socketio {

class Socket;

/// A packet encoded once: the Engine.IO text packet ("4" + Socket.IO packet) and its binary
/// attachments, shared by every recipient.
struct EncodedPacket {
    net::SharedBuffer text;
    std::vector<net::SharedBuffer> binaries;
};

/// Why a middleware refused a connection; sent as CONNECT_ERROR `{message, data}`.
struct ConnectError {
    std::string message;
    boost::json::value data; ///< omitted from the packet when null
};

/// One event from a client. Everything here is valid only during the handler call.
struct Event {
    std::string_view name;
    std::span<const boost::json::value> args; ///< the arguments, event name excluded
    std::string_view rawArgs;                 ///< the same arguments as the client's JSON text
    const std::vector<std::string>& buffers;  ///< binary attachments (placeholders refer to them)
};

/// Settings of the Socket.IO layer.
struct Config {
    std::chrono::milliseconds connectTimeout{45'000}; // the reference default: slow mobile auth is fine
    codec::DecodeLimits decode;                       // attachments, JSON depth and event name per packet
    std::uint64_t maxAttachmentBytes = 1'000'000;     // all attachments of one packet together
    std::size_t maxNamespacesPerConnection = 8;       // CONNECTs beyond this get CONNECT_ERROR
    std::size_t maxRoomsPerSocket = 1000;             // client joins beyond this are refused (Socket::join)
    std::uint32_t maxPendingAcks = 128;               // client events awaiting our ack, per socket
    std::size_t maxHeldPackets = 10'000;              // kept for a socket during a recovery's replay
};

} // namespace parley::socketio
