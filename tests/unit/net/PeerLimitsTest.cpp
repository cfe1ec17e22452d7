#include "net/PeerLimits.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace {

using boost::asio::ip::make_address;
using parley::net::PeerLimits;
using parley::net::PeerLimitsConfig;
using parley::net::PeerSlot;
using namespace std::chrono_literals;

TEST(PeerLimits, ConnectionsAreCountedPerAddressAndGivenBack) {
    PeerLimits limits(PeerLimitsConfig{2, 0, 0});
    const auto a = make_address("192.0.2.1");
    const auto b = make_address("192.0.2.2");
    std::vector<PeerSlot> held;
    held.push_back(*limits.acquire(a));
    held.push_back(*limits.acquire(a));
    EXPECT_FALSE(limits.acquire(a).has_value());
    EXPECT_TRUE(limits.acquire(b).has_value()) << "another address has its own count";
    EXPECT_EQ(limits.connections(a), 2u);
    held.pop_back();
    EXPECT_EQ(limits.connections(a), 1u);
    EXPECT_TRUE(limits.acquire(a).has_value());
}

TEST(PeerLimits, ASlotMovesWithItsConnectionAndCountsOnce) {
    PeerLimits limits(PeerLimitsConfig{1, 0, 0});
    const auto a = make_address("2001:db8::1");
    PeerSlot first = *limits.acquire(a);
    PeerSlot moved = std::move(first);
    PeerSlot assigned;
    assigned = std::move(moved);
    EXPECT_EQ(limits.connections(a), 1u);
    { PeerSlot gone = std::move(assigned); }
    EXPECT_EQ(limits.connections(a), 0u);
}

TEST(PeerLimits, AnIpv4ClientOnADualStackSocketIsItself) {
    PeerLimits limits(PeerLimitsConfig{1, 0, 0});
    auto slot = limits.acquire(make_address("::ffff:192.0.2.7"));
    ASSERT_TRUE(slot);
    EXPECT_FALSE(limits.acquire(make_address("192.0.2.7")).has_value());
}

TEST(PeerLimits, ZeroTurnsTheConnectionLimitOff) {
    PeerLimits limits(PeerLimitsConfig{0, 0, 0});
    std::vector<PeerSlot> held;
    for (int i = 0; i < 10'000; ++i) held.push_back(*limits.acquire(make_address("192.0.2.1")));
    EXPECT_EQ(limits.connections(make_address("192.0.2.1")), 0u) << "not even counted";
}

TEST(PeerLimits, HandshakesFollowATokenBucket) {
    PeerLimits limits(PeerLimitsConfig{0, 2, 3}); // 2 per second, 3 at once
    const auto a = make_address("192.0.2.1");
    const auto t0 = PeerLimits::Clock::time_point{} + 1h;
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(limits.allowHandshake(a, t0)) << i;
    EXPECT_FALSE(limits.allowHandshake(a, t0));
    EXPECT_TRUE(limits.allowHandshake(make_address("192.0.2.9"), t0)) << "per address";
    EXPECT_FALSE(limits.allowHandshake(a, t0 + 400ms)) << "0.8 of a token";
    EXPECT_TRUE(limits.allowHandshake(a, t0 + 500ms)) << "one token after half a second";
    EXPECT_FALSE(limits.allowHandshake(a, t0 + 500ms));
    // A long pause refills to the burst, not beyond.
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(limits.allowHandshake(a, t0 + 1h)) << i;
    EXPECT_FALSE(limits.allowHandshake(a, t0 + 1h));
}

TEST(PeerLimits, ZeroTurnsTheHandshakeRateOff) {
    PeerLimits limits(PeerLimitsConfig{0, 0, 0});
    const auto t0 = PeerLimits::Clock::time_point{} + 1h;
    for (int i = 0; i < 10'000; ++i) ASSERT_TRUE(limits.allowHandshake(make_address("192.0.2.1"), t0));
}

} // namespace
