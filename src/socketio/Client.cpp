#include "socketio/Client.hpp"

#include "socketio/Encode.hpp"
#include "socketio/Server.hpp"
#include "socketio/Socket.hpp"
#include "socketio/codec/Errc.hpp"

#include <spdlog/spdlog.h>

namespace parley::socketio {

using codec::PacketType;

Client::Client(Server& server, std::shared_ptr<engineio::Session> session)
    : server_(server), session_(std::move(session)), handshake_(session_->handshakePtr()),
      context_(session_->context()) {}

void Client::start() {
    polling_ = session_->transport() == engineio::TransportType::Polling;
    server_.countClient(1, polling_);
    if (auto* watcher = server_.watcher()) watcher->connectionOpened();
    // A connection that joins no namespace in time is closed (it holds resources for nothing).
    connectTimer_ = std::make_unique<boost::asio::steady_timer>(context_, server_.config().connectTimeout);
    connectTimer_->async_wait([weak = weak_from_this()](boost::system::error_code ec) {
        if (ec) return;
        if (auto self = weak.lock(); self && self->sockets_.empty()) self->close();
    });
}

std::string_view Client::sessionId() const { return session_ ? std::string_view(session_->id()) : std::string_view(); }

std::string_view Client::transportName() const {
    return session_ && session_->transport() == engineio::TransportType::WebSocket ? "websocket" : "polling";
}

void Client::send(const EncodedPacket& packet, bool isVolatile) {
    if (closed_) return;
    if (auto* watcher = server_.watcher()) {
        watcher->packetSent(packet.text->size());
        for (const auto& b : packet.binaries) watcher->packetSent(b->size());
    }
    // Volatile packets carry no attachments here (typing, presence): all or nothing is moot.
    session_->send(net::Frame{packet.text, false, isVolatile && packet.binaries.empty()});
    for (const auto& b : packet.binaries) session_->send(net::Frame{b, true});
}

void Client::close() {
    if (closed_) return;
    session_->close(engineio::CloseReason::ServerClose);
}

std::shared_ptr<Socket> Client::find(std::string_view nsp) const {
    for (const auto& [name, socket] : sockets_)
        if (name == nsp) return socket;
    return nullptr;
}

void Client::removeSocket(const std::string& nsp) {
    std::erase_if(sockets_, [&](const auto& entry) { return entry.first == nsp; });
}

// ---------------------------------------------------------------------------------------------
// Incoming
// ---------------------------------------------------------------------------------------------

void Client::onMessage(std::string_view text) {
    if (closed_) return;
    if (auto* watcher = server_.watcher()) watcher->packetReceived(text.size());
    auto packet = codec::decode(text, server_.config().decode);
    // A packet that is not Socket.IO, or text while attachments are awaited: the peer is broken.
    if (!packet || (reassembler_ && reassembler_->pending())) {
        spdlog::debug("socket.io: closing {}: {}", session_->id(),
                      packet ? "text frame while binary attachments pending" : packet.error().message());
        session_->close(engineio::CloseReason::ParseError);
        return;
    }
    if (packet->attachments > 0) {
        if (!reassembler_) {
            reassembler_ = std::make_unique<codec::BinaryReassembler>();
            reassembler_->setMaxBytes(server_.config().maxAttachmentBytes);
        }
        reassembler_->start(std::move(*packet));
        return;
    }
    onPacket(std::move(*packet));
}

void Client::onBinary(std::string_view bytes) {
    if (closed_) return;
    if (auto* watcher = server_.watcher()) watcher->packetReceived(bytes.size());
    // A binary frame no packet announced is as broken as one too many.
    auto done = reassembler_ ? reassembler_->add(std::string(bytes))
                             : boost::system::result<std::optional<codec::Packet>>(codec::Errc::UnexpectedBinary);
    if (!done) {
        session_->close(engineio::CloseReason::ParseError);
        return;
    }
    if (*done) onPacket(std::move(**done));
}

void Client::onPacket(codec::Packet&& packet) {
    auto self = shared_from_this();
    switch (packet.type) {
    case PacketType::Connect: return onConnect(std::move(packet));
    case PacketType::Disconnect:
        if (auto socket = find(packet.nsp)) {
            socket->onDisconnect("client namespace disconnect");
            removeSocket(packet.nsp);
        }
        return;
    case PacketType::Event:
    case PacketType::BinaryEvent:
        if (auto socket = find(packet.nsp)) socket->onEvent(std::move(packet));
        return;
    case PacketType::Ack:
    case PacketType::BinaryAck:
        if (auto socket = find(packet.nsp)) socket->onAck(std::move(packet));
        return;
    case PacketType::ConnectError:
        // Only a server sends CONNECT_ERROR.
        session_->close(engineio::CloseReason::ParseError);
        return;
    }
}

void Client::onConnect(codec::Packet&& packet) {
    Namespace* nsp = server_.find(packet.nsp);
    if (!nsp) {
        send(encodeConnectError(packet.nsp, ConnectError{"Invalid namespace", nullptr}));
        return;
    }
    if (find(packet.nsp)) return; // already connected there: nothing to do
    if (sockets_.size() + connecting_ >= server_.config().maxNamespacesPerConnection) {
        send(encodeConnectError(packet.nsp, ConnectError{"Too many namespaces on this connection", nullptr}));
        return;
    }
    ++connecting_;
    boost::json::object auth;
    if (auto* obj = packet.json.if_object()) auth = std::move(*obj);
    auto socket =
        std::make_shared<Socket>(*nsp, shared_from_this(), newSocketId(), std::move(auth), std::move(packet.data));
    nsp->runMiddlewares(socket, [weak = weak_from_this(), socket, nsp](std::optional<ConnectError> error) {
        auto self = weak.lock();
        if (!self || self->closed_) return;
        --self->connecting_;
        if (error) {
            self->send(encodeConnectError(nsp->name(), *error));
            return;
        }
        if (self->find(nsp->name())) return;
        self->sockets_.emplace_back(nsp->name(), socket);
        self->connectTimer_.reset();
        socket->onConnected();
        self->send(encodeConnect(nsp->name(), socket->id(), socket->pid()));
        if (auto* watcher = self->server_.watcher()) watcher->socketConnected(*socket);
        nsp->notifyConnection(socket);
    });
}

void Client::onUpgrade() {
    if (polling_) server_.countUpgrade();
    polling_ = false;
    if (auto* watcher = server_.watcher())
        for (auto& [name, socket] : sockets_) watcher->socketUpgraded(*socket);
}

void Client::onClose(engineio::CloseReason reason) {
    server_.countClient(-1, polling_);
    polling_ = false;
    if (auto* watcher = server_.watcher()) watcher->connectionClosed(engineio::toString(reason));
    closed_ = true;
    connectTimer_.reset();
    reassembler_.reset();
    auto sockets = std::move(sockets_);
    sockets_.clear();
    for (auto& [name, socket] : sockets) socket->onDisconnect(engineio::toString(reason));
    session_.reset();
}

} // namespace parley::socketio
