#include "chat/TypingSet.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using parley::chat::TypingSet;

namespace {

std::vector<std::string> expired(TypingSet& t, std::int64_t nowMs) {
    std::vector<std::string> out;
    t.expire(nowMs, [&](const std::string& chat) { out.push_back(chat); });
    return out;
}

} // namespace

TEST(TypingSet, TheFirstStartBeginsAnEpisodeAndARenewalOnlyMovesItsDeadline) {
    TypingSet t;
    EXPECT_TRUE(t.start("c1", 5000));
    EXPECT_EQ(t.nextDue(), 5000);
    EXPECT_FALSE(t.start("c1", 9000));
    EXPECT_EQ(t.size(), 1u);
    EXPECT_EQ(t.nextDue(), 9000);
    EXPECT_TRUE(expired(t, 8999).empty()) << "renewed: not due at the first deadline";
    EXPECT_EQ(expired(t, 9000), (std::vector<std::string>{"c1"}));
    EXPECT_TRUE(t.empty());
}

TEST(TypingSet, AStopEndsTheEpisodeOnceAndNothingIsLeftToExpire) {
    TypingSet t;
    t.start("c1", 5000);
    EXPECT_TRUE(t.stop("c1"));
    EXPECT_FALSE(t.stop("c1")) << "a second stop has nothing to end";
    EXPECT_TRUE(expired(t, 10'000).empty());
    EXPECT_FALSE(t.stop("never-started"));
}

TEST(TypingSet, ChatsAreIndependentAndOnlyTheDueOnesExpire) {
    TypingSet t;
    t.start("a", 3000);
    t.start("b", 1000);
    t.start("c", 2000);
    EXPECT_EQ(t.nextDue(), 1000);
    EXPECT_EQ(expired(t, 2000), (std::vector<std::string>{"b", "c"}));
    EXPECT_EQ(t.nextDue(), 3000);
    EXPECT_TRUE(t.stop("a"));
    EXPECT_EQ(t.nextDue(), TypingSet::kNever);
}

TEST(TypingSet, EpisodesWithoutATimeoutNeverExpireButClearEndsThemAll) {
    TypingSet t;
    t.start("a", TypingSet::kNever);
    t.start("b", TypingSet::kNever);
    EXPECT_EQ(t.nextDue(), TypingSet::kNever);
    EXPECT_TRUE(expired(t, 1'000'000'000'000).empty());
    std::vector<std::string> cleared;
    t.clear([&](const std::string& chat) { cleared.push_back(chat); });
    EXPECT_EQ(cleared, (std::vector<std::string>{"a", "b"}));
    EXPECT_TRUE(t.empty());
    EXPECT_TRUE(t.start("a", 10)) << "a start after the end is a new episode";
}
