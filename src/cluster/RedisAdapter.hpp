#pragma once

#include "cluster/BusMessages.hpp"
#include "cluster/ChainOrder.hpp"
#include "cluster/LocalAdapter.hpp"
#include "socketio/Adapter.hpp"

#include <boost/asio/steady_timer.hpp>

#include <string>
#include <string_view>

namespace parley::socketio {
class Namespace;
}

namespace parley::cluster {

class RedisBus;

/// The adapter of one namespace in a cluster: the sockets of this process are a LocalAdapter's;
/// every broadcast and room operation is also published on Redis in the wire format of
/// @socket.io/redis-adapter 8.x, and what other nodes (Parley or Node) and emitters publish
/// reaches the local sockets. Every request type of that protocol is answered, so Node nodes
/// never wait out their request timeout on a Parley node.
///
/// A broadcast with a BroadcastOrder (a chat's events) reaches this process's sockets through
/// a ChainOrder on the bus's home thread, its own and other nodes' alike: every node delivers a
/// chain's broadcasts in seq order, whichever node committed each.
class RedisAdapter : public socketio::Adapter {
public:
    RedisAdapter(RedisBus& bus, net::IoThreads& threads, std::string nsp);

    void bind(socketio::Namespace& nsp) override { namespace_ = &nsp; }
    void addSocket(socketio::Socket& socket) override { local_.addSocket(socket); }
    bool join(socketio::Socket& socket, const std::string& room) override { return local_.join(socket, room); }
    bool leave(socketio::Socket& socket, const std::string& room) override { return local_.leave(socket, room); }
    void removeSocket(socketio::Socket& socket) override { local_.removeSocket(socket); }
    const std::vector<std::string>& roomsOf(const socketio::Socket& socket) const override {
        return local_.roomsOf(socket);
    }
    bool inRoom(const socketio::Socket& socket, std::string_view room) const override {
        return local_.inRoom(socket, room);
    }
    void broadcast(const socketio::BroadcastPacket& packet, const socketio::BroadcastOptions& opts) override;
    void addSockets(const socketio::BroadcastOptions& opts, std::vector<std::string> rooms) override;
    void delSockets(const socketio::BroadcastOptions& opts, std::vector<std::string> rooms) override;
    void disconnectSockets(const socketio::BroadcastOptions& opts, bool close) override;
    /// This process's sockets only (Node's fetchSockets of another node is not asked for).
    void gather(const socketio::BroadcastOptions& opts, SocketVisitor visit, std::size_t home,
                std::function<void(boost::json::array)> done) override {
        local_.gather(opts, std::move(visit), home, std::move(done));
    }

    const std::string& name() const noexcept { return nsp_; }
    /// `<key>#<nsp>#`: broadcasts (followed by `<room>#` for a single room).
    const std::string& broadcastPrefix() const noexcept { return broadcastPrefix_; }
    const std::string& requestChannel() const noexcept { return requestChannel_; }
    const std::string& responseChannel() const noexcept { return responseChannel_; }
    /// `<key>-response#<nsp>#<uid>#`: responses addressed to this node only.
    const std::string& ownResponseChannel() const noexcept { return ownResponseChannel_; }

    // --- For RedisBus, on its thread -----------------------------------------------------------
    void onBroadcast(std::string_view channel, std::string_view payload);
    void onRequest(std::string_view channel, std::string_view payload);

private:
    void answer(const bus::Request& request);
    void answerFetch(const bus::Request& request);
    void answerSockets(const bus::Request& request);
    void answerAllRooms(const bus::Request& request);
    void answerRoomChange(const bus::Request& request);
    void answerServerSideEmit(bus::Request request);
    void answerBroadcastWithAck(bus::Request request);
    void respond(std::string payload);
    /// On the home thread: through the chain order to the local sockets.
    void deliverInOrder(socketio::EncodedPacket packet, socketio::BroadcastOptions opts);
    void armOrderTimer();
    /// Counts in the bus's metrics what the chain order did since `before`.
    void noteOrder(const ChainOrder::Stats& before);

    RedisBus& bus_;
    LocalAdapter local_;
    std::string nsp_;
    socketio::Namespace* namespace_ = nullptr;
    std::string broadcastPrefix_, requestChannel_, responseChannel_, ownResponseChannel_;
    // Home thread only.
    ChainOrder order_;
    boost::asio::steady_timer orderTimer_;
    std::optional<ChainOrder::Clock::time_point> orderTimerAt_; ///< when orderTimer_ fires, if armed
};

} // namespace parley::cluster
