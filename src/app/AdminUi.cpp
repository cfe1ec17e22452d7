#include "app/AdminUi.hpp"

#include "core/Time.hpp"
#include "socketio/Client.hpp"
#include "socketio/Namespace.hpp"
#include "socketio/Socket.hpp"
#include "socketio/codec/Packet.hpp"

#include <boost/asio/post.hpp>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

#include <unistd.h>

namespace parley::app {

namespace json = boost::json;
using socketio::Socket;

namespace {

constexpr auto kStatsEvery = std::chrono::seconds(2);
constexpr auto kSessionLife = std::chrono::hours(24);
constexpr std::size_t kMaxSessions = 1000;
constexpr auto kFailureWindow = std::chrono::minutes(1);

std::string hostName() {
    std::array<char, 256> name{};
    if (::gethostname(name.data(), name.size() - 1) != 0) return "localhost";
    return name.data();
}

std::string hex(const unsigned char* bytes, std::size_t size) {
    std::string out(size * 2 + 1, '\0');
    sodium_bin2hex(out.data(), out.size(), bytes, size);
    out.pop_back();
    return out;
}

json::string isoNow() { return json::string(core::isoTime(core::nowMs())); }

/// A string argument of a dashboard's command, or nullptr.
const json::string* stringArg(std::span<const json::value> args, std::size_t i) {
    return i < args.size() ? args[i].if_string() : nullptr;
}

/// The room a command is narrowed to: a non-empty string, else every socket (null, absent).
std::optional<std::string> filterArg(std::span<const json::value> args, std::size_t i) {
    if (const auto* s = stringArg(args, i); s && !s->empty()) return std::string(*s);
    return std::nullopt;
}

json::object serialize(Socket& socket) {
    json::array rooms{json::value(socket.id())};
    for (const auto& room : socket.rooms()) rooms.emplace_back(room);
    const auto sessionId = socket.client().sessionId();
    return json::object{{"id", socket.id()},
                        // Node's instrument() shows only this much of the private session id.
                        {"clientId", sessionId.substr(0, std::min<std::size_t>(12, sessionId.size()))},
                        {"transport", socket.client().transportName()},
                        {"nsp", socket.nsp().name()},
                        {"data", socket.data()},
                        {"handshake", socketio::describeHandshake(socket)},
                        {"rooms", std::move(rooms)}};
}

} // namespace

AdminUi::AdminUi(socketio::Server& io, net::IoThreads& threads, AdminSettings settings)
    : io_(io), threads_(threads), admin_(io.of(std::string(kNamespace))), settings_(std::move(settings)),
      hostname_(hostName()), started_(std::chrono::steady_clock::now()) {
    serverId_ = hostname_ + "#" + std::to_string(::getpid());
    io_.setObserver(this);
    install();
}

AdminUi::~AdminUi() { io_.setObserver(nullptr); }

void AdminUi::start() {
    boost::asio::post(threads_.context(0), [this] {
        statsTimer_ = std::make_unique<boost::asio::steady_timer>(threads_.context(0));
        tickStats();
    });
}

void AdminUi::stop() {
    boost::asio::post(threads_.context(0), [this] {
        if (statsTimer_) statsTimer_->cancel();
        statsTimer_.reset();
    });
}

void AdminUi::tickStats() {
    if (!statsTimer_) return;
    // In a cluster another node's dashboard lists this server too; alone, only a dashboard here.
    if (settings_.cluster || dashboards_.load(std::memory_order_relaxed) > 0)
        admin_.emit("server_stats", json::array{stats(true)});
    statsTimer_->expires_after(kStatsEvery);
    statsTimer_->async_wait([this](boost::system::error_code ec) {
        if (!ec) tickStats();
    });
}

json::object AdminUi::stats(bool takeEvents) {
    json::array namespaces;
    io_.forEachNamespace([&](socketio::Namespace& nsp) {
        namespaces.push_back(json::object{{"name", nsp.name()}, {"socketsCount", nsp.socketsCount()}});
    });
    const std::chrono::duration<double> uptime = std::chrono::steady_clock::now() - started_;
    return json::object{{"serverId", serverId_},
                        {"hostname", hostname_},
                        {"pid", ::getpid()},
                        {"uptime", uptime.count()},
                        {"clientsCount", io_.clientsCount()},
                        {"pollingClientsCount", io_.pollingClientsCount()},
                        {"aggregatedEvents", takeEvents ? takeAggregatedEvents() : json::array{}},
                        {"namespaces", std::move(namespaces)}};
}

// What the dashboard's charts plot: counts since the last stats, stamped with this second.
json::array AdminUi::takeAggregatedEvents() {
    const std::int64_t second = core::nowMs() / 1000 * 1000;
    json::array events;
    auto add = [&](std::string_view type, std::uint64_t count, std::string_view subType = {}) {
        if (count == 0) return;
        json::object e{{"timestamp", second}, {"type", type}, {"count", count}};
        if (!subType.empty()) e["subType"] = subType;
        events.push_back(std::move(e));
    };
    add("rawConnection", rawConnections_.exchange(0, std::memory_order_relaxed));
    add("packetsIn", packetsIn_.exchange(0, std::memory_order_relaxed));
    add("packetsOut", packetsOut_.exchange(0, std::memory_order_relaxed));
    add("bytesIn", bytesIn_.exchange(0, std::memory_order_relaxed));
    add("bytesOut", bytesOut_.exchange(0, std::memory_order_relaxed));
    std::map<std::string, std::uint64_t, std::less<>> closed;
    {
        std::lock_guard lock(mutex_);
        closed.swap(disconnections_);
    }
    for (const auto& [reason, count] : closed) add("rawDisconnection", count, reason);
    return events;
}

// ---------------------------------------------------------------------------------------------
// The namespace
// ---------------------------------------------------------------------------------------------

void AdminUi::install() {
    admin_.use(
        [this](const std::shared_ptr<Socket>& socket, const socketio::Next& next) { authenticate(socket, next); });
    admin_.onConnection([this](const std::shared_ptr<Socket>& socket) { onDashboard(socket); });
    admin_.onDisconnect([this](const std::shared_ptr<Socket>&, std::string_view) {
        if (dashboards_.fetch_sub(1, std::memory_order_relaxed) == 1) io_.setWatched(false);
    });
    if (!settings_.readonly) installCommands();
}

void AdminUi::authenticate(const std::shared_ptr<Socket>& socket, const socketio::Next& next) {
    const auto& auth = socket->auth();
    if (const auto* id = auth.if_contains("sessionId"); id && id->is_string() && knownSession(id->get_string()))
        return next(std::nullopt);
    const std::string address = socketio::peerAddress(*socket);
    const auto now = std::chrono::steady_clock::now();
    {
        std::lock_guard lock(mutex_);
        auto& f = failures_[address];
        if (now - f.since > kFailureWindow) f = Failures{now, 0};
        // Past the limit the password is not even compared: guessing costs a minute per few tries.
        if (f.count >= settings_.failuresPerMinute) return next(socketio::ConnectError{"invalid credentials", nullptr});
    }
    const auto* user = auth.if_contains("username");
    const auto* password = auth.if_contains("password");
    if (user && user->is_string() && password && password->is_string() &&
        passwordMatches(user->get_string(), password->get_string())) {
        socket->data()["_adminSession"] = newSession();
        return next(std::nullopt);
    }
    {
        std::lock_guard lock(mutex_);
        ++failures_[address].count;
        if (failures_.size() > 10'000)
            std::erase_if(failures_, [&](const auto& e) { return now - e.second.since > kFailureWindow; });
    }
    spdlog::warn("admin UI: invalid credentials from {}", address);
    next(socketio::ConnectError{"invalid credentials", nullptr});
}

// Both sides hashed first: the comparison takes as long whatever the lengths and contents.
bool AdminUi::passwordMatches(std::string_view username, std::string_view password) const {
    auto digest = [](std::string_view a, std::string_view b) {
        std::array<unsigned char, crypto_generichash_BYTES> out{};
        crypto_generichash_state state;
        crypto_generichash_init(&state, nullptr, 0, out.size());
        const auto length = static_cast<std::uint64_t>(a.size());
        crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(&length), sizeof length);
        crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(a.data()), a.size());
        crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(b.data()), b.size());
        crypto_generichash_final(&state, out.data(), out.size());
        return out;
    };
    const auto given = digest(username, password);
    const auto expected = digest(settings_.username, settings_.password);
    return sodium_memcmp(given.data(), expected.data(), given.size()) == 0;
}

