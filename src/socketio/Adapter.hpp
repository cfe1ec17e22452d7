#pragma once

#include "socketio/Types.hpp"

#include <boost/json/array.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parley::socketio {

class Namespace;

/// A broadcast's place in a chain of broadcasts that every process delivers in order, whichever
/// process sent each: `chain` names it (e.g. a chat), `seq` numbers it from 1 with no gaps (e.g.
/// the store's count of the chat's events, in commit order).
struct BroadcastOrder {
    std::string chain;
    std::int64_t seq = 0;
};

/// Who a broadcast reaches: sockets in any of `rooms` (every socket when empty), minus
/// sockets in any of `except`, minus the socket `exceptSid`. `order`: its place in a chain,
/// which a cluster adapter keeps (LocalAdapter ignores it).
struct BroadcastOptions {
    std::vector<std::string> rooms;
    std::vector<std::string> except;
    std::string exceptSid;
    bool local = false;      ///< this process only (cluster adapters skip the network)
    bool isVolatile = false; ///< may be dropped under backpressure
    std::optional<BroadcastOrder> order;
};

/// An event to broadcast, in its parts rather than encoded: a cluster adapter puts the raw
/// values on the wire, and every process encodes the Socket.IO packet once for its own sockets.
/// The views are valid only during the broadcast() call.
struct BroadcastPacket {
    std::string_view event;
    std::string_view argsText;            ///< the arguments as JSON text, without the brackets
    std::span<const std::string> buffers; ///< binary attachments, referred to by placeholders in argsText
};

/// The room registry and fan-out of one namespace. Every broadcast goes through it, so that
/// a cluster adapter can take it to other processes. Room changes are made on the socket's
/// owner thread; broadcast() may be called from any io thread.
class Adapter {
public:
    virtual ~Adapter() = default;
    /// Called once by the namespace that owns this adapter, when it is made.
    virtual void bind(Namespace& /*nsp*/) {}
    /// Registers a connected socket (it is then in the room named by its id).
    virtual void addSocket(Socket& socket) = 0;
    /// Puts the socket in `room`. Returns false if it already was.
    virtual bool join(Socket& socket, const std::string& room) = 0;
    /// Takes the socket out of `room`. Returns false if it was not in it.
    virtual bool leave(Socket& socket, const std::string& room) = 0;
    /// Forgets the socket and all its rooms (on disconnect).
    virtual void removeSocket(Socket& socket) = 0;
    /// The rooms `socket` is in, its own id room excluded, in the order it joined them. The
    /// adapter is the only keeper of room membership. On the socket's owner thread.
    virtual const std::vector<std::string>& roomsOf(const Socket& socket) const = 0;
    /// True if `socket` is in `room` (its own id room included).
    virtual bool inRoom(const Socket& socket, std::string_view room) const = 0;
    /// Hands `packet` to every socket that `opts` selects, on every thread (and every process of
    /// a cluster unless `opts.local`).
    virtual void broadcast(const BroadcastPacket& packet, const BroadcastOptions& opts) = 0;
    /// Makes every selected socket join (or leave) `rooms`.
    virtual void addSockets(const BroadcastOptions& opts, std::vector<std::string> rooms) = 0;
    virtual void delSockets(const BroadcastOptions& opts, std::vector<std::string> rooms) = 0;
    /// Disconnects every selected socket (and its whole connection when `close`).
    virtual void disconnectSockets(const BroadcastOptions& opts, bool close) = 0;

    /// Runs `visit` on every io thread with the sockets of this process that `opts` selects
    /// there (on their own thread, so it may read and change them), each appending what it found
    /// to its `out`; then `done` with everything found, on io thread `home`.
    using SocketVisitor = std::function<void(const std::vector<Socket*>& selected, boost::json::array& out)>;
    virtual void gather(const BroadcastOptions& opts, SocketVisitor visit, std::size_t home,
                        std::function<void(boost::json::array)> done) = 0;
};

} // namespace parley::socketio
