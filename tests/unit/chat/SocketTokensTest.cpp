#include "chat/SocketTokens.hpp"

#include "core/Time.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <vector>

using parley::chat::RenewLimit;
using parley::chat::SocketTokens;
using parley::core::nowMs;
using Renewal = SocketTokens::Renewal;

namespace {

// Distinct addresses standing for sockets.
int socketA = 0;
int socketB = 0;

// Runs `ctx` until `done()` holds or `limit` passes; true if it held.
template <class Pred>
bool runUntil(boost::asio::io_context& ctx, Pred done, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        ctx.restart();
        ctx.run_for(std::chrono::milliseconds(5));
    }
    return done();
}

} // namespace

TEST(SocketTokens, ASocketWithoutExpiryOrRenewalHasNoState) {
    boost::asio::io_context ctx;
    SocketTokens tokens(ctx);
    tokens.arm(&socketA, 0, [] { FAIL() << "no deadline, no callback"; });
    EXPECT_EQ(tokens.size(), 0u);
    EXPECT_EQ(tokens.deadline(&socketA), 0);
    tokens.forget(&socketA);
    EXPECT_EQ(tokens.size(), 0u);
}

TEST(SocketTokens, FiresOnceAtTheDeadlineAndNotBefore) {
    boost::asio::io_context ctx;
    SocketTokens tokens(ctx);
    const std::int64_t deadline = nowMs() + 150;
    std::vector<std::int64_t> firedAt;
    tokens.arm(&socketA, deadline, [&] { firedAt.push_back(nowMs()); });
    EXPECT_EQ(tokens.deadline(&socketA), deadline);
    ASSERT_TRUE(runUntil(ctx, [&] { return !firedAt.empty(); }));
    EXPECT_GE(firedAt[0], deadline);
    EXPECT_EQ(tokens.deadline(&socketA), 0) << "a fired deadline is spent";
    // Nothing more comes, however long the context runs.
    ctx.restart();
    ctx.run_for(std::chrono::milliseconds(100));
    EXPECT_EQ(firedAt.size(), 1u);
}

TEST(SocketTokens, ADeadlineAlreadyPastFiresAtOnce) {
    boost::asio::io_context ctx;
    SocketTokens tokens(ctx);
    bool fired = false;
    tokens.arm(&socketA, nowMs() - 1000, [&] { fired = true; });
    EXPECT_FALSE(fired) << "never inside arm(): the callback may touch what the caller holds";
    EXPECT_TRUE(runUntil(
        ctx, [&] { return fired; }, std::chrono::milliseconds(500)));
}

TEST(SocketTokens, ReArmingMovesTheDeadlineAndReplacesTheCallback) {
    boost::asio::io_context ctx;
    SocketTokens tokens(ctx);
    int first = 0;
    int second = 0;
    tokens.arm(&socketA, nowMs() + 50, [&] { ++first; });
    const std::int64_t later = nowMs() + 300;
    tokens.arm(&socketA, later, [&] { ++second; });
    std::int64_t firedAt = 0;
    ASSERT_TRUE(runUntil(ctx, [&] {
        if (second && !firedAt) firedAt = nowMs();
        return second > 0;
    }));
    EXPECT_EQ(first, 0) << "the replaced callback never runs";
    EXPECT_GE(firedAt, later);
    EXPECT_EQ(tokens.size(), 1u);
}

TEST(SocketTokens, DisarmingAndForgettingCancel) {
    boost::asio::io_context ctx;
    SocketTokens tokens(ctx);
    int fired = 0;
    tokens.arm(&socketA, nowMs() + 30, [&] { ++fired; });
    tokens.arm(&socketA, 0, {});
    tokens.arm(&socketB, nowMs() + 30, [&] { ++fired; });
    tokens.forget(&socketB);
    EXPECT_EQ(tokens.size(), 1u);
    EXPECT_EQ(tokens.deadline(&socketA), 0);
    // A control on the same context proves it ran past both deadlines.
    int control = 0;
    int socketC = 0;
    tokens.arm(&socketC, nowMs() + 120, [&] { ++control; });
    ASSERT_TRUE(runUntil(ctx, [&] { return control > 0; }));
    EXPECT_EQ(fired, 0);
}

