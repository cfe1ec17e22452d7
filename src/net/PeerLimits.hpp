#pragma once

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace parley::net {

/// What one remote address may hold and open. 0 turns a limit off. Behind a reverse proxy
/// every client has the proxy's address: turn both off there and limit at the proxy.
struct PeerLimitsConfig {
    std::uint32_t maxConnectionsPerIp = 1000; // open TCP connections; a family NAT stays far below
    std::uint32_t handshakesPerSecond = 50;   // new Engine.IO sessions per second, per address
    std::uint32_t handshakeBurst = 100;       // ... of which this many may come at once
};

class PeerLimits;

/// One counted connection; gives its place back when destroyed. Move-only, and moves with
/// the socket (HttpConnection -> another thread -> WsConnection).
class PeerSlot {
public:
    PeerSlot() = default;
    PeerSlot(PeerLimits* owner, std::string key) : owner_(owner), key_(std::move(key)) {}
    PeerSlot(PeerSlot&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)), key_(std::move(other.key_)) {}
    PeerSlot& operator=(PeerSlot&& other) noexcept;
    PeerSlot(const PeerSlot&) = delete;
    PeerSlot& operator=(const PeerSlot&) = delete;
    ~PeerSlot() { release(); }

private:
    void release() noexcept;

    PeerLimits* owner_ = nullptr;
    std::string key_;
};

/// Per-address connection counts and handshake token buckets, shared by every io thread.
/// Touched once per connection and once per handshake, never per message, so one mutex
/// is cheap enough.
class PeerLimits {
public:
    using Clock = std::chrono::steady_clock;

    explicit PeerLimits(PeerLimitsConfig config) : config_(config) {}

    /// A slot for a new connection from `address`, or nothing if the address holds its maximum.
    std::optional<PeerSlot> acquire(const boost::asio::ip::address& address);

    /// True if `address` may open one more session now (takes a token).
    bool allowHandshake(const boost::asio::ip::address& address, Clock::time_point now = Clock::now());

    std::uint32_t connections(const boost::asio::ip::address& address) const;
    const PeerLimitsConfig& config() const noexcept { return config_; }

private:
    friend class PeerSlot;
    struct Bucket {
        double tokens = 0;
        Clock::time_point updated;
    };

    void release(const std::string& key) noexcept;
    void pruneBuckets(Clock::time_point now);
    double burst() const noexcept { return std::max<double>(config_.handshakeBurst, 1); }

    PeerLimitsConfig config_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::uint32_t> connections_;
    std::unordered_map<std::string, Bucket> buckets_;
    Clock::time_point lastPrune_{};
};

} // namespace parley::net
