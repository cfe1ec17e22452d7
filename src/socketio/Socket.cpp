#include "socketio/Socket.hpp"

#include "core/Assert.hpp"
#include "core/Time.hpp"
#include "socketio/Client.hpp"
#include "socketio/Encode.hpp"
#include "socketio/Namespace.hpp"
#include "socketio/Server.hpp"

#include <boost/asio/error.hpp>
#include <boost/json/array.hpp>
#include <boost/url/parse.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace parley::socketio {

namespace {
// The arguments handed to an ack callback that failed (timeout, disconnect).
const boost::json::array kNoArgs;
} // namespace

// A socket's state (rooms, acks, its client's session) belongs to the thread that runs its
// session: every method that touches it must run there.
#define PARLEY_ASSERT_OWNER_THREAD()                                                                                   \
    PARLEY_ASSERT(client_->context().get_executor().running_in_this_thread(),                                          \
                  "a Socket is used only on its session's thread")

// ---------------------------------------------------------------------------------------------
// Ack
// ---------------------------------------------------------------------------------------------

Ack::Ack(std::weak_ptr<Socket> socket, std::uint64_t id, std::shared_ptr<PendingCounter> pending)
    : state_(std::make_shared<State>()) {
    // Built in place: State's destructor gives the count back, so it must never be copied.
    state_->socket = std::move(socket);
    state_->id = id;
    state_->pending = std::move(pending);
    if (state_->pending) state_->pending->fetch_add(1, std::memory_order_relaxed);
}

Ack::State::~State() {
    if (pending) pending->fetch_sub(1, std::memory_order_relaxed);
}

void Ack::send(const boost::json::array& args) const { sendRaw(argsText(args)); }

void Ack::sendRaw(std::string_view text, const std::vector<std::string>& buffers) const {
    if (!state_) return;
    auto socket = state_->socket.lock();
    if (!socket || !socket->connected()) return;
    socket->send(encodeAck(socket->nsp().name(), state_->id, text, buffers));
}

// ---------------------------------------------------------------------------------------------
// Socket
// ---------------------------------------------------------------------------------------------

Socket::Socket(Namespace& nsp, std::shared_ptr<Client> client, std::string id, boost::json::object auth,
               std::string authText)
    : nsp_(nsp), client_(std::move(client)), id_(std::move(id)), auth_(std::move(auth)),
      authText_(authText.empty() ? "{}" : std::move(authText)) {}

const engineio::Handshake& Socket::handshake() const { return client_->handshake(); }

boost::asio::io_context& Socket::context() { return client_->context(); }

void Socket::setIdentity(std::string id, std::string pid) {
    PARLEY_ASSERT(!connected_, "a socket's identity is set before it connects");
    id_ = std::move(id);
    pid_ = std::move(pid);
}

void Socket::send(const EncodedPacket& packet, bool isVolatile) {
    PARLEY_ASSERT_OWNER_THREAD();
    if (!connected_) return;
    if (dropFilter_) {
        if (std::chrono::steady_clock::now() >= dropFilter_->until)
            dropFilter_.reset();
        else if (dropFilter_->drop(*packet.text))
            return;
    }
    if (!held_) return deliver(packet, isVolatile);
    // A volatile packet is one the client may miss: not worth holding.
    if (isVolatile) return;
    if (held_->size() >= client_->server().config().maxHeldPackets) return closeConnection();
    held_->push_back(packet);
}

void Socket::sendNow(const EncodedPacket& packet) {
    PARLEY_ASSERT_OWNER_THREAD();
    if (connected_) deliver(packet, false);
}

void Socket::deliver(const EncodedPacket& packet, bool isVolatile) {
    if (auto* watcher = client_->server().watcher()) watcher->packetDelivered(*this, packet);
    if (rewrite_) {
        if (auto other = rewrite_(packet)) return client_->send(*other, isVolatile);
    }
    client_->send(packet, isVolatile);
}

void Socket::setRewrite(Rewrite rewrite) {
    PARLEY_ASSERT_OWNER_THREAD();
    rewrite_ = std::move(rewrite);
}

void Socket::dropUntil(std::chrono::steady_clock::time_point until, std::function<bool(std::string_view)> drop) {
    PARLEY_ASSERT_OWNER_THREAD();
    dropFilter_ = std::make_unique<DropFilter>(DropFilter{until, std::move(drop)});
}