TEST(SocketTokens, TheCallbackMayForgetItsOwnKey) {
    boost::asio::io_context ctx;
    SocketTokens tokens(ctx);
    bool fired = false;
    tokens.arm(&socketA, nowMs() + 10, [&] {
        fired = true;
        tokens.forget(&socketA); // what a disconnect does
    });
    ASSERT_TRUE(runUntil(ctx, [&] { return fired; }));
    EXPECT_EQ(tokens.size(), 0u);
}

TEST(SocketTokens, AFarDeadlineNeitherOverflowsNorFires) {
    boost::asio::io_context ctx;
    SocketTokens tokens(ctx);
    bool fired = false;
    tokens.arm(&socketA, INT64_MAX, [&] { fired = true; });
    ctx.run_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(fired);
    EXPECT_EQ(tokens.deadline(&socketA), INT64_MAX);
}

TEST(SocketTokens, RenewalsAreOneAtATimeAndBudgeted) {
    boost::asio::io_context ctx;
    SocketTokens tokens(ctx);
    const RenewLimit limit{2, 60'000};
    EXPECT_EQ(tokens.beginRenewal(&socketA, 1000, limit), Renewal::Started);
    EXPECT_EQ(tokens.beginRenewal(&socketA, 1001, limit), Renewal::Busy);
    tokens.endRenewal(&socketA);
    EXPECT_EQ(tokens.beginRenewal(&socketA, 1002, limit), Renewal::Started) << "Busy did not count";
    tokens.endRenewal(&socketA);
    EXPECT_EQ(tokens.beginRenewal(&socketA, 1003, limit), Renewal::OverBudget);
    EXPECT_EQ(tokens.beginRenewal(&socketA, 60'999, limit), Renewal::OverBudget);
    // Another socket has its own budget; a new window a full window after the first renewal.
    EXPECT_EQ(tokens.beginRenewal(&socketB, 1003, limit), Renewal::Started);
    EXPECT_EQ(tokens.beginRenewal(&socketA, 61'000, limit), Renewal::Started);
    tokens.endRenewal(&socketA);
    EXPECT_EQ(tokens.beginRenewal(&socketA, 61'001, limit), Renewal::Started);
    tokens.endRenewal(&socketA);
    EXPECT_EQ(tokens.beginRenewal(&socketA, 61'002, limit), Renewal::OverBudget);
}

TEST(SocketTokens, ZeroPerWindowSetsNoLimitButStillOneAtATime) {
    boost::asio::io_context ctx;
    SocketTokens tokens(ctx);
    const RenewLimit unlimited{0, 60'000};
    for (int i = 0; i < 100; ++i) {
        ASSERT_EQ(tokens.beginRenewal(&socketA, 1000 + i, unlimited), Renewal::Started) << i;
        EXPECT_EQ(tokens.beginRenewal(&socketA, 1000 + i, unlimited), Renewal::Busy);
        tokens.endRenewal(&socketA);
    }
}

TEST(SocketTokens, ForgettingDropsTheBudgetAndTheRenewalInFlight) {
    boost::asio::io_context ctx;
    SocketTokens tokens(ctx);
    const RenewLimit limit{1, 60'000};
    EXPECT_EQ(tokens.beginRenewal(&socketA, 0, limit), Renewal::Started);
    tokens.forget(&socketA);
    tokens.endRenewal(&socketA); // a late end for a forgotten socket changes nothing
    EXPECT_EQ(tokens.size(), 0u);
    EXPECT_EQ(tokens.beginRenewal(&socketA, 1, limit), Renewal::Started);
}
