#include "socketio/Namespace.hpp"

#include "socketio/Encode.hpp"

namespace parley::socketio {

Namespace::Namespace(std::string name, std::unique_ptr<Adapter> adapter)
    : name_(std::move(name)), adapter_(std::move(adapter)) {
    adapter_->bind(*this);
}

void Namespace::runMiddlewares(const std::shared_ptr<Socket>& socket, Next done, std::size_t index) const {
    if (index >= middlewares_.size()) return done(std::nullopt);
    middlewares_[index](socket,
                        [this, socket, done = std::move(done), index](std::optional<ConnectError> error) mutable {
                            if (error) return done(std::move(error));
                            runMiddlewares(socket, std::move(done), index + 1);
                        });
}

const EventHandler* Namespace::findEvent(std::string_view name) const {
    auto it = events_.find(name);
    return it == events_.end() ? nullptr : &it->second;
}

void Namespace::notifyConnection(const std::shared_ptr<Socket>& socket) const {
    if (onConnection_) onConnection_(socket);
}

void Namespace::notifyDisconnect(const std::shared_ptr<Socket>& socket, std::string_view reason) const {
    if (onDisconnect_) onDisconnect_(socket, reason);
}

// ---------------------------------------------------------------------------------------------
// BroadcastOperator
// ---------------------------------------------------------------------------------------------

BroadcastOperator& BroadcastOperator::to(std::string room) & {
    opts_.rooms.push_back(std::move(room));
    return *this;
}

BroadcastOperator& BroadcastOperator::except(std::string room) & {
    opts_.except.push_back(std::move(room));
    return *this;
}

void BroadcastOperator::emit(std::string_view event, const boost::json::array& args) const {
    emitRaw(event, argsText(args));
}

void BroadcastOperator::emitRaw(std::string_view event, std::string_view text,
                                const std::vector<std::string>& buffers) const {
    nsp_.adapter().broadcast(BroadcastPacket{event, text, buffers}, opts_);
}

void BroadcastOperator::socketsJoin(std::vector<std::string> rooms) const {
    nsp_.adapter().addSockets(opts_, std::move(rooms));
}

void BroadcastOperator::socketsLeave(std::vector<std::string> rooms) const {
    nsp_.adapter().delSockets(opts_, std::move(rooms));
}

void BroadcastOperator::disconnectSockets(bool close) const { nsp_.adapter().disconnectSockets(opts_, close); }

void Namespace::notifyOverload(const std::shared_ptr<Socket>& socket, const Event& event, Ack ack) const {
    if (onOverload_) return onOverload_(socket, event, std::move(ack));
    ack.sendRaw(R"({"error":"OVERLOADED","message":"Too many requests awaiting an answer on this socket"})");
}

const ServerSideHandler* Namespace::findServerSide(std::string_view event) const {
    auto it = serverSide_.find(event);
    return it == serverSide_.end() ? nullptr : &it->second;
}

} // namespace parley::socketio