void Socket::hold() {
    PARLEY_ASSERT_OWNER_THREAD();
    if (!held_) held_ = std::make_unique<std::vector<EncodedPacket>>();
}

std::vector<EncodedPacket> Socket::endHold() {
    PARLEY_ASSERT_OWNER_THREAD();
    std::vector<EncodedPacket> kept;
    if (held_) kept = std::move(*held_);
    held_.reset();
    return kept;
}

void Socket::emit(std::string_view event, const boost::json::array& args) { emitRaw(event, argsText(args)); }

void Socket::emitRaw(std::string_view event, std::string_view text, const std::vector<std::string>& buffers) {
    send(encodeEvent(nsp_.name(), event, text, std::nullopt, buffers));
}

void Socket::emitWithAck(std::string_view event, const boost::json::array& args, std::chrono::milliseconds timeout,
                         AckCallback callback) {
    emitRawWithAck(event, argsText(args), {}, timeout, std::move(callback));
}

void Socket::emitRawWithAck(std::string_view event, std::string_view text, const std::vector<std::string>& buffers,
                            std::chrono::milliseconds timeout, AckCallback callback) {
    PARLEY_ASSERT_OWNER_THREAD();
    if (!connected_) {
        callback(boost::asio::error::not_connected, kNoArgs, {});
        return;
    }
    const std::uint64_t id = nextAckId_++;
    auto& pending = pendingAcks_[id];
    pending.callback = std::move(callback);
    pending.timer = std::make_unique<boost::asio::steady_timer>(client_->context());
    pending.timer->expires_after(timeout);
    pending.timer->async_wait([weak = weak_from_this(), id](boost::system::error_code ec) {
        if (ec) return;
        auto self = weak.lock();
        if (!self) return;
        auto it = self->pendingAcks_.find(id);
        if (it == self->pendingAcks_.end()) return;
        auto cb = std::move(it->second.callback);
        self->pendingAcks_.erase(it);
        cb(boost::asio::error::timed_out, kNoArgs, {});
    });
    send(encodeEvent(nsp_.name(), event, text, id, buffers));
}

void Socket::onAck(codec::Packet&& packet) {
    PARLEY_ASSERT(packet.id.has_value(), "the codec decodes an ACK only with its id");
    auto it = pendingAcks_.find(*packet.id);
    if (it == pendingAcks_.end()) return; // late (timed out) or unknown: the reference ignores it too
    auto callback = std::move(it->second.callback);
    pendingAcks_.erase(it);
    callback({}, packet.json.as_array(), packet.buffers);
}

void Socket::onEvent(codec::Packet&& packet) {
    auto view = codec::splitEvent(packet);
    if (!view) return;
    const auto& arr = packet.json.get_array();
    PARLEY_ASSERT(!arr.empty(), "splitEvent accepts only an array that starts with the event name");
    Event event{view->name, std::span<const boost::json::value>(arr.data() + 1, arr.size() - 1), view->args,
                packet.buffers};
    if (auto* watcher = client_->server().watcher()) watcher->eventReceived(*this, event);
    const EventHandler* handler = nsp_.findEvent(view->name);
    if (!handler) return;
    if (!packet.id) return (*handler)(shared_from_this(), event, Ack());
    // A client may pipeline requests, but not without bound: each one holds work and memory
    // until it is answered.
    if (!acksPending_) acksPending_ = std::make_shared<Ack::PendingCounter>(0);
    if (acksPending_->load(std::memory_order_relaxed) >= client_->server().config().maxPendingAcks)
        return nsp_.notifyOverload(shared_from_this(), event, Ack(weak_from_this(), *packet.id));
    (*handler)(shared_from_this(), event, Ack(weak_from_this(), *packet.id, acksPending_));
}

bool Socket::join(const std::string& room) {
    PARLEY_ASSERT_OWNER_THREAD();
    if (!connected_) return false;
    if (!inRoom(room) && rooms().size() - uncounted_.size() >= client_->server().config().maxRoomsPerSocket)
        return false;
    if (nsp_.adapter().join(*this, room)) notifyJoined(room);
    return true;
}

