#pragma once

#include <boost/system/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace parley::engineio::codec {

/// Engine.IO v4 packet types; the number is the character on the wire.
enum class PacketType : std::uint8_t {
    Open = 0,
    Close = 1,
    Ping = 2,
    Pong = 3,
    Message = 4,
    Upgrade = 5,
    Noop = 6,
};

/// One decoded packet. Binary packets are always of type Message and carry raw bytes.
struct Packet {
    PacketType type = PacketType::Message;
    bool binary = false;
    std::string data;
};

/// Parses one text packet: a WebSocket text frame, or one text record of a polling payload.
boost::system::result<Packet> parseText(std::string_view text);

/// Appends the wire form of a text packet (type digit + data) to `out`.
void serializeText(std::string& out, PacketType type, std::string_view data);

/// The wire form of a text packet as a new string.
std::string serializeText(PacketType type, std::string_view data = {});

} // namespace parley::engineio::codec
