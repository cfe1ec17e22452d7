#include "cluster/RedisAdapter.hpp"

#include "cluster/RedisBus.hpp"
#include "socketio/Encode.hpp"
#include "socketio/Namespace.hpp"
#include "socketio/Socket.hpp"

#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

namespace parley::cluster {

namespace json = boost::json;
using bus::RequestType;
using socketio::BroadcastOptions;
using socketio::Socket;

RedisAdapter::RedisAdapter(RedisBus& bus, net::IoThreads& threads, std::string nsp)
    : bus_(bus), local_(threads, nsp), nsp_(std::move(nsp)),
      order_({}, [this](const socketio::EncodedPacket& packet,
                        const BroadcastOptions& opts) { local_.deliver(packet, opts); }),
      orderTimer_(threads.context(RedisBus::kHome)) {
    const std::string& key = bus_.options().key;
    broadcastPrefix_ = key + "#" + nsp_ + "#";
    requestChannel_ = key + "-request#" + nsp_ + "#";
    responseChannel_ = key + "-response#" + nsp_ + "#";
    ownResponseChannel_ = responseChannel_ + bus_.uid() + "#";
    bus_.attach(*this);
}

// --- What this node sends ------------------------------------------------------------------------

void RedisAdapter::broadcast(const socketio::BroadcastPacket& packet, const BroadcastOptions& opts) {
    if (opts.order && !opts.local) {
        // Encoded here, delivered from the home thread in the chain's order (the other nodes'
        // broadcasts of the chain arrive there), which the posts from it to each io thread keep.
        auto encoded = socketio::encodeEvent(nsp_, packet.event, packet.argsText, std::nullopt, packet.buffers);
        bus_.threads().postTo(RedisBus::kHome, [this, encoded = std::move(encoded), opts = opts]() mutable {
            deliverInOrder(std::move(encoded), std::move(opts));
        });
    } else {
        local_.broadcast(packet, opts);
    }
    if (opts.local) return;
    bus_.publish(bus::broadcastChannel(broadcastPrefix_, opts), bus::encodeBroadcast(bus_.uid(), nsp_, packet, opts));
}

void RedisAdapter::deliverInOrder(socketio::EncodedPacket packet, BroadcastOptions opts) {
    const auto before = order_.stats();
    order_.submit(std::move(packet), std::move(opts), ChainOrder::Clock::now());
    noteOrder(before);
    armOrderTimer();
}

void RedisAdapter::armOrderTimer() {
    const auto deadline = order_.nextDeadline();
    if (!deadline || (orderTimerAt_ && *orderTimerAt_ <= *deadline)) return;
    orderTimerAt_ = deadline;
    orderTimer_.expires_at(*deadline);
    orderTimer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        orderTimerAt_.reset();
        const auto before = order_.stats();
        order_.expire(ChainOrder::Clock::now());
        noteOrder(before);
        armOrderTimer();
    });
}

void RedisAdapter::noteOrder(const ChainOrder::Stats& before) {
    const auto& now = order_.stats();
    auto& m = bus_.metrics();
    if (now.held != before.held) m.orderHeld.fetch_add(now.held - before.held, std::memory_order_relaxed);
    if (now.late != before.late) m.orderLate.fetch_add(now.late - before.late, std::memory_order_relaxed);
    if (now.skipped != before.skipped) {
        m.orderSkipped.fetch_add(now.skipped - before.skipped, std::memory_order_relaxed);
        spdlog::warn("cluster: {} broadcast(s) of a chat never arrived within {} ms; delivered what followed",
                     now.skipped - before.skipped, order_.options().gapTimeout.count());
    }
}

void RedisAdapter::addSockets(const BroadcastOptions& opts, std::vector<std::string> rooms) {
    if (!opts.local)
        bus_.publish(requestChannel_, bus::encodeRoomsRequest(bus_.uid(), RequestType::RemoteJoin, opts, rooms));
    local_.addSockets(opts, std::move(rooms));
}

