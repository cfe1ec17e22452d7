#include "chat/SharedState.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace parley::chat;

TEST(LocalSendLimit, DecidesAtOnceAndRefunds) {
    LocalSendLimit limit(2, 10'000);
    auto a = limit.tryAcquire("u", 0);
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->admitted);
    EXPECT_EQ(a->ticket, 0u);
    EXPECT_TRUE(limit.tryAcquire("u", 1)->admitted);
    auto refused = limit.tryAcquire("u", 2);
    ASSERT_TRUE(refused);
    EXPECT_FALSE(refused->admitted);
    EXPECT_EQ(refused->retryAfterMs, 9'998);
    limit.refund("u", *a);
    EXPECT_TRUE(limit.tryAcquire("u", 3)->admitted);
}

TEST(LocalSendLimit, AcquireAnswersOnTheGivenContext) {
    LocalSendLimit limit(1, 10'000);
    boost::asio::io_context ctx;
    std::vector<bool> answers;
    limit.acquire(ctx, "u", 0, [&](Admission a) { answers.push_back(a.admitted); });
    limit.acquire(ctx, "u", 0, [&](Admission a) { answers.push_back(a.admitted); });
    EXPECT_TRUE(answers.empty()) << "never inside the call";
    ctx.run();
    EXPECT_EQ(answers, (std::vector<bool>{true, false}));
}

TEST(LocalPresence, HandsEveryDecisionInsideTheCall) {
    LocalPresence presence(2000);
    std::vector<std::string> told;
    presence.onDecision([&](const std::string& user, const PresenceState::Decision& d) {
        if (d.broadcastNow) told.push_back(user + (*d.broadcastNow == Presence::Online ? ":online" : ":offline"));
        if (d.checkAtMs) told.push_back(user + ":check@" + std::to_string(*d.checkAtMs));
    });
    presence.connect("u", 1000);
    presence.connect("u", 1100); // a second device: nothing
    presence.disconnect("u", 1200);
    presence.disconnect("u", 1300); // offline inside the window: a check at its end
    presence.onTimer("u", 3000);
    EXPECT_EQ(told, (std::vector<std::string>{"u:online", "u:check@3000", "u:offline"}));
}

TEST(PresenceTracker, AssumeToldTakesTheCurrentStateAsToldAndEndsTheWindow) {
    PresenceTracker t(2000);
    t.connect("u", 0);
    t.disconnect("u", 100); // a check pending
    t.assumeTold(200);      // "offline" taken as told, no check due
    auto d = t.connect("u", 300);
    ASSERT_TRUE(d.broadcastNow) << "the next change is told at once";
    EXPECT_EQ(*d.broadcastNow, Presence::Online);
    EXPECT_EQ(t.prune(5000), 0u);
}