std::string AdminUi::newSession() {
    unsigned char bytes[16];
    randombytes_buf(bytes, sizeof bytes);
    std::string id = hex(bytes, sizeof bytes);
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    std::erase_if(sessions_, [&](const auto& e) { return e.second <= now; });
    if (sessions_.size() >= kMaxSessions) {
        // The one closest to its end goes first.
        sessions_.erase(std::min_element(sessions_.begin(), sessions_.end(),
                                         [](const auto& a, const auto& b) { return a.second < b.second; }));
    }
    sessions_.emplace(id, now + kSessionLife);
    return id;
}

bool AdminUi::knownSession(std::string_view id) {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(std::string(id));
    return it != sessions_.end() && it->second > std::chrono::steady_clock::now();
}

void AdminUi::onDashboard(const std::shared_ptr<Socket>& socket) {
    if (dashboards_.fetch_add(1, std::memory_order_relaxed) == 0) io_.setWatched(true);
    if (auto* session = socket->data().if_contains("_adminSession")) {
        socket->emit("session", json::array{*session});
        socket->data().erase("_adminSession");
    }
    json::array features;
    if (!settings_.readonly)
        for (const char* f : {"EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT"})
            features.emplace_back(f);
    features.emplace_back("AGGREGATED_EVENTS");
    if (settings_.verbose) features.emplace_back("ALL_EVENTS");
    socket->emit("config", json::array{json::object{{"supportedFeatures", std::move(features)}}});
    if (settings_.verbose) return sendAllSockets(socket);
    socket->emit("server_stats", json::array{stats(false)});
}

