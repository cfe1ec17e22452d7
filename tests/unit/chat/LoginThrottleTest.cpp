#include "chat/LoginThrottle.hpp"

#include <gtest/gtest.h>

#include <string>

using parley::chat::LoginLimits;
using parley::chat::LoginThrottle;
using Refusal = LoginThrottle::Refusal;

namespace {
LoginLimits limits(std::size_t perAddress, std::size_t perAccount, std::int64_t windowMs = 300'000) {
    LoginLimits l;
    l.perAddressPerMinute = perAddress;
    l.failuresPerAccount = perAccount;
    l.failureWindowMs = windowMs;
    return l;
}
} // namespace

TEST(LoginThrottle, AddressBudgetPerMinute) {
    LoginThrottle throttle(limits(3, 0));
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(throttle.admit("10.0.0.1", "a" + std::to_string(i), 1000));
    auto v = throttle.admit("10.0.0.1", "someone@example.com", 1500);
    EXPECT_EQ(v.refusal, Refusal::Address);
    EXPECT_EQ(v.retryAfterMs, 59'500);
    EXPECT_TRUE(throttle.admit("10.0.0.2", "someone@example.com", 1500));   // another address
    EXPECT_TRUE(throttle.admit("10.0.0.1", "someone@example.com", 61'000)); // a minute later
}

TEST(LoginThrottle, AccountFailuresUntilTheWindowPasses) {
    LoginThrottle throttle(limits(0, 2, 10'000));
    EXPECT_TRUE(throttle.admit("10.0.0.1", "a@example.com", 0));
    EXPECT_TRUE(throttle.admit("10.0.0.2", "a@example.com", 100));
    // From any address, and whatever the password: refused without looking at it.
    auto v = throttle.admit("10.0.0.3", "a@example.com", 200);
    EXPECT_EQ(v.refusal, Refusal::Account);
    EXPECT_EQ(v.retryAfterMs, 9'800);
    EXPECT_TRUE(throttle.admit("10.0.0.3", "b@example.com", 200)); // another account
    EXPECT_TRUE(throttle.admit("10.0.0.1", "a@example.com", 10'000));
}

TEST(LoginThrottle, ASuccessForgetsTheFailures) {
    LoginThrottle throttle(limits(0, 2));
    EXPECT_TRUE(throttle.admit("ip", "a", 0));
    EXPECT_TRUE(throttle.admit("ip", "a", 1));
    throttle.succeeded("a");
    EXPECT_TRUE(throttle.admit("ip", "a", 2));
    EXPECT_TRUE(throttle.admit("ip", "a", 3));
    EXPECT_FALSE(throttle.admit("ip", "a", 4));
}

TEST(LoginThrottle, ARefusalCountsAgainstNeither) {
    LoginThrottle throttle(limits(2, 1));
    EXPECT_TRUE(throttle.admit("ip", "a", 0));
    // Refused for the account: the address's budget is untouched.
    for (int i = 0; i < 5; ++i) EXPECT_EQ(throttle.admit("ip", "a", 1).refusal, Refusal::Account);
    EXPECT_TRUE(throttle.admit("ip", "b", 2));
    EXPECT_EQ(throttle.admit("ip", "c", 3).refusal, Refusal::Address);
    // Refused for the address: the account "c" was not counted.
    EXPECT_TRUE(throttle.admit("other", "c", 4));
}

TEST(LoginThrottle, ZeroMeansNoLimit) {
    LoginThrottle throttle(limits(0, 0));
    for (int i = 0; i < 1000; ++i) EXPECT_TRUE(throttle.admit("ip", "a", i));
}