void RedisAdapter::delSockets(const BroadcastOptions& opts, std::vector<std::string> rooms) {
    if (!opts.local)
        bus_.publish(requestChannel_, bus::encodeRoomsRequest(bus_.uid(), RequestType::RemoteLeave, opts, rooms));
    local_.delSockets(opts, std::move(rooms));
}

void RedisAdapter::disconnectSockets(const BroadcastOptions& opts, bool close) {
    if (!opts.local) bus_.publish(requestChannel_, bus::encodeDisconnectRequest(bus_.uid(), opts, close));
    local_.disconnectSockets(opts, close);
}

void RedisAdapter::respond(std::string payload) { bus_.publish(responseChannel_, std::move(payload)); }

// --- What other nodes send -----------------------------------------------------------------------

void RedisAdapter::onBroadcast(std::string_view channel, std::string_view payload) {
    auto event = bus::parseBroadcast(payload, nsp_, {bus_.options().maxMessageBytes});
    if (!event) return bus_.dropped(channel, bus::describe(event.error()), payload.size());
    if (event->uid == bus_.uid()) return; // our own, delivered locally already
    bus_.metrics().received.fetch_add(1, std::memory_order_relaxed);
    // Encoded once for every socket of this process.
    auto encoded = socketio::encodeEvent(nsp_, event->event, event->argsText, std::nullopt, event->buffers);
    if (event->opts.order) return deliverInOrder(std::move(encoded), std::move(event->opts));
    local_.deliver(encoded, event->opts);
}

void RedisAdapter::onRequest(std::string_view channel, std::string_view payload) {
    auto request = bus::parseRequest(payload, nsp_, {bus_.options().maxMessageBytes});
    if (!request) return bus_.dropped(channel, bus::describe(request.error()), payload.size());
    if (request->uid == bus_.uid()) return; // our own request: already applied here
    bus_.metrics().received.fetch_add(1, std::memory_order_relaxed);
    answer(*request);
}

void RedisAdapter::answer(const bus::Request& request) {
    switch (request.type) {
    case RequestType::Sockets: return answerSockets(request);
    case RequestType::AllRooms: return answerAllRooms(request);
    case RequestType::RemoteJoin:
    case RequestType::RemoteLeave:
    case RequestType::RemoteDisconnect: return answerRoomChange(request);
    case RequestType::RemoteFetch: return answerFetch(request);
    case RequestType::ServerSideEmit: return answerServerSideEmit(request);
    case RequestType::Broadcast: return answerBroadcastWithAck(request);
    case RequestType::BroadcastClientCount:
    case RequestType::BroadcastAck: return; // responses on the request channel: not ours to answer
    }
}

void RedisAdapter::answerSockets(const bus::Request& request) {
    BroadcastOptions opts;
    opts.rooms = request.opts.rooms;
    local_.gather(
        opts,
        [](const std::vector<Socket*>& selected, json::array& out) {
            for (Socket* s : selected) out.emplace_back(s->id());
        },
        RedisBus::kHome,
        [this, id = request.requestId](json::array ids) {
            respond(json::serialize(json::object{{"requestId", id}, {"sockets", std::move(ids)}}));
        });
}

void RedisAdapter::answerAllRooms(const bus::Request& request) {
    // Node counts each socket's own id among the rooms: so do we.
    local_.gather(
        {},
        [](const std::vector<Socket*>& selected, json::array& out) {
            for (Socket* s : selected) out.emplace_back(s->id());
        },
        RedisBus::kHome,
        [this, id = request.requestId](json::array ids) {
            local_.allRooms(RedisBus::kHome, [this, id, ids = std::move(ids)](json::array rooms) mutable {
                for (auto& r : rooms) ids.push_back(std::move(r));
                respond(json::serialize(json::object{{"requestId", id}, {"rooms", std::move(ids)}}));
            });
        });
}

