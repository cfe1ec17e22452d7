#include "store/CommitPacer.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace parley::store {
namespace {

using namespace std::chrono_literals;
using Clock = CommitPacer::Clock;

constexpr auto kDelay = 1000us;

CommitPacer pacer(std::chrono::microseconds delay = kDelay) {
    return CommitPacer(CommitPacer::Options{delay, 0.5, 2.5});
}

// `count` writes, `gap` apart, the last one at the returned time.
Clock::time_point arrive(CommitPacer& p, Clock::time_point start, std::size_t count, Clock::duration gap) {
    auto t = start;
    for (std::size_t i = 0; i < count; ++i) {
        if (i) t += gap;
        p.arrived(t);
    }
    return t;
}

const Clock::time_point t0 = Clock::time_point{} + 100s;

TEST(CommitPacerTest, AtAThousandWritesASecondABatchWaitsTheFullDelay) {
    auto p = pacer();
    const auto last = arrive(p, t0, CommitPacer::kWindow, 1ms);
    EXPECT_NEAR(p.rate(), 1000, 1);
    EXPECT_EQ(p.commitAt(last), last + kDelay);
}

TEST(CommitPacerTest, WritesTooSparseToMeetAnotherWithinTheDelayCommitAtOnce) {
    auto p = pacer();
    // One write every 3 ms: 0.33 expected during a 1 ms wait.
    const auto last = arrive(p, t0, CommitPacer::kWindow, 3ms);
    EXPECT_EQ(p.commitAt(last), last);
}

TEST(CommitPacerTest, WritesSoFastThatCommitsFillByThemselvesCommitAtOnce) {
    auto p = pacer();
    // One write every 200 us: 5 expected during the wait, more than maxGain.
    const auto last = arrive(p, t0, CommitPacer::kWindow, 200us);
    EXPECT_EQ(p.commitAt(last), last);
}

TEST(CommitPacerTest, TheEdgesOfTheBandWait) {
    auto atHalf = pacer();
    const auto a = arrive(atHalf, t0, CommitPacer::kWindow, 2ms); // gain 0.5
    EXPECT_EQ(atHalf.commitAt(a), a + kDelay);
    auto atTwoAndAHalf = pacer();
    const auto b = arrive(atTwoAndAHalf, t0, CommitPacer::kWindow, 400us); // gain 2.5
    EXPECT_EQ(atTwoAndAHalf.commitAt(b), b + kDelay);
}

TEST(CommitPacerTest, TheDefaultBandWaitsFromFiveHundredToThreeAndAHalfThousandWritesASecond) {
    CommitPacer::Options options;
    options.maxDelay = kDelay;
    auto slow = CommitPacer(options);
    const auto a = arrive(slow, t0, CommitPacer::kWindow, 2100us); // gain 0.48
    EXPECT_EQ(slow.commitAt(a), a);
    auto fanout3000 = CommitPacer(options);
    const auto b = arrive(fanout3000, t0, CommitPacer::kWindow, 351us); // 2,850 a second: gain 2.85
    EXPECT_EQ(fanout3000.commitAt(b), b + kDelay);
    auto fast = CommitPacer(options);
    const auto c = arrive(fast, t0, CommitPacer::kWindow, 280us); // gain 3.57
    EXPECT_EQ(fast.commitAt(c), c);
}

TEST(CommitPacerTest, NoWaitUntilAWholeWindowOfWritesWasSeen) {
    auto p = pacer();
    const auto last = arrive(p, t0, CommitPacer::kWindow - 1, 1ms);
    EXPECT_EQ(p.rate(), 0);
    EXPECT_EQ(p.commitAt(last), last);
    p.arrived(last + 1ms);
    EXPECT_EQ(p.commitAt(last + 1ms), last + 1ms + kDelay);
}

TEST(CommitPacerTest, OnlyTheLastWindowOfWritesCounts) {
    auto p = pacer();
    // A burst far too fast to wait for, then a steady thousand a second: the burst is forgotten
    // once a whole window of the steady writes has arrived.
    auto last = arrive(p, t0, CommitPacer::kWindow, 10us);
    EXPECT_EQ(p.commitAt(last), last);
    last = arrive(p, last + 1ms, CommitPacer::kWindow, 1ms);
    EXPECT_EQ(p.commitAt(last), last + kDelay);
    // A pause longer than the whole window at that rate: the rate falls and waiting stops.
    p.arrived(last + 1s);
    EXPECT_LT(p.rate(), 100);
    EXPECT_EQ(p.commitAt(last + 1s), last + 1s);
}

TEST(CommitPacerTest, AZeroDelayNeverWaits) {
    auto p = pacer(0us);
    const auto last = arrive(p, t0, CommitPacer::kWindow, 1ms);
    EXPECT_EQ(p.commitAt(last), last);
}

TEST(CommitPacerTest, TheDeadlineCountsFromTheOldestWriteOfTheBatch) {
    auto p = pacer();
    const auto last = arrive(p, t0, CommitPacer::kWindow, 1ms);
    const auto oldest = last - 300us;
    EXPECT_EQ(p.commitAt(oldest), oldest + kDelay);
}

TEST(CommitPacerTest, SimultaneousWritesCountAsTooFastToWaitFor) {
    auto p = pacer();
    const auto last = arrive(p, t0, CommitPacer::kWindow, 0us);
    EXPECT_GT(p.rate(), 1e9);
    EXPECT_EQ(p.commitAt(last), last);
}

} // namespace
} // namespace parley::store
