#pragma once

#include "engineio/Session.hpp"
#include "socketio/Operators.hpp"
#include "socketio/Types.hpp"
#include "socketio/codec/Packet.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <atomic>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace parley::socketio {

class Client;
class Namespace;

/// The answer to one client event that asked for an acknowledgement.
class Ack {
public:
    /// Counts a socket's acks not answered yet: one per live Ack (and its copies), released
    /// when the last copy is gone, on whatever thread that is.
    using PendingCounter = std::atomic<std::uint32_t>;

    Ack() = default;
    Ack(std::weak_ptr<Socket> socket, std::uint64_t id, std::shared_ptr<PendingCounter> pending = nullptr);

    /// True if the client asked for an ack.
    bool requested() const noexcept { return state_ != nullptr; }
    /// Sends `args` as the ack. Does nothing if no ack was requested or the socket is gone.
    void send(const boost::json::array& args) const;
    /// Sends already-serialized arguments (the text inside the brackets) and attachments.
    void sendRaw(std::string_view argsText, const std::vector<std::string>& buffers = {}) const;

private:
    struct State {
        std::weak_ptr<Socket> socket;
        std::uint64_t id = 0;
        std::shared_ptr<PendingCounter> pending;
        State() = default;
        State(const State&) = delete;
        State& operator=(const State&) = delete;
        ~State();
    };
    std::shared_ptr<State> state_;
};

/// The reply to a server->client emit with ack: an error (timeout, disconnected) or the
/// client's arguments and attachments.
using AckCallback = std::function<void(boost::system::error_code ec, const boost::json::array& args,
                                       const std::vector<std::string>& buffers)>;

/// One client's connection to one namespace. Owned by the session's thread; every method
/// must be called there.
class Socket : public std::enable_shared_from_this<Socket> {
public:
    Socket(Namespace& nsp, std::shared_ptr<Client> client, std::string id, boost::json::object auth,
           std::string authText);

    const std::string& id() const noexcept { return id_; }
    /// The private id of connection state recovery ("" when the socket has none): the CONNECT
    /// reply carries it, and the client presents it to recover this socket after a drop.
    const std::string& pid() const noexcept { return pid_; }
    /// For a middleware, before the socket connects: the id a recovered socket takes again, and
    /// the private id the CONNECT reply carries.
    void setIdentity(std::string id, std::string pid);
    Namespace& nsp() noexcept { return nsp_; }
    const boost::json::object& auth() const noexcept { return auth_; }
    /// The CONNECT payload as the client sent it ("{}" when it sent none).
    const std::string& authText() const noexcept { return authText_; }
    const engineio::Handshake& handshake() const;
    /// The io_context of the owner thread: completions for this socket are posted there.
    boost::asio::io_context& context();
    /// Application state (e.g. the authenticated user id), like socket.data in Node.
    boost::json::object& data() noexcept { return data_; }
    bool connected() const noexcept { return connected_; }
    /// The connection this socket is on (several sockets, one per namespace, may share it).
    const Client& client() const noexcept { return *client_; }

    void emit(std::string_view event, const boost::json::array& args = {});
    void emitRaw(std::string_view event, std::string_view argsText, const std::vector<std::string>& buffers = {});
    void emitWithAck(std::string_view event, const boost::json::array& args, std::chrono::milliseconds timeout,
                     AckCallback callback);
    void emitRawWithAck(std::string_view event, std::string_view argsText, const std::vector<std::string>& buffers,
                        std::chrono::milliseconds timeout, AckCallback callback);

    /// Joins `room` for what the client asked; false (and nothing changes) if the socket is in
    /// Config::maxRoomsPerSocket such rooms already.
    bool join(const std::string& room);
    /// Joins `room` for the server's own purposes (a user's room, presence rooms, socketsJoin):
    /// not limited and not counted against the limit. False only for a socket not connected.
    bool joinUncounted(const std::string& room);
    void leave(const std::string& room);
    /// The rooms this socket is in, its own id room excluded.
    const std::vector<std::string>& rooms() const;
    bool inRoom(std::string_view room) const;