void RedisAdapter::answerRoomChange(const bus::Request& request) {
    if (request.hasOpts) {
        BroadcastOptions opts = request.opts;
        opts.local = true;
        if (request.type == RequestType::RemoteJoin) return local_.addSockets(opts, request.rooms);
        if (request.type == RequestType::RemoteLeave) return local_.delSockets(opts, request.rooms);
        return local_.disconnectSockets(opts, request.close);
    }
    // One socket by id: every socket is in the room named by its id. Answered only by the node
    // that has it, as Node does.
    BroadcastOptions one;
    one.rooms.push_back(request.sid);
    local_.gather(
        one,
        [type = request.type, room = request.room, close = request.close](const std::vector<Socket*>& selected,
                                                                          json::array& out) {
            for (Socket* s : selected) {
                const auto keep = s->shared_from_this();
                if (type == RequestType::RemoteJoin)
                    s->joinUncounted(room);
                else if (type == RequestType::RemoteLeave)
                    s->leave(room);
                else
                    s->disconnect(close);
                out.emplace_back(true);
            }
        },
        RedisBus::kHome,
        [this, id = request.requestId](json::array found) {
            if (!found.empty()) respond(json::serialize(json::object{{"requestId", id}}));
        });
}

void RedisAdapter::answerFetch(const bus::Request& request) {
    local_.gather(
        request.opts,
        [](const std::vector<Socket*>& selected, json::array& out) {
            for (Socket* s : selected) {
                json::array rooms{json::value(s->id())};
                for (const auto& r : s->rooms()) rooms.emplace_back(r);
                out.push_back(json::object{{"id", s->id()},
                                           {"handshake", socketio::describeHandshake(*s)},
                                           {"rooms", rooms},
                                           {"data", s->data()}});
            }
        },
        RedisBus::kHome,
        [this, id = request.requestId](json::array sockets) {
            respond(json::serialize(json::object{{"requestId", id}, {"sockets", std::move(sockets)}}));
        });
}

void RedisAdapter::answerServerSideEmit(bus::Request request) {
    const auto* handler = namespace_ ? namespace_->findServerSide(request.data[0].get_string()) : nullptr;
    if (!handler) return; // nobody listens: the sender's ack times out, as with a Node node without a listener
    socketio::ServerSideReply reply;
    if (request.wantsReply) {
        reply = [this, id = request.requestId, done = std::make_shared<bool>(false)](const json::value& answer) {
            if (std::exchange(*done, true)) return;
            respond(json::serialize(json::object{
                {"type", static_cast<int>(RequestType::ServerSideEmit)}, {"requestId", id}, {"data", answer}}));
        };
    }
    (*handler)(std::span<const json::value>(request.data.data() + 1, request.data.size() - 1), std::move(reply));
}

void RedisAdapter::answerBroadcastWithAck(bus::Request request) {
    struct Shared {
        std::string requestId, event, argsText;
        std::vector<std::string> buffers;
        std::chrono::milliseconds timeout;
    };
    auto shared = std::make_shared<Shared>(Shared{
        request.requestId, std::move(request.packet.event), std::move(request.packet.argsText),
        std::move(request.packet.buffers), std::chrono::milliseconds(request.packet.ackTimeoutMs.value_or(5000))});
    local_.gather(
        request.packet.opts,
        [this, shared](const std::vector<Socket*>& selected, json::array& out) {
            for (Socket* s : selected) {
                s->emitRawWithAck(shared->event, shared->argsText, shared->buffers, shared->timeout,
                                  [this, shared](boost::system::error_code ec, const json::array& args,
                                                 const std::vector<std::string>& buffers) {
                                      if (ec) return;
                                      auto ack = bus::encodeBroadcastAck(
                                          shared->requestId, args.empty() ? json::value() : args[0], buffers);
                                      respond(std::move(ack));
                                  });
                out.emplace_back(true);
            }
        },
        RedisBus::kHome,
        [this, shared](json::array sent) {
            respond(json::serialize(json::object{{"type", static_cast<int>(RequestType::BroadcastClientCount)},
                                                 {"requestId", shared->requestId},
                                                 {"clientCount", sent.size()}}));
        });
}

} // namespace parley::cluster