// Every socket of every namespace of this process, gathered on their own threads; then the
// first stats, so that the page has its servers at once rather than within 2 s.
void AdminUi::sendAllSockets(const std::shared_ptr<Socket>& dashboard) {
    struct Gathering {
        json::array sockets;
        std::size_t pending = 0;
    };
    auto gathering = std::make_shared<Gathering>();
    std::vector<socketio::Namespace*> namespaces;
    io_.forEachNamespace([&](socketio::Namespace& nsp) { namespaces.push_back(&nsp); });
    gathering->pending = namespaces.size();
    for (auto* nsp : namespaces) {
        nsp->adapter().gather(
            socketio::BroadcastOptions{},
            [](const std::vector<Socket*>& selected, json::array& out) {
                for (Socket* s : selected) out.push_back(serialize(*s));
            },
            0,
            [this, gathering, weak = std::weak_ptr<Socket>(dashboard)](json::array found) {
                for (auto& s : found) gathering->sockets.push_back(std::move(s));
                if (--gathering->pending > 0) return;
                auto socket = weak.lock();
                if (!socket) return;
                boost::asio::post(socket->context(), [this, socket, gathering] {
                    if (!socket->connected()) return;
                    socket->emit("all_sockets", json::array{std::move(gathering->sockets)});
                    socket->emit("server_stats", json::array{stats(false)});
                });
            });
    }
}

void AdminUi::installCommands() {
    // Each command names a namespace and optionally a room (a socket id is a room too); one that
    // names no namespace of this server, or has arguments of the wrong kinds, is ignored, as
    // Node's instrument() has no answer for it either.
    auto target = [this](std::span<const json::value> args,
                         std::size_t filterAt) -> std::optional<socketio::BroadcastOperator> {
        const auto* nsp = stringArg(args, 0);
        if (!nsp) return std::nullopt;
        auto* found = io_.find(*nsp);
        if (!found) return std::nullopt;
        socketio::BroadcastOptions opts;
        if (auto room = filterArg(args, filterAt)) opts.rooms.push_back(std::move(*room));
        return socketio::BroadcastOperator(*found, std::move(opts));
    };
    admin_.on("emit", [target](const std::shared_ptr<Socket>&, const socketio::Event& e, const socketio::Ack&) {
        // (nsp, filter, event, ...args)
        const auto* event = stringArg(e.args, 2);
        auto op = target(e.args, 1);
        if (!event || event->empty() || !op || !e.buffers.empty()) return;
        op->emit(*event, json::array(e.args.begin() + 3, e.args.end()));
    });
    admin_.on("join", [target](const std::shared_ptr<Socket>&, const socketio::Event& e, const socketio::Ack&) {
        // (nsp, room, filter)
        const auto* room = stringArg(e.args, 1);
        auto op = target(e.args, 2);
        if (room && !room->empty() && op) op->socketsJoin({std::string(*room)});
    });
    admin_.on("leave", [target](const std::shared_ptr<Socket>&, const socketio::Event& e, const socketio::Ack&) {
        const auto* room = stringArg(e.args, 1);
        auto op = target(e.args, 2);
        if (room && !room->empty() && op) op->socketsLeave({std::string(*room)});
    });
    admin_.on("_disconnect", [target](const std::shared_ptr<Socket>&, const socketio::Event& e, const socketio::Ack&) {
        // (nsp, close, filter)
        auto op = target(e.args, 2);
        if (e.args.size() < 2 || !e.args[1].is_bool() || !op) return;
        op->disconnectSockets(e.args[1].get_bool());
    });
}