    /// to(room) from this socket: the room, without this socket.
    BroadcastOperator to(std::string room);
    /// Every socket of the namespace but this one.
    BroadcastOperator broadcast();

    /// Leaves the namespace (sends DISCONNECT); with `closeTransport`, closes the whole connection.
    void disconnect(bool closeTransport = false);
    /// Closes the whole connection without a DISCONNECT packet: the client sees a transport
    /// close and, if it wants, reconnects.
    void closeConnection();

    /// From now on, packets for this socket are kept instead of sent, until endHold(): what
    /// reaches it while a recovery's replay is read is sent after the replay. Past
    /// Config::maxHeldPackets the connection is closed (the client comes back and recovers).
    void hold();
    /// Stops holding and hands back what was kept, in order; the caller sends what it keeps.
    std::vector<EncodedPacket> endHold();
    /// Sends `packet` even while holding (the replay itself).
    void sendNow(const EncodedPacket& packet);
    /// Until `until`, a packet for which `drop(text)` is true is not sent: what a replay already
    /// carried may still arrive live a moment later (committed before the replay's read,
    /// published after it). Costs the other sockets nothing.
    void dropUntil(std::chrono::steady_clock::time_point until, std::function<bool(std::string_view)> drop);
    /// Offers every packet as it leaves for the client (send() when not holding, sendNow(), so
    /// after any hold) to `rewrite`, which answers the packet to send instead, or nothing to
    /// send it as it is. For the socket's life; on its thread.
    using Rewrite = std::function<std::optional<EncodedPacket>(const EncodedPacket&)>;
    void setRewrite(Rewrite rewrite);

    // --- For Client and the adapter -------------------------------------------------------------
    /// Queues `packet` for this socket's client; a volatile one may be dropped if it is behind.
    void send(const EncodedPacket& packet, bool isVolatile = false);
    void onConnected();
    void onEvent(codec::Packet&& packet);
    void onAck(codec::Packet&& packet);
    /// The socket is gone; `reason` as Node names it ("client namespace disconnect", ...).
    void onDisconnect(std::string_view reason);

private:
    void deliver(const EncodedPacket& packet, bool isVolatile);
    void notifyJoined(const std::string& room);
    struct PendingAck {
        std::unique_ptr<boost::asio::steady_timer> timer;
        AckCallback callback;
    };

    Namespace& nsp_;
    std::shared_ptr<Client> client_;
    std::string id_;
    boost::json::object auth_;
    std::string authText_;
    boost::json::object data_;
    std::unordered_map<std::uint64_t, PendingAck> pendingAcks_;
    std::uint64_t nextAckId_ = 0;
    std::shared_ptr<Ack::PendingCounter> acksPending_; ///< client events not answered yet
    std::string pid_;
    std::vector<std::string> uncounted_;               ///< rooms joined by joinUncounted (not in the limit)
    std::unique_ptr<std::vector<EncodedPacket>> held_; ///< set only while holding (hold())
    struct DropFilter {
        std::chrono::steady_clock::time_point until;
        std::function<bool(std::string_view)> drop;
    };
    std::unique_ptr<DropFilter> dropFilter_; ///< set only after a replay (dropUntil())
    Rewrite rewrite_;                        ///< setRewrite(); empty: none
    bool connected_ = false;
};

/// The client's address without its port (the handshake's "ip:port").
std::string peerAddress(const Socket& socket);

/// What Node's fetchSockets() gives of a socket's handshake: {headers, time, address, xdomain,
/// secure, issued, url, query, auth}. Headers are not kept by Parley (an empty object); the
/// `token` of the auth payload is left out: it never leaves the process.
boost::json::object describeHandshake(const Socket& socket);

} // namespace parley::socketio
