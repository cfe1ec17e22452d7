#include "SioClient.hpp"

#include "PollingTransport.hpp"
#include "WsTransport.hpp"

#include "engineio/codec/Packet.hpp"
#include "socketio/codec/Packet.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace parley::bench {

namespace eio = parley::engineio::codec;
namespace sio = parley::socketio::codec;

SioClient::SioClient(boost::asio::io_context& ctx, const boost::asio::ip::tcp::endpoint& endpoint,
                     std::string hostHeader, TransportKind kind, SioHandler& handler)
    : ctx_(ctx), endpoint_(endpoint), hostHeader_(std::move(hostHeader)), kind_(kind), handler_(handler) {}

SioClient::~SioClient() {
    if (transport_) transport_->detach();
}

void SioClient::connect(std::string_view token, bool presenceBatch) {
    if (transport_) {
        transport_->detach();
        transport_->close(false);
    }
    acks_.clear();
    token_ = std::string(token);
    presenceBatch_ = presenceBatch;
    state_ = State::Opening;
    if (kind_ == TransportKind::WebSocket)
        transport_ = std::make_shared<WsTransport>(ctx_, endpoint_, hostHeader_);
    else
        transport_ = std::make_shared<PollingTransport>(ctx_, endpoint_, hostHeader_);
    transport_->open(*this);
}

void SioClient::emit(std::string_view event, const boost::json::value& arg, AckFn ack) {
    emitRaw(event, boost::json::serialize(arg), std::move(ack));
}

void SioClient::emitRaw(std::string_view event, std::string_view argJson, AckFn ack) {
    if (state_ != State::Connected) return;
    std::string json = "[";
    json += boost::json::serialize(boost::json::string(event));
    json += ',';
    json += argJson;
    json += ']';
    std::optional<std::uint64_t> id;
    if (ack) {
        id = nextAckId_++;
        acks_.emplace(*id, std::move(ack));
    }
    // Engine.IO message type '4', then the Socket.IO packet.
    std::string frame = "4";
    sio::encode(frame, sio::PacketType::Event, "/", id, 0, json);
    transport_->send(std::move(frame));
}

void SioClient::close(bool graceful) {
    if (!transport_ || state_ == State::Idle) return;
    // A local owner: the transport may report its end (and be released) from inside close().
    auto transport = transport_;
    if (graceful && state_ == State::Connected) transport->send("41");
    state_ = State::Closing;
    transport->close(graceful);
}

void SioClient::onPacket(std::string_view text) {
    // The hot path, every message:new: "42[...]", an event on the main namespace without an ack
    // id. Parsed in place into an arena on the stack, where the codecs would copy the text twice
    // and allocate each of its strings: a dozen allocations per delivery, 100k deliveries/s. What
    // does not parse here takes the codecs' path (which also repairs lone surrogates).
    if (text.size() > 2 && text.substr(0, 3) == "42[") {
        unsigned char arena[8192];
        boost::json::monotonic_resource resource(arena, sizeof arena);
        boost::system::error_code ec;
        const boost::json::value json = boost::json::parse(text.substr(2), ec, &resource);
        if (!ec) {
            if (const auto* args = json.if_array(); args && !args->empty() && (*args)[0].is_string())
                handler_.onEvent((*args)[0].get_string(), *args);
            return;
        }
    }
    auto packet = eio::parseText(text);
    if (!packet) return; // a broken packet from the server: ignored, the checks will show it
    switch (packet->type) {
    case eio::PacketType::Open:
        if (state_ == State::Opening) {
            state_ = State::Connecting;
            std::string connect = "40";
            boost::json::object auth{{"token", token_}};
            if (presenceBatch_) auth["presence"] = "batch";
            connect += boost::json::serialize(auth);
            transport_->send(std::move(connect));
        }
        return;
    case eio::PacketType::Ping: transport_->send("3"); return;
    case eio::PacketType::Message: return onSocketPacket(packet->data);
    case eio::PacketType::Close: {
        auto transport = transport_;
        transport->close(false);
        return;
    }
    case eio::PacketType::Pong:
    case eio::PacketType::Upgrade:
    case eio::PacketType::Noop: return;
    }
}

void SioClient::onSocketPacket(std::string_view text) {
    auto packet = sio::decode(text);
    if (!packet || packet->nsp != "/") return;
    switch (packet->type) {
    case sio::PacketType::Connect:
        if (state_ == State::Connecting) {
            state_ = State::Connected;
            handler_.onConnect();
        }
        return;
    case sio::PacketType::ConnectError: {
        std::string message = "connect error";
        if (const auto* o = packet->json.if_object())
            if (const auto* m = o->if_contains("message"); m && m->is_string()) message = std::string(m->get_string());
        state_ = State::Closing;
        auto transport = transport_;
        transport->close(false);
        handler_.onConnectError(message);
        return;
    }
    case sio::PacketType::Event:
        if (const auto* args = packet->json.if_array(); args && !args->empty() && (*args)[0].is_string())
            handler_.onEvent((*args)[0].get_string(), *args);
        return;
    case sio::PacketType::Ack: {
        if (!packet->id) return;
        auto it = acks_.find(*packet->id);
        if (it == acks_.end()) return;
        AckFn fn = std::move(it->second);
        acks_.erase(it);
        if (const auto* args = packet->json.if_array()) fn(*args);
        return;
    }
    case sio::PacketType::Disconnect: {
        // The server ended the namespace session: the transport goes with it.
        auto transport = transport_;
        transport->close(false);
        return;
    }
    case sio::PacketType::BinaryEvent:
    case sio::PacketType::BinaryAck: return; // not part of the chat contract
    }
}

void SioClient::onTransportClosed(boost::system::error_code ec) {
    const bool asked = state_ == State::Closing;
    state_ = State::Idle;
    acks_.clear();
    transport_.reset();
    handler_.onClose(asked ? boost::system::error_code{} : ec ? ec : boost::asio::error::connection_reset);
}

} // namespace parley::bench
