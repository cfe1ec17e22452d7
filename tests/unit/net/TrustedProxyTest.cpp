#include "net/PeerLimits.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using boost::asio::ip::make_address;
using parley::net::Cidr;
using parley::net::forwardedClient;
using parley::net::PeerLimits;
using parley::net::PeerLimitsConfig;

Cidr cidr(const char* text) {
    auto parsed = Cidr::parse(text);
    EXPECT_TRUE(parsed) << text;
    return parsed ? *parsed : Cidr{};
}

TEST(Cidr, ParsesBlocksAndBareAddresses) {
    for (const char* good : {"10.0.0.0/8", "192.0.2.1", "192.0.2.1/32", "0.0.0.0/0", "2001:db8::/32", "::1", "::/0",
                             "fe80::1/128", " 10.0.0.0/8 "})
        EXPECT_TRUE(Cidr::parse(good)) << good;
    for (const char* bad : {"", "/8", "10.0.0.0/", "10.0.0.0/33", "2001:db8::/129", "10.0.0.0/8x", "10.0.0.0/-1",
                            "10.0.0/8", "example.com", "10.0.0.0/8/8", "[::1]"})
        EXPECT_FALSE(Cidr::parse(bad)) << bad;
}

TEST(Cidr, MatchesByPrefix) {
    const Cidr v4 = cidr("192.0.2.0/24");
    EXPECT_TRUE(v4.contains(make_address("192.0.2.0")));
    EXPECT_TRUE(v4.contains(make_address("192.0.2.255")));
    EXPECT_FALSE(v4.contains(make_address("192.0.3.0")));
    EXPECT_TRUE(v4.contains(make_address("::ffff:192.0.2.7"))) << "IPv4 through a dual-stack socket";
    EXPECT_FALSE(v4.contains(make_address("2001:db8::1"))) << "no IPv6 address is in an IPv4 block";

    const Cidr odd = cidr("10.0.0.0/13"); // a prefix that ends inside a byte: 10.0.0.0 - 10.7.255.255
    EXPECT_TRUE(odd.contains(make_address("10.7.255.255")));
    EXPECT_FALSE(odd.contains(make_address("10.8.0.0")));

    const Cidr one = cidr("192.0.2.1");
    EXPECT_TRUE(one.contains(make_address("192.0.2.1")));
    EXPECT_FALSE(one.contains(make_address("192.0.2.2")));

    const Cidr v6 = cidr("2001:db8::/32");
    EXPECT_TRUE(v6.contains(make_address("2001:db8:ffff::1")));
    EXPECT_FALSE(v6.contains(make_address("2001:db9::1")));
    EXPECT_FALSE(v6.contains(make_address("192.0.2.1")));

    EXPECT_TRUE(cidr("0.0.0.0/0").contains(make_address("203.0.113.9")));
    EXPECT_TRUE(cidr("::/0").contains(make_address("2001:db8::1")));
}

const std::vector<Cidr>& proxies() {
    static const std::vector<Cidr> list{cidr("10.0.0.0/8"), cidr("2001:db8:ffff::/48")};
    return list;
}

std::string clientOf(const char* peer, const char* xff, const char* forwarded = "") {
    return forwardedClient(make_address(peer), proxies(), xff, forwarded).to_string();
}

TEST(ForwardedClient, HeadersFromAnUntrustedPeerAreIgnored) {
    EXPECT_EQ(clientOf("203.0.113.5", "198.51.100.1"), "203.0.113.5");
    EXPECT_EQ(clientOf("203.0.113.5", "", "for=198.51.100.1"), "203.0.113.5");
}

TEST(ForwardedClient, XForwardedForTakesTheRightMostUntrustedHop) {
    EXPECT_EQ(clientOf("10.0.0.1", "198.51.100.1"), "198.51.100.1");
    // The client may send any X-Forwarded-For; the proxy appends what it saw: the last one counts.
    EXPECT_EQ(clientOf("10.0.0.1", "1.2.3.4, 198.51.100.1"), "198.51.100.1");
    // Through a chain of trusted proxies.
    EXPECT_EQ(clientOf("10.0.0.1", "1.2.3.4, 198.51.100.1, 10.1.1.1,10.2.2.2"), "198.51.100.1");
    EXPECT_EQ(clientOf("10.0.0.1", "198.51.100.1:4711"), "198.51.100.1") << "a port is dropped";
    EXPECT_EQ(clientOf("10.0.0.1", "2001:db8::5"), "2001:db8::5");
    EXPECT_EQ(clientOf("10.0.0.1", "[2001:db8::5]:443"), "2001:db8::5");
    EXPECT_EQ(clientOf("10.0.0.1", "::ffff:198.51.100.1"), "198.51.100.1");
    EXPECT_EQ(clientOf("::ffff:10.0.0.1", "198.51.100.1"), "198.51.100.1") << "a mapped proxy is trusted";
    EXPECT_EQ(clientOf("2001:db8:ffff::1", "198.51.100.1"), "198.51.100.1");
}

