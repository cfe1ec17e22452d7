#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace parley::engineio {

/// Settings of one Engine.IO endpoint.
struct Config {
    std::string path = "/socket.io/";                 // the prefix clients connect to
    std::chrono::milliseconds pingInterval{25'000};   // the reference default: NAT-friendly, cheap
    std::chrono::milliseconds pingTimeout{20'000};    // generous for mobile networks
    std::chrono::milliseconds upgradeTimeout{10'000}; // a probe that never sends "5" is dropped
    std::uint64_t maxPayload = 1'000'000;             // bytes per message / polling body, as the reference
    std::uint64_t maxOutboundBytes = 8 * 1024 * 1024; // queued for one client; a slower reader is cut off
    std::uint64_t volatileBacklogBytes = 64 * 1024;   // past this backlog, volatile packets are dropped first
    std::vector<std::string> corsOrigins;             // empty: any origin ("*"); else an allow-list
};

} // namespace parley::engineio
