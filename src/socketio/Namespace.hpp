#pragma once

#include "socketio/Adapter.hpp"
#include "socketio/Operators.hpp"
#include "socketio/Socket.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace parley::socketio {

using Next = std::function<void(std::optional<ConnectError>)>;
/// Runs before a socket connects; call `next()` to let it in or `next(error)` to refuse it.
/// May complete later (e.g. after a store lookup), on the socket's thread.
using Middleware = std::function<void(const std::shared_ptr<Socket>&, Next next)>;
using ConnectionHandler = std::function<void(const std::shared_ptr<Socket>&)>;
using EventHandler = std::function<void(const std::shared_ptr<Socket>&, const Event&, Ack)>;
using DisconnectHandler = std::function<void(const std::shared_ptr<Socket>&, std::string_view reason)>;
/// A socket left a room it was in, by Socket::leave (its own call or the adapter's socketsLeave,
/// from this server or another of the cluster); not called for the rooms a disconnect empties.
/// Runs on the socket's thread.
using LeaveHandler = std::function<void(Socket&, const std::string& room)>;
/// An event from another server of the cluster (Node's serverSideEmit). `reply` is empty unless
/// the sender asked for an answer; call it at most once. Runs on the cluster adapter's thread.
using ServerSideReply = std::function<void(const boost::json::value& answer)>;
using ServerSideHandler = std::function<void(std::span<const boost::json::value> args, ServerSideReply reply)>;
/// Answers an event that asked for an ack while the socket already had Config::maxPendingAcks
/// unanswered: the event is not handled, only this reply goes back.
using OverloadHandler = std::function<void(const std::shared_ptr<Socket>&, const Event&, Ack)>;

/// A namespace: its middlewares and handlers (registered before the server starts, then
/// read-only, so every thread may read them) and its adapter.
class Namespace {
public:
    Namespace(std::string name, std::unique_ptr<Adapter> adapter);

    const std::string& name() const noexcept { return name_; }
    Adapter& adapter() noexcept { return *adapter_; }
    /// The sockets connected to this namespace in this process now. Any thread.
    std::int64_t socketsCount() const noexcept { return sockets_.load(std::memory_order_relaxed); }

    void use(Middleware middleware) { middlewares_.push_back(std::move(middleware)); }
    void onConnection(ConnectionHandler handler) { onConnection_ = std::move(handler); }
    void on(std::string event, EventHandler handler) { events_[std::move(event)] = std::move(handler); }
    void onDisconnect(DisconnectHandler handler) { onDisconnect_ = std::move(handler); }
    void onLeave(LeaveHandler handler) { onLeave_ = std::move(handler); }
    /// Handles `event` sent by another server of the cluster with serverSideEmit.
    void onServerSide(std::string event, ServerSideHandler handler) {
        serverSide_[std::move(event)] = std::move(handler);
    }
    /// Replaces the default overload reply `[{"error":"OVERLOADED","message":...}]`.
    void onOverload(OverloadHandler handler) { onOverload_ = std::move(handler); }

    BroadcastOperator to(std::string room) { return BroadcastOperator(*this, {}).to(std::move(room)); }
    BroadcastOperator except(std::string room) { return BroadcastOperator(*this, {}).except(std::move(room)); }
    void emit(std::string_view event, const boost::json::array& args = {}) {
        BroadcastOperator(*this, {}).emit(event, args);
    }

    // --- For Client and Socket ------------------------------------------------------------------
    void countSocket(int delta) noexcept { sockets_.fetch_add(delta, std::memory_order_relaxed); }
    void runMiddlewares(const std::shared_ptr<Socket>& socket, Next done, std::size_t index = 0) const;
    const EventHandler* findEvent(std::string_view name) const;
    void notifyConnection(const std::shared_ptr<Socket>& socket) const;
    void notifyDisconnect(const std::shared_ptr<Socket>& socket, std::string_view reason) const;
    void notifyLeave(Socket& socket, const std::string& room) const {
        if (onLeave_) onLeave_(socket, room);
    }
    void notifyOverload(const std::shared_ptr<Socket>& socket, const Event& event, Ack ack) const;
    /// The handler of a server-side event, or nullptr.
    const ServerSideHandler* findServerSide(std::string_view event) const;

private:
    std::string name_;
    std::unique_ptr<Adapter> adapter_;
    std::atomic<std::int64_t> sockets_{0};
    std::vector<Middleware> middlewares_;
    ConnectionHandler onConnection_;
    DisconnectHandler onDisconnect_;
    LeaveHandler onLeave_;
    OverloadHandler onOverload_;
    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, EventHandler, StringHash, std::equal_to<>> events_;
    std::unordered_map<std::string, ServerSideHandler, StringHash, std::equal_to<>> serverSide_;
};

} // namespace parley::socketio
