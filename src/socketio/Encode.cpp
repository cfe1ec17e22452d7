#include "socketio/Encode.hpp"

#include "socketio/codec/Packet.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace parley::socketio {

using codec::PacketType;

namespace {
EncodedPacket finish(std::string text, std::span<const std::string> buffers) {
    EncodedPacket out;
    out.text = net::makeSharedBuffer(std::move(text));
    out.binaries.reserve(buffers.size());
    for (const auto& b : buffers) out.binaries.push_back(net::makeSharedBuffer(b));
    return out;
}
} // namespace

std::string argsText(const boost::json::array& args) {
    std::string out;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (i) out.push_back(',');
        out += boost::json::serialize(args[i]);
    }
    return out;
}

EncodedPacket encodeEvent(std::string_view nsp, std::string_view event, std::string_view args,
                          std::optional<std::uint64_t> id, std::span<const std::string> buffers) {
    std::string json = "[";
    json += boost::json::serialize(boost::json::string_view(event.data(), event.size()));
    if (!args.empty()) {
        json.push_back(',');
        json.append(args);
    }
    json.push_back(']');
    std::string text = "4";
    codec::encode(text, buffers.empty() ? PacketType::Event : PacketType::BinaryEvent, nsp, id, buffers.size(), json);
    return finish(std::move(text), buffers);
}

EncodedPacket encodeAck(std::string_view nsp, std::uint64_t id, std::string_view args,
                        std::span<const std::string> buffers) {
    std::string json = "[";
    json.append(args);
    json.push_back(']');
    std::string text = "4";
    codec::encode(text, buffers.empty() ? PacketType::Ack : PacketType::BinaryAck, nsp, id, buffers.size(), json);
    return finish(std::move(text), buffers);
}

EncodedPacket encodeConnect(std::string_view nsp, std::string_view sid, std::string_view pid) {
    boost::json::object o;
    o["sid"] = sid;
    if (!pid.empty()) o["pid"] = pid;
    std::string text = "4";
    codec::encode(text, PacketType::Connect, nsp, std::nullopt, 0, boost::json::serialize(o));
    return finish(std::move(text), {});
}

EncodedPacket encodeConnectError(std::string_view nsp, const ConnectError& error) {
    boost::json::object o;
    o["message"] = error.message;
    if (!error.data.is_null()) o["data"] = error.data;
    std::string text = "4";
    codec::encode(text, PacketType::ConnectError, nsp, std::nullopt, 0, boost::json::serialize(o));
    return finish(std::move(text), {});
}

EncodedPacket encodeDisconnect(std::string_view nsp) {
    std::string text = "4";
    codec::encode(text, PacketType::Disconnect, nsp, std::nullopt, 0, {});
    return finish(std::move(text), {});
}

} // namespace parley::socketio