TEST(ForwardedClient, WithoutAUsableEntryThePeerIsTheClient) {
    EXPECT_EQ(clientOf("10.0.0.1", ""), "10.0.0.1");
    EXPECT_EQ(clientOf("10.0.0.1", "unknown"), "10.0.0.1");
    EXPECT_EQ(clientOf("10.0.0.1", "198.51.100.1, garbage, 10.1.1.1"), "10.0.0.1")
        << "no skipping past an entry that is no address";
    EXPECT_EQ(clientOf("10.0.0.1", " , "), "10.0.0.1");
    // Every hop a trusted proxy: the left-most one.
    EXPECT_EQ(clientOf("10.0.0.1", "10.9.9.9, 10.1.1.1"), "10.9.9.9");
}

TEST(ForwardedClient, ForwardedForIsReadWhenThereIsNoXForwardedFor) {
    EXPECT_EQ(clientOf("10.0.0.1", "", "for=198.51.100.1"), "198.51.100.1");
    EXPECT_EQ(clientOf("10.0.0.1", "", "for=1.2.3.4, for=198.51.100.1;proto=https;by=10.0.0.1"), "198.51.100.1");
    EXPECT_EQ(clientOf("10.0.0.1", "", "proto=https;For=\"198.51.100.1:4711\""), "198.51.100.1");
    EXPECT_EQ(clientOf("10.0.0.1", "", "for=\"[2001:db8::5]:4711\", for=10.1.1.1"), "2001:db8::5");
    EXPECT_EQ(clientOf("10.0.0.1", "", "for=unknown"), "10.0.0.1");
    EXPECT_EQ(clientOf("10.0.0.1", "", "for=_hidden"), "10.0.0.1");
    EXPECT_EQ(clientOf("10.0.0.1", "", "proto=https"), "10.0.0.1");
    // Both: X-Forwarded-For, the header proxies write most.
    EXPECT_EQ(clientOf("10.0.0.1", "198.51.100.2", "for=198.51.100.1"), "198.51.100.2");
}

TEST(PeerLimits, ATrustedProxyIsNotCountedAgainstTheConnectionCap) {
    PeerLimitsConfig config{1, 0, 0, {}};
    config.trustedProxies.push_back(cidr("10.0.0.0/8"));
    PeerLimits limits(config);
    auto first = limits.acquire(make_address("10.0.0.1"));
    auto second = limits.acquire(make_address("10.0.0.1"));
    EXPECT_TRUE(first && second);
    EXPECT_TRUE(limits.trusted(make_address("10.0.0.1")));
    EXPECT_FALSE(limits.trusted(make_address("192.0.2.1")));
    auto other = limits.acquire(make_address("192.0.2.1"));
    EXPECT_TRUE(other.has_value());
    EXPECT_FALSE(limits.acquire(make_address("192.0.2.1")).has_value()) << "others keep their cap";
    EXPECT_EQ(limits.clientAddress(make_address("10.0.0.1"), "198.51.100.1", "").to_string(), "198.51.100.1");
}

TEST(PeerLimits, TheDefaultsLetFiveThousandHandshakesInAtOnce) {
    PeerLimits limits(PeerLimitsConfig{});
    const auto nat = make_address("192.0.2.1");
    const auto now = PeerLimits::Clock::now();
    for (int i = 0; i < 5000; ++i) ASSERT_TRUE(limits.allowHandshake(nat, now)) << "handshake " << i;
    EXPECT_FALSE(limits.allowHandshake(nat, now)) << "the 5,001st at the same instant";
    EXPECT_TRUE(limits.allowHandshake(nat, now + std::chrono::milliseconds(10))) << "then at the rate";
}

} // namespace