// ---------------------------------------------------------------------------------------------
// What the server tells the observer (each on the socket's or connection's own thread)
// ---------------------------------------------------------------------------------------------

void AdminUi::tell(std::string_view event, const json::array& args) {
    socketio::BroadcastOptions opts;
    // This process's dashboards: they list this process's sockets (all_sockets).
    opts.local = true;
    socketio::BroadcastOperator(admin_, std::move(opts)).emit(event, args);
}

bool AdminUi::takeEventBudget() {
    const std::int64_t second = core::nowMs() / 1000;
    std::int64_t window = eventWindow_.load(std::memory_order_relaxed);
    if (window != second && eventWindow_.compare_exchange_strong(window, second, std::memory_order_relaxed))
        eventsInWindow_.store(0, std::memory_order_relaxed);
    return eventsInWindow_.fetch_add(1, std::memory_order_relaxed) < settings_.eventsPerSecond;
}

void AdminUi::connectionOpened() { rawConnections_.fetch_add(1, std::memory_order_relaxed); }

void AdminUi::connectionClosed(std::string_view reason) {
    std::lock_guard lock(mutex_);
    auto it = disconnections_.find(reason);
    if (it == disconnections_.end()) it = disconnections_.emplace(std::string(reason), 0).first;
    ++it->second;
}

void AdminUi::packetReceived(std::size_t bytes) {
    packetsIn_.fetch_add(1, std::memory_order_relaxed);
    bytesIn_.fetch_add(bytes, std::memory_order_relaxed);
}

void AdminUi::packetSent(std::size_t bytes) {
    packetsOut_.fetch_add(1, std::memory_order_relaxed);
    bytesOut_.fetch_add(bytes, std::memory_order_relaxed);
}

void AdminUi::socketConnected(Socket& socket) {
    if (settings_.verbose) tell("socket_connected", json::array{serialize(socket), isoNow()});
}

void AdminUi::socketDisconnected(Socket& socket, std::string_view reason) {
    if (settings_.verbose)
        tell("socket_disconnected",
             json::array{json::string(socket.nsp().name()), json::string(socket.id()), json::string(reason), isoNow()});
}

void AdminUi::socketUpgraded(Socket& socket) {
    if (settings_.verbose)
        tell("socket_updated",
             json::array{json::object{{"id", socket.id()}, {"nsp", socket.nsp().name()}, {"transport", "websocket"}}});
}

void AdminUi::roomJoined(Socket& socket, const std::string& room) {
    if (settings_.verbose)
        tell("room_joined",
             json::array{json::string(socket.nsp().name()), json::string(room), json::string(socket.id()), isoNow()});
}

void AdminUi::roomLeft(Socket& socket, const std::string& room) {
    if (settings_.verbose)
        tell("room_left",
             json::array{json::string(socket.nsp().name()), json::string(room), json::string(socket.id()), isoNow()});
}

void AdminUi::eventReceived(Socket& socket, const socketio::Event& event) {
    if (!settings_.verbose || !observed(socket) || !takeEventBudget()) return;
    json::array args{json::string(event.name)};
    for (const auto& a : event.args) args.push_back(a);
    tell("event_received",
         json::array{json::string(socket.nsp().name()), json::string(socket.id()), std::move(args), isoNow()});
}

void AdminUi::packetDelivered(Socket& socket, const socketio::EncodedPacket& packet) {
    if (!settings_.verbose || !observed(socket)) return;
    // "4" (an Engine.IO message), then the Socket.IO type: only events are told, as Node's
    // onAnyOutgoing tells them; acks, CONNECT and DISCONNECT are not.
    const std::string_view text = *packet.text;
    if (text.size() < 2 || (text[1] != '2' && text[1] != '5') || !takeEventBudget()) return;
    auto decoded = socketio::codec::decode(text.substr(1), io_.config().decode);
    if (!decoded || !decoded->json.is_array()) return;
    tell("event_sent",
         json::array{json::string(socket.nsp().name()), json::string(socket.id()), std::move(decoded->json), isoNow()});
}

} // namespace parley::app
