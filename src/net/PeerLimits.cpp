#include "net/PeerLimits.hpp"

#include <boost/system/errc.hpp>

#include <algorithm>
#include <charconv>

namespace parley::net {

namespace ip = boost::asio::ip;

namespace {
// An IPv4 client seen through a dual-stack socket is itself.
ip::address unmapped(const ip::address& address) {
    if (address.is_v6() && address.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, address.to_v6());
    return address;
}

// One key per host.
std::string keyOf(const ip::address& address) { return unmapped(address).to_string(); }

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// An address as a proxy writes it: "192.0.2.1", "192.0.2.1:4711", "2001:db8::1",
// "[2001:db8::1]", "[2001:db8::1]:4711" (quotes already removed).
std::optional<ip::address> parseHost(std::string_view s) {
    s = trim(s);
    if (s.empty()) return std::nullopt;
    if (s.front() == '[') {
        const auto close = s.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        const auto rest = s.substr(close + 1);
        if (!rest.empty() && rest.front() != ':') return std::nullopt;
        s = s.substr(1, close - 1);
        if (s.find(':') == std::string_view::npos) return std::nullopt; // brackets are for IPv6 only
    } else if (s.find(':') == s.rfind(':') && s.find('.') != std::string_view::npos) {
        s = s.substr(0, s.find(':')); // IPv4 with a port
    }
    boost::system::error_code ec;
    const auto address = ip::make_address(std::string(s), ec);
    if (ec) return std::nullopt;
    return unmapped(address);
}

// Calls fn(entry) for each comma-separated entry, right-most first, until fn returns true.
template <class Fn>
void eachFromRight(std::string_view list, Fn&& fn) {
    while (!list.empty()) {
        const auto comma = list.rfind(',');
        const auto entry = comma == std::string_view::npos ? list : list.substr(comma + 1);
        if (fn(trim(entry))) return;
        if (comma == std::string_view::npos) return;
        list = list.substr(0, comma);
    }
}

// The `for=` value of one Forwarded element ("for=192.0.2.1;proto=https"), unquoted; "" if none.
std::string_view forValue(std::string_view element) {
    while (!element.empty()) {
        const auto semi = element.find(';');
        auto pair = trim(element.substr(0, semi));
        const auto eq = pair.find('=');
        if (eq != std::string_view::npos) {
            const auto name = trim(pair.substr(0, eq));
            if (name.size() == 3 && (name[0] | 0x20) == 'f' && (name[1] | 0x20) == 'o' && (name[2] | 0x20) == 'r') {
                auto value = trim(pair.substr(eq + 1));
                if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
                    value = value.substr(1, value.size() - 2);
                return value;
            }
        }
        if (semi == std::string_view::npos) break;
        element.remove_prefix(semi + 1);
    }
    return {};
}

// Full buckets are forgotten after this long without a handshake, so the map stays small.
constexpr std::chrono::seconds kPruneEvery{10};
} // namespace

PeerSlot& PeerSlot::operator=(PeerSlot&& other) noexcept {
    if (this != &other) {
        release();
        owner_ = std::exchange(other.owner_, nullptr);
        key_ = std::move(other.key_);
    }
    return *this;
}

void PeerSlot::release() noexcept {
    if (owner_) owner_->release(key_);
    owner_ = nullptr;
}

boost::system::result<Cidr> Cidr::parse(std::string_view text) {
    const auto invalid = make_error_code(boost::system::errc::invalid_argument);
    text = trim(text);
    const auto slash = text.find('/');
    boost::system::error_code ec;
    const auto address = ip::make_address(std::string(text.substr(0, slash)), ec);
    if (ec) return invalid;
    Cidr cidr;
    cidr.v4_ = address.is_v4();
    const unsigned bits = cidr.v4_ ? 32 : 128;
    cidr.prefix_ = bits;
    if (slash != std::string_view::npos) {
        const auto digits = text.substr(slash + 1);
        auto [ptr, err] = std::from_chars(digits.data(), digits.data() + digits.size(), cidr.prefix_);
        if (digits.empty() || err != std::errc{} || ptr != digits.data() + digits.size() || cidr.prefix_ > bits)
            return invalid;
    }
    if (cidr.v4_) {
        const auto b = address.to_v4().to_bytes();
        std::copy(b.begin(), b.end(), cidr.bytes_.begin());
    } else {
        cidr.bytes_ = address.to_v6().to_bytes();
    }
    return cidr;
}

bool Cidr::contains(const ip::address& candidate) const noexcept {
    const auto address = unmapped(candidate);
    if (address.is_v4() != v4_) return false;
    std::array<unsigned char, 16> bytes{};
    if (v4_) {
        const auto b = address.to_v4().to_bytes();
        std::copy(b.begin(), b.end(), bytes.begin());
    } else {
        bytes = address.to_v6().to_bytes();
    }
    const unsigned whole = prefix_ / 8;
    for (unsigned i = 0; i < whole; ++i)
        if (bytes[i] != bytes_[i]) return false;
    if (const unsigned rest = prefix_ % 8) {
        const auto mask = static_cast<unsigned char>(0xFF << (8 - rest));
        if ((bytes[whole] & mask) != (bytes_[whole] & mask)) return false;
    }
    return true;
}

ip::address forwardedClient(const ip::address& peer, const std::vector<Cidr>& trusted, std::string_view xForwardedFor,
                            std::string_view forwarded) {
    const auto isTrusted = [&](const ip::address& a) {
        return std::any_of(trusted.begin(), trusted.end(), [&](const Cidr& c) { return c.contains(a); });
    };
    if (!isTrusted(peer)) return peer;
    const bool useXff = !trim(xForwardedFor).empty();
    std::optional<ip::address> client;
    eachFromRight(useXff ? xForwardedFor : forwarded, [&](std::string_view entry) {
        const auto hop = parseHost(useXff ? entry : forValue(entry));
        if (!hop) {
            client.reset(); // not an address where the client should be: the peer stays
            return true;
        }
        client = *hop;
        return !isTrusted(*hop); // a trusted hop: look further left
    });
    // Every listed hop a trusted proxy: the left-most is as close to the client as we know.
    return client.value_or(peer);
}

bool PeerLimits::trusted(const ip::address& address) const noexcept {
    return std::any_of(config_.trustedProxies.begin(), config_.trustedProxies.end(),
                       [&](const Cidr& c) { return c.contains(address); });
}

std::optional<PeerSlot> PeerLimits::acquire(const boost::asio::ip::address& address) {
    if (config_.maxConnectionsPerIp == 0 || trusted(address)) return PeerSlot{};
    std::string key = keyOf(address);
    std::lock_guard lock(mutex_);
    auto& count = connections_[key];
    if (count >= config_.maxConnectionsPerIp) return std::nullopt;
    ++count;
    return PeerSlot(this, std::move(key));
}

void PeerLimits::release(const std::string& key) noexcept {
    std::lock_guard lock(mutex_);
    auto it = connections_.find(key);
    if (it == connections_.end()) return;
    if (--it->second == 0) connections_.erase(it);
}

std::uint32_t PeerLimits::connections(const boost::asio::ip::address& address) const {
    std::lock_guard lock(mutex_);
    auto it = connections_.find(keyOf(address));
    return it == connections_.end() ? 0 : it->second;
}

bool PeerLimits::allowHandshake(const boost::asio::ip::address& address, Clock::time_point now) {
    if (config_.handshakesPerSecond == 0) return true;
    const double rate = config_.handshakesPerSecond;
    const double burst = this->burst();
    std::string key = keyOf(address);
    std::lock_guard lock(mutex_);
    pruneBuckets(now);
    auto [it, fresh] = buckets_.try_emplace(std::move(key), Bucket{burst, now});
    Bucket& b = it->second;
    if (!fresh) {
        const double elapsed = std::chrono::duration<double>(now - b.updated).count();
        b.tokens = std::min(burst, b.tokens + std::max(elapsed, 0.0) * rate);
        b.updated = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
}

void PeerLimits::pruneBuckets(Clock::time_point now) {
    if (now - lastPrune_ < kPruneEvery) return;
    lastPrune_ = now;
    std::erase_if(buckets_, [&](const auto& entry) {
        const double elapsed = std::chrono::duration<double>(now - entry.second.updated).count();
        return entry.second.tokens + elapsed * config_.handshakesPerSecond >= burst();
    });
}

} // namespace parley::net