bool Socket::joinUncounted(const std::string& room) {
    PARLEY_ASSERT_OWNER_THREAD();
    if (!connected_) return false;
    if (inRoom(room)) return true;
    nsp_.adapter().join(*this, room);
    uncounted_.push_back(room);
    notifyJoined(room);
    return true;
}

void Socket::notifyJoined(const std::string& room) {
    if (auto* watcher = client_->server().watcher()) watcher->roomJoined(*this, room);
}

void Socket::leave(const std::string& room) {
    PARLEY_ASSERT_OWNER_THREAD();
    if (!connected_) return;
    if (auto it = std::find(uncounted_.begin(), uncounted_.end(), room); it != uncounted_.end()) uncounted_.erase(it);
    if (!nsp_.adapter().leave(*this, room)) return;
    if (auto* watcher = client_->server().watcher()) watcher->roomLeft(*this, room);
    nsp_.notifyLeave(*this, room);
}

const std::vector<std::string>& Socket::rooms() const { return nsp_.adapter().roomsOf(*this); }

bool Socket::inRoom(std::string_view room) const { return room == id_ || nsp_.adapter().inRoom(*this, room); }

BroadcastOperator Socket::to(std::string room) {
    BroadcastOptions opts;
    opts.rooms.push_back(std::move(room));
    opts.exceptSid = id_;
    return BroadcastOperator(nsp_, std::move(opts));
}

BroadcastOperator Socket::broadcast() {
    BroadcastOptions opts;
    opts.exceptSid = id_;
    return BroadcastOperator(nsp_, std::move(opts));
}

void Socket::onConnected() {
    PARLEY_ASSERT_OWNER_THREAD();
    PARLEY_ASSERT(!connected_, "a socket connects once");
    connected_ = true;
    if (auto* m = client_->server().metrics()) m->socketsConnected.fetch_add(1, std::memory_order_relaxed);
    nsp_.countSocket(1);
    nsp_.adapter().addSocket(*this);
}

void Socket::disconnect(bool closeTransport) {
    if (!connected_) return;
    send(encodeDisconnect(nsp_.name()));
    auto client = client_;
    onDisconnect("server namespace disconnect");
    client->removeSocket(nsp_.name());
    if (closeTransport) client->close();
}

void Socket::closeConnection() {
    if (connected_) client_->close();
}

void Socket::onDisconnect(std::string_view reason) {
    PARLEY_ASSERT_OWNER_THREAD();
    if (!connected_) return;
    auto self = shared_from_this();
    nsp_.adapter().removeSocket(*this);
    connected_ = false;
    if (auto* m = client_->server().metrics()) m->socketsConnected.fetch_sub(1, std::memory_order_relaxed);
    nsp_.countSocket(-1);
    if (auto* watcher = client_->server().watcher()) watcher->socketDisconnected(*this, reason);
    // Acks that can no longer arrive fail now rather than at their timeout.
    auto pending = std::move(pendingAcks_);
    pendingAcks_.clear();
    for (auto& [id, ack] : pending) {
        if (ack.timer) ack.timer->cancel();
        ack.callback(boost::asio::error::connection_aborted, kNoArgs, {});
    }
    nsp_.notifyDisconnect(self, reason);
}

std::string peerAddress(const Socket& socket) {
    std::string address = socket.handshake().remoteAddress;
    if (auto colon = address.rfind(':'); colon != std::string::npos) address.resize(colon);
    return address;
}

boost::json::object describeHandshake(const Socket& socket) {
    const auto& h = socket.handshake();
    boost::json::object query;
    if (auto url = boost::urls::parse_origin_form(h.url); url)
        for (const auto& p : url->params()) query[p.key] = p.value;
    boost::json::object auth = socket.auth();
    auth.erase("token");
    const auto issuedMs = std::chrono::duration_cast<std::chrono::milliseconds>(h.issued.time_since_epoch()).count();
    return boost::json::object{{"headers", boost::json::object{}},
                               {"time", core::isoTime(issuedMs)},
                               {"address", peerAddress(socket)},
                               {"xdomain", false},
                               {"secure", false},
                               {"issued", issuedMs},
                               {"url", h.url},
                               {"query", query},
                               {"auth", auth}};
}

} // namespace parley::socketio
