#pragma once

#include <cstdint>
#include <string>

namespace parley::engineio::codec {

/// The handshake answer: `0{"sid",...}`. Key order and key set follow the reference exactly.
struct OpenPacket {
    std::string sid;
    bool upgradeToWebSocket = true; ///< true over polling, false when already on WebSocket
    std::uint32_t pingInterval = 25000;
    std::uint32_t pingTimeout = 20000;
    std::uint64_t maxPayload = 1000000;

    /// The full text packet, "0" included.
    std::string serialize() const;
};

} // namespace parley::engineio::codec
