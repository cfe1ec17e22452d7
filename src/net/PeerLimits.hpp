#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/system/result.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace parley::net {

/// A block of addresses: "192.0.2.0/24", "2001:db8::/32"; a bare address is a block of one
/// (/32, /128). An IPv4 block also holds the IPv4-mapped IPv6 form of its addresses.
class Cidr {
public:
    /// Parses `text`; errc::invalid_argument for anything but an address with an optional
    /// "/prefix" no longer than the address.
    static boost::system::result<Cidr> parse(std::string_view text);

    bool contains(const boost::asio::ip::address& address) const noexcept;

private:
    std::array<unsigned char, 16> bytes_{}; // the first 4 for IPv4
    bool v4_ = true;
    unsigned prefix_ = 0;
};

/// The client a request speaks for, given the proxies it came through. `peer` is the TCP peer;
/// `xForwardedFor` and `forwarded` are the request's X-Forwarded-For and Forwarded (RFC 7239)
/// values, each header's lines joined with ",". Only a peer inside `trusted` is believed: from
/// anyone else the headers are ignored and the peer is the client. From a trusted proxy the
/// client is the right-most listed address that is not itself a trusted proxy (the left ones
/// may be forged by the client; each trusted proxy appends the address it saw). X-Forwarded-For
/// is read when present, else Forwarded's `for=`: a proxy that writes only Forwarded must drop
/// an incoming X-Forwarded-For. An entry that is no address ("unknown", an obfuscated name,
/// garbage) where the client should be, or no entry at all, leaves the peer as the client.
boost::asio::ip::address forwardedClient(const boost::asio::ip::address& peer, const std::vector<Cidr>& trusted,
                                         std::string_view xForwardedFor, std::string_view forwarded);

/// What one remote address may hold and open. 0 turns a limit off.
///
/// The defaults admit a crowd behind one address (a school's or an office's NAT, a carrier-grade
/// NAT) reconnecting all at once after a restart, and still stop one address that opens without
/// bound:
/// - 5,000 clients reconnect within about a second (socket.io-client's first retry comes after
///   0.5-1.5 s) and each opens one session: the burst of 5,000 lets every one of them in at once.
/// - The rate refills that burst in 50 s and bounds what one address holds afterwards: a polling
///   session that stops answering lives pingInterval + pingTimeout (45 s), so one address keeps at
///   most about burst + 100 x 45 = 9,500 sessions, whatever it sends.
/// - Each of those 5,000 clients holds one connection, two while it upgrades from polling to
///   WebSocket: 10,000 open connections per address. That bounds the descriptors one address can
///   take (each is one; the process has the system's hard limit, often 20,000 or far more) while
///   the rest stay for everyone else.
/// Tighten them for small deployments (e.g. 200 connections, 20/s, burst 50 for a family server).
/// Behind a reverse proxy every client has the proxy's address: name the proxy in
/// `trustedProxies` so that the handshake rate counts each forwarded client on its own.
struct PeerLimitsConfig {
    std::uint32_t maxConnectionsPerIp = 10'000; // open TCP connections: 5,000 clients, 2 each while upgrading
    std::uint32_t handshakesPerSecond = 100;    // new Engine.IO sessions per second, per address
    std::uint32_t handshakeBurst = 5'000;       // ... of which this many may come at once
    /// Reverse proxies whose X-Forwarded-For / Forwarded are believed (see forwardedClient).
    /// Their own connections are not counted against maxConnectionsPerIp: every client behind
    /// them shares their address, and the proxy bounds its own connections.
    std::vector<Cidr> trustedProxies;
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

    /// True if `address` is one of config().trustedProxies.
    bool trusted(const boost::asio::ip::address& address) const noexcept;
    /// forwardedClient() with config().trustedProxies.
    boost::asio::ip::address clientAddress(const boost::asio::ip::address& peer, std::string_view xForwardedFor,
                                           std::string_view forwarded) const {
        return forwardedClient(peer, config_.trustedProxies, xForwardedFor, forwarded);
    }
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
