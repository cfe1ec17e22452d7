#pragma once

#include "net/IoThreads.hpp"
#include "socketio/Adapter.hpp"

#include <boost/json/array.hpp>

#include <deque>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace parley::socketio {
class Socket;
}

namespace parley::cluster {

/// The adapter of one process. Each io thread has its own shard of the room index, holding
/// only that thread's sockets, so joins and leaves never lock; a broadcast runs on the
/// calling thread's shard at once and is posted to every other thread with the same buffers.
class LocalAdapter : public socketio::Adapter {
public:
    /// The adapter of namespace `nsp` (its name goes into every packet it encodes).
    LocalAdapter(net::IoThreads& threads, std::string nsp);

    void addSocket(socketio::Socket& socket) override;
    bool join(socketio::Socket& socket, const std::string& room) override;
    bool leave(socketio::Socket& socket, const std::string& room) override;
    void removeSocket(socketio::Socket& socket) override;
    const std::vector<std::string>& roomsOf(const socketio::Socket& socket) const override;
    bool inRoom(const socketio::Socket& socket, std::string_view room) const override;
    /// Encodes `packet` once, on the calling thread, and delivers it.
    void broadcast(const socketio::BroadcastPacket& packet, const socketio::BroadcastOptions& opts) override;
    /// Delivers an encoded packet to the sockets of this process that `opts` selects.
    void deliver(const socketio::EncodedPacket& packet, const socketio::BroadcastOptions& opts);
    void addSockets(const socketio::BroadcastOptions& opts, std::vector<std::string> rooms) override;
    void delSockets(const socketio::BroadcastOptions& opts, std::vector<std::string> rooms) override;
    void disconnectSockets(const socketio::BroadcastOptions& opts, bool close) override;

    void gather(const socketio::BroadcastOptions& opts, SocketVisitor visit, std::size_t home,
                std::function<void(boost::json::array)> done) override;
    /// The rooms with a member on any thread (socket id rooms excluded), to `done` on io thread `home`.
    void allRooms(std::size_t home, std::function<void(boost::json::array)> done);

    /// What the calling io thread's shard indexes: its sockets, and its rooms with a member.
    /// Call it on an io thread; it reads that thread's shard only.
    struct ShardSize {
        std::size_t sockets = 0;
        std::size_t rooms = 0;
    };
    ShardSize localSize();

private:
    // Sockets are held by raw pointer: a socket removes itself, on this same thread, before it
    // can be destroyed, so a shard never sees a dangling one. A socket's rooms are kept here
    // twice, once per direction: the rooms it is in (for leaving them all, and inRoom), and each
    // room's sockets (for broadcasts).
    struct Member {
        socketio::Socket* socket = nullptr;
        std::vector<std::string> rooms; ///< its own id room excluded
    };
    struct Shard {
        std::unordered_map<std::string, Member> sockets;
        std::unordered_map<std::string, std::unordered_set<socketio::Socket*>> rooms;
    };

    Shard& local();
    const Shard& local() const;
    Member* memberOf(const socketio::Socket& socket);
    const Member* memberOf(const socketio::Socket& socket) const;
    std::vector<socketio::Socket*> select(Shard& shard, const socketio::BroadcastOptions& opts) const;
    /// Runs fn(shard) on every thread: inline for the caller's, posted for the others.
    template <class Fn>
    void onEveryShard(Fn fn);

    net::IoThreads& threads_;
    std::string nsp_;
    std::deque<Shard> shards_;
};

} // namespace parley::cluster
