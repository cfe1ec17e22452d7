#include "cluster/ChainOrder.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace parley::cluster {
namespace {

using namespace std::chrono_literals;
using Clock = ChainOrder::Clock;

/// A ChainOrder whose sink records "<chain>:<seq>" (or "-" for a broadcast without an order),
/// and a clock the test moves.
struct Fixture {
    std::vector<std::string> delivered;
    Clock::time_point now = Clock::time_point{} + 1h;
    ChainOrder order{ChainOrder::Options{1000ms, 60000ms},
                     [this](const socketio::EncodedPacket&, const socketio::BroadcastOptions& opts) {
                         delivered.push_back(opts.order ? opts.order->chain + ":" + std::to_string(opts.order->seq)
                                                        : std::string("-"));
                     }};

    void submit(const std::string& chain, std::int64_t seq) {
        socketio::BroadcastOptions opts;
        opts.order = socketio::BroadcastOrder{chain, seq};
        order.submit({}, std::move(opts), now);
    }
    void submitUnordered() { order.submit({}, {}, now); }
};

using Seq = std::vector<std::string>;

TEST(ChainOrderTest, InOrderBroadcastsGoOutAtOnce) {
    Fixture f;
    f.submit("a", 7); // a chain starts where it is first seen
    f.submit("a", 8);
    f.submit("b", 1);
    f.submit("a", 9);
    EXPECT_EQ(f.delivered, (Seq{"a:7", "a:8", "b:1", "a:9"}));
    EXPECT_EQ(f.order.holding(), 0U);
    EXPECT_FALSE(f.order.nextDeadline().has_value());
}

TEST(ChainOrderTest, OneAheadOfItsPredecessorWaitsForIt) {
    Fixture f;
    f.submit("a", 1);
    f.submit("a", 3);
    f.submit("a", 4);
    f.submit("b", 1); // another chain is not held back
    EXPECT_EQ(f.delivered, (Seq{"a:1", "b:1"}));
    EXPECT_EQ(f.order.holding(), 2U);
    f.submit("a", 2);
    EXPECT_EQ(f.delivered, (Seq{"a:1", "b:1", "a:2", "a:3", "a:4"}));
    EXPECT_EQ(f.order.holding(), 0U);
    EXPECT_EQ(f.order.stats().held, 2U);
    EXPECT_EQ(f.order.stats().skipped, 0U);
}

TEST(ChainOrderTest, BroadcastsWithoutAnOrderAreNeverHeld) {
    Fixture f;
    f.submit("a", 1);
    f.submit("a", 3);
    f.submitUnordered();
    EXPECT_EQ(f.delivered, (Seq{"a:1", "-"}));
}

TEST(ChainOrderTest, APredecessorThatNeverComesHoldsTheChainForTheGapTimeoutOnly) {
    Fixture f;
    f.submit("a", 1);
    f.submit("a", 3);
    f.now += 400ms;
    f.submit("a", 5);
    ASSERT_TRUE(f.order.nextDeadline().has_value());
    EXPECT_EQ(*f.order.nextDeadline(), f.now - 400ms + 1000ms); // from when the gap was first seen
    f.now += 599ms;
    f.order.expire(f.now);
    EXPECT_EQ(f.delivered, (Seq{"a:1"}));
    f.now += 1ms;
    f.order.expire(f.now);
    // Everything held goes out in order, past both gaps.
    EXPECT_EQ(f.delivered, (Seq{"a:1", "a:3", "a:5"}));
    EXPECT_EQ(f.order.stats().skipped, 2U);
    EXPECT_FALSE(f.order.nextDeadline().has_value());
    // What follows the last delivered goes out at once; the lost one, if it ever comes, is late.
    f.submit("a", 6);
    f.submit("a", 2);
    EXPECT_EQ(f.delivered, (Seq{"a:1", "a:3", "a:5", "a:6", "a:2"}));
    EXPECT_EQ(f.order.stats().late, 1U);
}

TEST(ChainOrderTest, AGapLeftAfterAPartialDrainWaitsFromWhenItWasFound) {
    Fixture f;
    f.submit("a", 1);
    f.submit("a", 3);
    f.submit("a", 5);
    f.now += 900ms;
    f.submit("a", 2); // 2 and 3 go out; 5 now waits for 4, from now
    EXPECT_EQ(f.delivered, (Seq{"a:1", "a:2", "a:3"}));
    f.now += 500ms;
    f.order.expire(f.now);
    EXPECT_EQ(f.delivered, (Seq{"a:1", "a:2", "a:3"}));
    f.submit("a", 4);
    EXPECT_EQ(f.delivered, (Seq{"a:1", "a:2", "a:3", "a:4", "a:5"}));
}

TEST(ChainOrderTest, ARepeatedSeqIsHeldOnceAndAnIdleChainIsForgotten) {
    Fixture f;
    f.submit("a", 1);
    f.submit("a", 3);
    f.submit("a", 3);
    EXPECT_EQ(f.order.holding(), 1U);
    f.submit("a", 2);
    EXPECT_EQ(f.delivered, (Seq{"a:1", "a:2", "a:3"}));
    EXPECT_EQ(f.order.chains(), 1U);
    f.now += 61s;
    f.submit("b", 1); // a broadcast after a minute sweeps the idle chains
    EXPECT_EQ(f.order.chains(), 1U);
    f.submit("a", 10); // forgotten: starts again where it is seen
    EXPECT_EQ(f.delivered.back(), "a:10");
}

} // namespace
} // namespace parley::cluster
