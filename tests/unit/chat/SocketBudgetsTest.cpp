// The per-socket budget of store operations (receipt:read, typing:start outside the socket's
// rooms) and the lastSeenAt write cadence of presence:ping.

#include "chat/SocketBudgets.hpp"

#include <gtest/gtest.h>

namespace parley::chat {
namespace {

TEST(SocketBudgets, AllowsPerWindowThenRefusesUntilTheWindowEnds) {
    SocketBudgets budgets;
    const StoreBudget budget{3, 10'000};
    int a = 0;
    int b = 0;
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(budgets.take(&a, 1'000 + i, budget)) << i;
    EXPECT_FALSE(budgets.take(&a, 1'500, budget));
    EXPECT_FALSE(budgets.take(&a, 10'999, budget)) << "the window runs 10 s from its first operation";
    EXPECT_TRUE(budgets.take(&b, 1'500, budget)) << "each socket has its own budget";
    EXPECT_TRUE(budgets.take(&a, 11'000, budget)) << "a new window";
    EXPECT_TRUE(budgets.take(&a, 11'001, budget));
    EXPECT_TRUE(budgets.take(&a, 11'002, budget));
    EXPECT_FALSE(budgets.take(&a, 11'003, budget));
}

TEST(SocketBudgets, ARefusalIsNotCounted) {
    SocketBudgets budgets;
    const StoreBudget budget{1, 1'000};
    int a = 0;
    EXPECT_TRUE(budgets.take(&a, 0, budget));
    for (int i = 0; i < 100; ++i) EXPECT_FALSE(budgets.take(&a, 10 + i, budget));
    EXPECT_TRUE(budgets.take(&a, 1'000, budget));
}

TEST(SocketBudgets, ZeroIsNoLimitAndKeepsNoState) {
    SocketBudgets budgets;
    int a = 0;
    for (int i = 0; i < 1'000; ++i) EXPECT_TRUE(budgets.take(&a, 0, StoreBudget{0, 10'000}));
    EXPECT_EQ(budgets.size(), 0U);
}

TEST(SocketBudgets, LastSeenIsWrittenByTheFirstPingThenOncePerInterval) {
    SocketBudgets budgets;
    int a = 0;
    EXPECT_TRUE(budgets.lastSeenDue(&a, 0, 10'000)) << "time 0 is a time like any other";
    EXPECT_FALSE(budgets.lastSeenDue(&a, 9'999, 10'000));
    EXPECT_TRUE(budgets.lastSeenDue(&a, 10'000, 10'000));
    EXPECT_FALSE(budgets.lastSeenDue(&a, 10'001, 10'000));
}

TEST(SocketBudgets, ForgetDropsASocketsState) {
    SocketBudgets budgets;
    const StoreBudget budget{1, 10'000};
    int a = 0;
    EXPECT_TRUE(budgets.take(&a, 0, budget));
    EXPECT_TRUE(budgets.lastSeenDue(&a, 0, 10'000));
    EXPECT_EQ(budgets.size(), 1U);
    budgets.forget(&a);
    EXPECT_EQ(budgets.size(), 0U);
    EXPECT_TRUE(budgets.take(&a, 1, budget));
    EXPECT_TRUE(budgets.lastSeenDue(&a, 1, 10'000));
}

} // namespace
} // namespace parley::chat
