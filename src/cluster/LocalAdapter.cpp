#include "cluster/LocalAdapter.hpp"

#include "socketio/Encode.hpp"
#include "socketio/Socket.hpp"

#include <boost/container/small_vector.hpp>

#include <algorithm>
#include <memory>
#include <mutex>

namespace parley::cluster {

using socketio::Socket;

LocalAdapter::LocalAdapter(net::IoThreads& threads, std::string nsp)
    : threads_(threads), nsp_(std::move(nsp)), shards_(threads.size()) {}

// Rooms are kept per io thread: join/leave/add/remove run on the socket's own thread, and
// touch only that thread's shard.
LocalAdapter::Shard& LocalAdapter::local() {
    const std::size_t here = net::IoThreads::ownIndex(threads_);
    PARLEY_ASSERT(here < shards_.size(), "one shard per io thread");
    return shards_[here];
}

const LocalAdapter::Shard& LocalAdapter::local() const {
    const std::size_t here = net::IoThreads::ownIndex(threads_);
    PARLEY_ASSERT(here < shards_.size(), "one shard per io thread");
    return shards_[here];
}

LocalAdapter::Member* LocalAdapter::memberOf(const Socket& socket) {
    auto& sockets = local().sockets;
    auto it = sockets.find(socket.id());
    return it == sockets.end() ? nullptr : &it->second;
}

const LocalAdapter::Member* LocalAdapter::memberOf(const Socket& socket) const {
    const auto& sockets = local().sockets;
    auto it = sockets.find(socket.id());
    return it == sockets.end() ? nullptr : &it->second;
}

const std::vector<std::string>& LocalAdapter::roomsOf(const Socket& socket) const {
    static const std::vector<std::string> kNone;
    const Member* m = memberOf(socket);
    return m ? m->rooms : kNone;
}

bool LocalAdapter::inRoom(const Socket& socket, std::string_view room) const {
    const Member* m = memberOf(socket);
    return m && std::find(m->rooms.begin(), m->rooms.end(), room) != m->rooms.end();
}

LocalAdapter::ShardSize LocalAdapter::localSize() {
    const Shard& shard = local();
    return ShardSize{shard.sockets.size(), shard.rooms.size()};
}

void LocalAdapter::addSocket(Socket& socket) { local().sockets.emplace(socket.id(), Member{&socket, {}}); }

bool LocalAdapter::join(Socket& socket, const std::string& room) {
    Member* m = memberOf(socket);
    if (!m || room == socket.id() || std::find(m->rooms.begin(), m->rooms.end(), room) != m->rooms.end()) return false;
    local().rooms[room].insert(&socket);
    m->rooms.push_back(room);
    return true;
}

bool LocalAdapter::leave(Socket& socket, const std::string& room) {
    Member* m = memberOf(socket);
    if (!m) return false;
    auto& rooms = m->rooms;
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
    auto member = shard.sockets.find(socket.id());
    if (member == shard.sockets.end()) return;
    for (const auto& room : member->second.rooms) {
        if (auto r = shard.rooms.find(room); r != shard.rooms.end()) {
            r->second.erase(&socket);
            if (r->second.empty()) shard.rooms.erase(r);
        }
    }
    shard.sockets.erase(member);
}

std::vector<Socket*> LocalAdapter::select(Shard& shard, const socketio::BroadcastOptions& opts) const {
    std::vector<Socket*> targets;
    // The excepted rooms and sockets, looked up once per broadcast rather than once per candidate:
    // a presence change of a 5,000-member chat has 5,000 candidates. An excepted name may be a
    // room or a socket's id (every socket is in the room named by its id).
    boost::container::small_vector<const std::unordered_set<Socket*>*, 4> exceptRooms;
    boost::container::small_vector<const Socket*, 4> exceptSockets;
    auto except = [&](const std::string& name) {
        if (auto r = shard.rooms.find(name); r != shard.rooms.end()) exceptRooms.push_back(&r->second);
        if (auto s = shard.sockets.find(name); s != shard.sockets.end()) exceptSockets.push_back(s->second.socket);
    };
    if (!opts.exceptSid.empty())
        if (auto s = shard.sockets.find(opts.exceptSid); s != shard.sockets.end())
            exceptSockets.push_back(s->second.socket);
    for (const auto& name : opts.except) except(name);
    auto wanted = [&](Socket* s) {
        if (std::find(exceptSockets.begin(), exceptSockets.end(), s) != exceptSockets.end()) return false;
        return std::none_of(exceptRooms.begin(), exceptRooms.end(),
                            [s](const auto* room) { return room->contains(s); });
    };
    if (opts.rooms.empty()) {
        targets.reserve(shard.sockets.size());
        for (const auto& [id, m] : shard.sockets)
            if (wanted(m.socket)) targets.push_back(m.socket);
        return targets;
    }
    for (const auto& room : opts.rooms) {
        if (auto r = shard.rooms.find(room); r != shard.rooms.end())
            for (Socket* s : r->second)
                if (wanted(s)) targets.push_back(s);
        // Every socket is also in the room named by its id.
        if (auto s = shard.sockets.find(room); s != shard.sockets.end() && wanted(s->second.socket))
            targets.push_back(s->second.socket);
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

void LocalAdapter::broadcast(const socketio::BroadcastPacket& packet, const socketio::BroadcastOptions& opts) {
    // Encoded once here; every recipient on every thread gets the same buffers.
    deliver(socketio::encodeEvent(nsp_, packet.event, packet.argsText, std::nullopt, packet.buffers), opts);
}

void LocalAdapter::deliver(const socketio::EncodedPacket& packet, const socketio::BroadcastOptions& opts) {
    onEveryShard([this, packet, opts](Shard& shard) {
        for (Socket* s : select(shard, opts)) s->send(packet, opts.isVolatile);
    });
}

void LocalAdapter::addSockets(const socketio::BroadcastOptions& opts, std::vector<std::string> rooms) {
    onEveryShard([this, opts, rooms](Shard& shard) {
        for (Socket* s : select(shard, opts))
            for (const auto& room : rooms) s->joinUncounted(room);
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

namespace {
/// Collects the parts that every shard contributes and hands them on when the last one is in.
struct Gathering {
    std::mutex mutex;
    boost::json::array found;
    std::size_t remaining;
    std::function<void(boost::json::array)> done;
};
} // namespace

void LocalAdapter::gather(const socketio::BroadcastOptions& opts, SocketVisitor visit, std::size_t home,
                          std::function<void(boost::json::array)> done) {
    auto g = std::make_shared<Gathering>();
    g->remaining = shards_.size();
    g->done = std::move(done);
    auto run = [this, opts, visit = std::move(visit), home, g](Shard& shard) {
        boost::json::array part;
        visit(select(shard, opts), part);
        const std::lock_guard lock(g->mutex);
        for (auto& v : part) g->found.push_back(std::move(v));
        if (--g->remaining == 0) threads_.postTo(home, [g] { g->done(std::move(g->found)); });
    };
    for (std::size_t i = 0; i < shards_.size(); ++i) threads_.postTo(i, [this, i, run] { run(shards_[i]); });
}

void LocalAdapter::allRooms(std::size_t home, std::function<void(boost::json::array)> done) {
    auto g = std::make_shared<Gathering>();
    g->remaining = shards_.size();
    g->done = std::move(done);
    for (std::size_t i = 0; i < shards_.size(); ++i) {
        threads_.postTo(i, [this, i, home, g] {
            std::vector<std::string> names;
            for (const auto& [room, members] : shards_[i].rooms) names.push_back(room);
            const std::lock_guard lock(g->mutex);
            for (auto& n : names) g->found.emplace_back(n);
            if (--g->remaining == 0) {
                // A room with members on several threads is named once.
                std::sort(g->found.begin(), g->found.end(),
                          [](const auto& a, const auto& b) { return a.get_string() < b.get_string(); });
                g->found.erase(std::unique(g->found.begin(), g->found.end()), g->found.end());
                threads_.postTo(home, [g] { g->done(std::move(g->found)); });
            }
        });
    }
}

} // namespace parley::cluster
