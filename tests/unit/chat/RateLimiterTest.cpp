#include "chat/RateLimiter.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

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

TEST(RateLimiter, AllowsTellsWithoutCounting) {
    RateLimiter limiter(2, 1000);
    EXPECT_TRUE(limiter.allows("u", 0));
    EXPECT_EQ(limiter.keyCount(), 0u);
    EXPECT_TRUE(limiter.tryAcquire("u", 0));
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.allows("u", 1));
    EXPECT_TRUE(limiter.tryAcquire("u", 1));
    EXPECT_FALSE(limiter.allows("u", 999));
    EXPECT_FALSE(limiter.tryAcquire("u", 999));
    EXPECT_TRUE(limiter.allows("u", 1000));
}

TEST(RateLimiter, ZeroLimitRefusesEverything) {
    RateLimiter limiter(0, 1000);
    EXPECT_FALSE(limiter.allows("u", 0));
    EXPECT_FALSE(limiter.tryAcquire("u", 0));
    EXPECT_EQ(limiter.keyCount(), 0u);
}

// Many windows' worth of events: the limiter keeps counting exactly as its window slides.
TEST(RateLimiter, CountsExactlyOverManyWindows) {
    RateLimiter limiter(3, 100);
    std::vector<std::int64_t> accepted;
    for (std::int64_t t = 0; t < 2000; t += 7) {
        std::int64_t inWindow = 0;
        for (auto a : accepted) inWindow += a > t - 100 ? 1 : 0;
        EXPECT_EQ(limiter.allows("u", t), inWindow < 3) << t;
        const bool took = limiter.tryAcquire("u", t);
        EXPECT_EQ(took, inWindow < 3) << t;
        if (took) accepted.push_back(t);
    }
    EXPECT_EQ(limiter.prune(2000), 0u);
    EXPECT_EQ(limiter.prune(2100), 1u);
}

TEST(RateLimiter, RetryAfterIsWhenTheOldestLeaves) {
    RateLimiter limiter(2, 1000);
    EXPECT_EQ(limiter.retryAfterMs("u", 0), 0);
    limiter.tryAcquire("u", 100);
    EXPECT_EQ(limiter.retryAfterMs("u", 150), 0); // room for one more
    limiter.tryAcquire("u", 400);
    EXPECT_EQ(limiter.retryAfterMs("u", 500), 600); // the event at 100 leaves at 1100
    EXPECT_EQ(limiter.retryAfterMs("u", 1099), 1);
    EXPECT_EQ(limiter.retryAfterMs("u", 1100), 0);
    EXPECT_TRUE(limiter.tryAcquire("u", 1100));
    EXPECT_EQ(limiter.retryAfterMs("u", 1100), 300); // now the event at 400 is the oldest
    EXPECT_EQ(RateLimiter(0, 1000).retryAfterMs("u", 0), 1000);
}

TEST(RateLimiter, ForgetClearsOneKey) {
    RateLimiter limiter(1, 1000);
    limiter.tryAcquire("a", 0);
    limiter.tryAcquire("b", 0);
    limiter.forget("a");
    limiter.forget("unknown");
    EXPECT_TRUE(limiter.tryAcquire("a", 1));
    EXPECT_FALSE(limiter.tryAcquire("b", 1));
}

// A refund takes back one counted event: a send that turned out to be a retry or failed.
TEST(RateLimiter, RefundGivesBackTheNewestEventBeforeTheRingIsFull) {
    RateLimiter limiter(3, 1000);
    EXPECT_TRUE(limiter.tryAcquire("u", 0));
    EXPECT_TRUE(limiter.tryAcquire("u", 10));
    limiter.refund("u");
    EXPECT_TRUE(limiter.tryAcquire("u", 20));
    EXPECT_TRUE(limiter.tryAcquire("u", 30));
    EXPECT_FALSE(limiter.tryAcquire("u", 40)) << "three counted: 0, 20, 30";
    EXPECT_EQ(limiter.retryAfterMs("u", 40), 960) << "the oldest counted is still the one at 0";
}

TEST(RateLimiter, RefundOnAFullRingFreesOneSlotAndKeepsTheOthersInOrder) {
    RateLimiter limiter(3, 1000);
    for (std::int64_t t : {0, 100, 200}) EXPECT_TRUE(limiter.tryAcquire("u", t));
    EXPECT_TRUE(limiter.tryAcquire("u", 1050)) << "the event at 0 has left the window";
    limiter.refund("u"); // takes back the one at 1050
    EXPECT_TRUE(limiter.tryAcquire("u", 1060)) << "one slot is free again";
    EXPECT_FALSE(limiter.tryAcquire("u", 1070)) << "100, 200 and 1060 are counted";
    EXPECT_EQ(limiter.retryAfterMs("u", 1070), 30) << "the oldest counted is the one at 100";
}

TEST(RateLimiter, RefundOfAnUnknownOrEmptyKeyDoesNothing) {
    RateLimiter limiter(1, 1000);
    limiter.refund("nobody");
    EXPECT_EQ(limiter.keyCount(), 0u);
    EXPECT_TRUE(limiter.tryAcquire("u", 0));
    limiter.refund("u");
    limiter.refund("u");
    EXPECT_TRUE(limiter.tryAcquire("u", 1));
    EXPECT_FALSE(limiter.tryAcquire("u", 2));
}
