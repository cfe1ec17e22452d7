#include "chat/PresenceTracker.hpp"

#include <gtest/gtest.h>

using parley::chat::Presence;
using parley::chat::PresenceTracker;

TEST(PresenceTracker, FirstConnectBroadcastsOnlineAtOnce) {
    PresenceTracker t(2000);
    auto d = t.connect("u", 1000);
    ASSERT_TRUE(d.broadcastNow);
    EXPECT_EQ(*d.broadcastNow, Presence::Online);
    EXPECT_FALSE(d.checkAtMs);
    EXPECT_TRUE(t.isOnline("u"));
}

TEST(PresenceTracker, SecondDeviceChangesNothing) {
    PresenceTracker t(2000);
    t.connect("u", 0);
    auto d = t.connect("u", 5000);
    EXPECT_FALSE(d.broadcastNow);
    EXPECT_FALSE(d.checkAtMs);
}

TEST(PresenceTracker, OfflineOnlyWhenAllDevicesLeave) {
    PresenceTracker t(2000);
    t.connect("u", 0);
    t.connect("u", 0);
    auto d1 = t.disconnect("u", 5000);
    EXPECT_FALSE(d1.broadcastNow);
    EXPECT_TRUE(t.isOnline("u"));
    auto d2 = t.disconnect("u", 6000);
    ASSERT_TRUE(d2.broadcastNow);
    EXPECT_EQ(*d2.broadcastNow, Presence::Offline);
}

TEST(PresenceTracker, ChangeInsideWindowIsTrailing) {
    PresenceTracker t(2000);
    t.connect("u", 1000);
    auto d = t.disconnect("u", 1500);
    EXPECT_FALSE(d.broadcastNow);
    ASSERT_TRUE(d.checkAtMs);
    EXPECT_EQ(*d.checkAtMs, 3000);
    auto timer = t.onTimer("u", 3000);
    ASSERT_TRUE(timer.broadcastNow);
    EXPECT_EQ(*timer.broadcastNow, Presence::Offline);
}

TEST(PresenceTracker, FlappingInsideWindowEndingInSentStateSendsNothing) {
    PresenceTracker t(2000);
    t.connect("u", 0);      // online sent
    t.disconnect("u", 100); // trailing check scheduled
    t.connect("u", 200);
    t.disconnect("u", 300);
    t.connect("u", 400); // back online: the state last sent
    auto timer = t.onTimer("u", 2000);
    EXPECT_FALSE(timer.broadcastNow);
}

TEST(PresenceTracker, RapidCyclesGiveOneTrailingBroadcastWithFinalState) {
    PresenceTracker t(2000);
    int broadcasts = 0;
    int checks = 0;
    auto count = [&](const PresenceTracker::Decision& d) {
        broadcasts += d.broadcastNow ? 1 : 0;
        checks += d.checkAtMs ? 1 : 0;
    };
    count(t.connect("u", 0));
    for (int i = 1; i <= 10; ++i) {
        count(t.disconnect("u", i * 10));
        count(t.connect("u", i * 10 + 5));
    }
    count(t.disconnect("u", 500));
    EXPECT_EQ(broadcasts, 1); // the leading online
    EXPECT_EQ(checks, 1);     // exactly one trailing check scheduled
    auto timer = t.onTimer("u", 2000);
    ASSERT_TRUE(timer.broadcastNow);
    EXPECT_EQ(*timer.broadcastNow, Presence::Offline); // the final state
}

TEST(PresenceTracker, AfterTheWindowAChangeIsLeadingAgain) {
    PresenceTracker t(2000);
    t.connect("u", 0);
    auto d = t.disconnect("u", 2000);
    ASSERT_TRUE(d.broadcastNow);
    EXPECT_EQ(*d.broadcastNow, Presence::Offline);
}

TEST(PresenceTracker, ReconnectRightAfterOfflineWaitsForTheWindow) {
    PresenceTracker t(2000);
    t.connect("u", 0);
    t.disconnect("u", 5000);      // offline sent at 5000
    EXPECT_EQ(t.prune(5100), 0u); // still inside the window: remembered
    auto d = t.connect("u", 5100);
    EXPECT_FALSE(d.broadcastNow);
    ASSERT_TRUE(d.checkAtMs);
    EXPECT_EQ(*d.checkAtMs, 7000);
}

TEST(PresenceTracker, PruneForgetsQuietOfflineUsers) {
    PresenceTracker t(2000);
    t.connect("u", 0);
    t.disconnect("u", 3000);
    t.connect("v", 0);
    EXPECT_EQ(t.prune(6000), 1u);
    EXPECT_EQ(t.trackedUsers(), 1u);
}

TEST(PresenceTracker, DisconnectOfUnknownUserIsIgnored) {
    PresenceTracker t(2000);
    auto d = t.disconnect("nobody", 0);
    EXPECT_FALSE(d.broadcastNow);
    EXPECT_FALSE(d.checkAtMs);
}

// What a snapshot shows is what contacts were told: a change inside the window shows only once
// its trailing update has been decided, so a snapshot never contradicts the updates after it.
TEST(PresenceTracker, ToldIsTheStateLastBroadcastAndWhen) {
    PresenceTracker t(2000);
    EXPECT_FALSE(t.told("u").online);
    EXPECT_EQ(t.told("u").atMs, 0) << "never told";
    t.connect("u", 1000);
    EXPECT_TRUE(t.told("u").online);
    EXPECT_EQ(t.told("u").atMs, 1000);
    t.disconnect("u", 1500); // inside the window: a trailing check at 3000
    EXPECT_FALSE(t.isOnline("u"));
    EXPECT_TRUE(t.told("u").online) << "not told yet";
    t.connect("u", 1800); // back before the check: nothing will be told
    auto d = t.onTimer("u", 3000);
    EXPECT_FALSE(d.broadcastNow);
    EXPECT_TRUE(t.told("u").online);
    EXPECT_EQ(t.told("u").atMs, 1000);
    t.disconnect("u", 3500); // the window is over: told at once
    EXPECT_FALSE(t.told("u").online);
    EXPECT_EQ(t.told("u").atMs, 3500);
}
