#include "chat/RateLimiter.hpp"

#include <gtest/gtest.h>

using parley::chat::RateLimiter;

TEST(RateLimiter, AllowsLimitThenRefuses) {
    RateLimiter limiter(10, 10'000);
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(limiter.tryAcquire("u", 1000 + i)) << i;
    EXPECT_FALSE(limiter.tryAcquire("u", 1010));
}

TEST(RateLimiter, KeysAreIndependent) {
    RateLimiter limiter(2, 10'000);
    EXPECT_TRUE(limiter.tryAcquire("a", 0));
    EXPECT_TRUE(limiter.tryAcquire("a", 0));
    EXPECT_FALSE(limiter.tryAcquire("a", 0));
    EXPECT_TRUE(limiter.tryAcquire("b", 0));
}

TEST(RateLimiter, WindowSlidesEventByEvent) {
    RateLimiter limiter(3, 10'000);
    EXPECT_TRUE(limiter.tryAcquire("u", 0));
    EXPECT_TRUE(limiter.tryAcquire("u", 4000));
    EXPECT_TRUE(limiter.tryAcquire("u", 8000));
    EXPECT_FALSE(limiter.tryAcquire("u", 9999));
    // Exactly one window after the first event, that event has left the window.
    EXPECT_TRUE(limiter.tryAcquire("u", 10'000));
    EXPECT_FALSE(limiter.tryAcquire("u", 13'999));
    EXPECT_TRUE(limiter.tryAcquire("u", 14'000));
}

TEST(RateLimiter, JustBeforeTheEdgeStillCounts) {
    RateLimiter limiter(1, 10'000);
    EXPECT_TRUE(limiter.tryAcquire("u", 5));
    EXPECT_FALSE(limiter.tryAcquire("u", 10'004));
    EXPECT_TRUE(limiter.tryAcquire("u", 10'005));
}

TEST(RateLimiter, RefusedEventsAreNotCounted) {
    RateLimiter limiter(1, 1000);
    EXPECT_TRUE(limiter.tryAcquire("u", 0));
    for (int t = 1; t < 1000; t += 100) EXPECT_FALSE(limiter.tryAcquire("u", t));
    EXPECT_TRUE(limiter.tryAcquire("u", 1000));
}

TEST(RateLimiter, PruneForgetsIdleKeys) {
    RateLimiter limiter(5, 1000);
    limiter.tryAcquire("old", 0);
    limiter.tryAcquire("new", 1500);
    EXPECT_EQ(limiter.prune(2000), 1u);
    EXPECT_EQ(limiter.keyCount(), 1u);
}
