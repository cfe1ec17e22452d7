#pragma once

#include "socketio/Types.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace parley::socketio {

class Client;

/// Sees what happens on every connection and socket of the server: the instrumentation of an
/// admin dashboard. Every call comes on the thread of the connection concerned. The server makes
/// them only while it is watched (Server::setWatched), so an observer that no one is reading
/// costs each packet one relaxed load and nothing more.
class Observer {
public:
    virtual ~Observer() = default;

    /// An Engine.IO session opened, or closed for `reason` ("transport close", ...).
    virtual void connectionOpened() = 0;
    virtual void connectionClosed(std::string_view reason) = 0;
    /// A message from a client, or to one, of `bytes` (each attachment counts as a message).
    virtual void packetReceived(std::size_t bytes) = 0;
    virtual void packetSent(std::size_t bytes) = 0;

    /// A socket connected (its CONNECT answered, before the namespace's connection handler),
    /// or left its namespace for `reason`.
    virtual void socketConnected(Socket& socket) = 0;
    virtual void socketDisconnected(Socket& socket, std::string_view reason) = 0;
    /// A socket's connection moved from polling to WebSocket.
    virtual void socketUpgraded(Socket& socket) = 0;
    /// A socket joined or left a room (a disconnect's leaving of every room is not told).
    virtual void roomJoined(Socket& socket, const std::string& room) = 0;
    virtual void roomLeft(Socket& socket, const std::string& room) = 0;
    /// An event from the client, handled or not; and a packet on its way to the client.
    virtual void eventReceived(Socket& socket, const Event& event) = 0;
    virtual void packetDelivered(Socket& socket, const EncodedPacket& packet) = 0;
};

} // namespace parley::socketio
