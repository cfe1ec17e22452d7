#pragma once

#include "socketio/Adapter.hpp"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The messages of the cluster bus, in the wire format of @socket.io/redis-adapter 8.x (classic
// PUBLISH/PSUBSCRIBE): broadcasts are MessagePack arrays [uid, packet, opts]; requests and
// responses are JSON text, except BROADCAST requests and BROADCAST_ACK responses (MessagePack
// maps). Everything here is a pure function of bytes, so that what any peer on Redis may
// publish can be fuzzed without a Redis.
namespace parley::cluster::bus {

/// Request types of the adapter protocol (the numbers are the wire's).
enum class RequestType : int {
    Sockets = 0,
    AllRooms = 1,
    RemoteJoin = 2,
    RemoteLeave = 3,
    RemoteDisconnect = 4,
    RemoteFetch = 5,
    ServerSideEmit = 6,
    Broadcast = 7,
    BroadcastClientCount = 8,
    BroadcastAck = 9,
};

/// Why a bus message was dropped.
enum class Malformed {
    Decode,      ///< not MessagePack / JSON, truncated, too deep
    Shape,       ///< the wrong shape: missing fields, fields of the wrong type
    Namespace,   ///< for another namespace
    UnknownType, ///< a request type this protocol does not have
};
std::string_view describe(Malformed m) noexcept;

/// An event for the sockets of this process, as received: the parts of its Socket.IO packet.
struct Event {
    std::string uid; ///< the sending node ("emitter" for @socket.io/redis-emitter)
    std::string event;
    std::string argsText;             ///< the arguments as JSON text, without brackets
    std::vector<std::string> buffers; ///< binary attachments, in placeholder order
    socketio::BroadcastOptions opts;
    std::optional<std::uint64_t> ackTimeoutMs; ///< flags.timeout of a broadcast with acks
};

/// A request from another node (or an emitter).
struct Request {
    RequestType type = RequestType::Sockets;
    std::string uid;
    std::string requestId;
    bool hasOpts = false;            ///< opts given: the request selects sockets by room
    socketio::BroadcastOptions opts; ///< opts.rooms / opts.except (or `rooms` of a SOCKETS request)
    std::vector<std::string> rooms;  ///< rooms to join or leave (REMOTE_JOIN/LEAVE with opts)
    std::string sid, room;           ///< the single-socket form of REMOTE_JOIN/LEAVE/DISCONNECT
    bool close = false;              ///< REMOTE_DISCONNECT: close the whole connection
    boost::json::array data;         ///< SERVER_SIDE_EMIT: [event, ...args]
    bool wantsReply = false;         ///< SERVER_SIDE_EMIT: the sender waits for an answer
    Event packet;                    ///< BROADCAST: the event to deliver with acks
};

/// What a bus message may hold. The defaults admit anything a client may send (JSON depth and
/// attachments up to the Socket.IO layer's highest settings, 64 and 256) inside the three levels
/// of [uid, {data: [...]}, opts].
struct Limits {
    std::size_t maxBytes = 16 * 1024 * 1024; ///< larger messages are dropped undecoded
    std::size_t maxDepth = 64 + 3;
    std::size_t maxAttachments = 256;
};

/// A broadcast from the broadcast channel, for namespace `nsp`.
boost::system::result<Event, Malformed> parseBroadcast(std::string_view bytes, std::string_view nsp,
                                                       const Limits& limits = {});
/// A message from the request channel.
boost::system::result<Request, Malformed> parseRequest(std::string_view bytes, std::string_view nsp,
                                                       const Limits& limits = {});

/// [uid, {type:2, data:[event, ...args], nsp}, {rooms, except, flags}] for the broadcast channel,
/// with `order: [chain, seq]` in the options when it has a BroadcastOrder (Parley's own key:
/// Node's adapter passes the options on and ignores it).
/// `args` is the packet's argument text (without brackets); placeholders refer to `buffers`.
std::string encodeBroadcast(std::string_view uid, std::string_view nsp, const socketio::BroadcastPacket& packet,
                            const socketio::BroadcastOptions& opts);
/// The channel of a broadcast: `<key>#<nsp>#`, or `<key>#<nsp>#<room>#` for exactly one room.
std::string broadcastChannel(std::string_view prefix, const socketio::BroadcastOptions& opts);

/// JSON requests this node sends: REMOTE_JOIN / REMOTE_LEAVE with opts, REMOTE_DISCONNECT.
std::string encodeRoomsRequest(std::string_view uid, RequestType type, const socketio::BroadcastOptions& opts,
                               const std::vector<std::string>& rooms);
std::string encodeDisconnectRequest(std::string_view uid, const socketio::BroadcastOptions& opts, bool close);
/// The BROADCAST_ACK response: a MessagePack map {type:9, requestId, packet: arg}.
std::string encodeBroadcastAck(std::string_view requestId, const boost::json::value& arg,
                               const std::vector<std::string>& buffers);

} // namespace parley::cluster::bus
