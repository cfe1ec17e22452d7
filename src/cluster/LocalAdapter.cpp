#include "cluster/LocalAdapter.hpp"

#include "socketio/Socket.hpp"

#include <algorithm>

namespace parley::cluster {

using socketio::Socket;

LocalAdapter::LocalAdapter(net::IoThreads& threads) : threads_(threads), shards_(threads.size()) {}

// Rooms are kept per io thread: join/leave/add/remove run on the socket's own thread, and
// touch only that thread's shard.
LocalAdapter::Shard& LocalAdapter::local() {
    const std::size_t here = net::IoThreads::ownIndex(threads_);
    PARLEY_ASSERT(here < shards_.size(), "one shard per io thread");
    return shards_[here];
}

LocalAdapter::ShardSize LocalAdapter::localSize() {
    const Shard& shard = local();
    return ShardSize{shard.sockets.size(), shard.rooms.size()};
}

void LocalAdapter::addSocket(Socket& socket) { local().sockets.emplace(socket.id(), &socket); }

bool LocalAdapter::join(Socket& socket, const std::string& room) {
    if (socket.inRoom(room)) return false;
    local().rooms[room].insert(&socket);
    socket.roomsMutable().push_back(room);
    return true;
}

bool LocalAdapter::leave(Socket& socket, const std::string& room) {
    auto& rooms = socket.roomsMutable();
    auto it = std::find(rooms.begin(), rooms.end(), room);
    if (it == rooms.end()) return false;
    rooms.erase(it);
    auto& shard = local();
    if (auto r = shard.rooms.find(room); r != shard.rooms.end()) {
        r->second.erase(&socket);
        if (r->second.empty()) shard.rooms.erase(r);
    }
    return true;
}

void LocalAdapter::removeSocket(Socket& socket) {
    auto& shard = local();
    for (const auto& room : socket.roomsMutable()) {
        if (auto r = shard.rooms.find(room); r != shard.rooms.end()) {
            r->second.erase(&socket);
            if (r->second.empty()) shard.rooms.erase(r);
        }
    }
    socket.roomsMutable().clear();
    shard.sockets.erase(socket.id());
}

std::vector<Socket*> LocalAdapter::select(Shard& shard, const socketio::BroadcastOptions& opts) const {
    std::vector<Socket*> targets;
    auto wanted = [&](Socket* s) {
        if (!opts.exceptSid.empty() && s->id() == opts.exceptSid) return false;
        for (const auto& ex : opts.except)
            if (s->inRoom(ex)) return false;
        return true;
    };
    if (opts.rooms.empty()) {
        targets.reserve(shard.sockets.size());
        for (const auto& [id, s] : shard.sockets)
            if (wanted(s)) targets.push_back(s);
        return targets;
    }
    for (const auto& room : opts.rooms) {
        if (auto r = shard.rooms.find(room); r != shard.rooms.end())
            for (Socket* s : r->second)
                if (wanted(s)) targets.push_back(s);
        // Every socket is also in the room named by its id.
        if (auto s = shard.sockets.find(room); s != shard.sockets.end() && wanted(s->second))
            targets.push_back(s->second);
    }
    if (opts.rooms.size() > 1) {
        // A socket in several of the rooms gets the packet once.
        std::sort(targets.begin(), targets.end());
        targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
    }
    return targets;
}

template <class Fn>
void LocalAdapter::onEveryShard(Fn fn) {
    const std::size_t here = net::IoThreads::currentIndex();
    for (std::size_t i = 0; i < shards_.size(); ++i) {
        if (i == here) continue;
        threads_.postTo(i, [this, i, fn] { fn(shards_[i]); });
    }
    if (here < shards_.size()) fn(shards_[here]);
}

void LocalAdapter::broadcast(const socketio::EncodedPacket& packet, const socketio::BroadcastOptions& opts) {
    onEveryShard([this, packet, opts](Shard& shard) {
        for (Socket* s : select(shard, opts)) s->send(packet, opts.isVolatile);
    });
}

void LocalAdapter::addSockets(const socketio::BroadcastOptions& opts, std::vector<std::string> rooms) {
    onEveryShard([this, opts, rooms](Shard& shard) {
        for (Socket* s : select(shard, opts))
            for (const auto& room : rooms) s->join(room);
    });
}

void LocalAdapter::delSockets(const socketio::BroadcastOptions& opts, std::vector<std::string> rooms) {
    onEveryShard([this, opts, rooms](Shard& shard) {
        for (Socket* s : select(shard, opts))
            for (const auto& room : rooms) s->leave(room);
    });
}

void LocalAdapter::disconnectSockets(const socketio::BroadcastOptions& opts, bool close) {
    onEveryShard([this, opts, close](Shard& shard) {
        std::vector<std::shared_ptr<Socket>> targets;
        for (Socket* s : select(shard, opts)) targets.push_back(s->shared_from_this());
        for (auto& s : targets) s->disconnect(close);
    });
}

} // namespace parley::cluster
