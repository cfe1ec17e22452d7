#include "net/PeerLimits.hpp"

#include <algorithm>

namespace parley::net {

namespace {
// One key per host: an IPv4 client seen through a dual-stack socket counts as itself.
std::string keyOf(const boost::asio::ip::address& address) {
    if (address.is_v6() && address.to_v6().is_v4_mapped())
        return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6()).to_string();
    return address.to_string();
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

std::optional<PeerSlot> PeerLimits::acquire(const boost::asio::ip::address& address) {
    if (config_.maxConnectionsPerIp == 0) return PeerSlot{};
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
