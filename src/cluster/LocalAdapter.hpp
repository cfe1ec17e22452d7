#pragma once

#include "net/IoThreads.hpp"
#include "socketio/Adapter.hpp"

#include <deque>
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
    explicit LocalAdapter(net::IoThreads& threads);

    void addSocket(socketio::Socket& socket) override;
    bool join(socketio::Socket& socket, const std::string& room) override;
    bool leave(socketio::Socket& socket, const std::string& room) override;
    void removeSocket(socketio::Socket& socket) override;
    void broadcast(const socketio::EncodedPacket& packet, const socketio::BroadcastOptions& opts) override;
    void addSockets(const socketio::BroadcastOptions& opts, std::vector<std::string> rooms) override;
    void delSockets(const socketio::BroadcastOptions& opts, std::vector<std::string> rooms) override;
    void disconnectSockets(const socketio::BroadcastOptions& opts, bool close) override;

    /// What the calling io thread's shard indexes: its sockets, and its rooms with a member.
    /// Call it on an io thread; it reads that thread's shard only.
    struct ShardSize {
        std::size_t sockets = 0;
        std::size_t rooms = 0;
    };
    ShardSize localSize();

private:
    // Sockets are held by raw pointer: a socket removes itself, on this same thread, before it
    // can be destroyed, so a shard never sees a dangling one.
    struct Shard {
        std::unordered_map<std::string, socketio::Socket*> sockets;
        std::unordered_map<std::string, std::unordered_set<socketio::Socket*>> rooms;
    };

    Shard& local();
    std::vector<socketio::Socket*> select(Shard& shard, const socketio::BroadcastOptions& opts) const;
    /// Runs fn(shard) on every thread: inline for the caller's, posted for the others.
    template <class Fn>
    void onEveryShard(Fn fn);

    net::IoThreads& threads_;
    std::deque<Shard> shards_;
};

} // namespace parley::cluster
