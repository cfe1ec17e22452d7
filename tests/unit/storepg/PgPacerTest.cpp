// PgPacer: when the appends queued for PostgreSQL wait for company, and for how long. Times are
// passed in: no clock, no database.

#include "store/postgres/PgPacer.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace parley::store {
namespace {

using namespace std::chrono_literals;
using Clock = PgPacer::Clock;

constexpr auto kDelay = 1000us;
const Clock::time_point t0 = Clock::time_point{} + 100s;

PgPacer pacer(std::chrono::microseconds delay = kDelay) { return PgPacer(PgPacer::Options{delay, 0.5, 2}); }

// `count` appends, `gap` apart, the last one at the returned time.
Clock::time_point arrive(PgPacer& p, Clock::time_point start, std::size_t count, Clock::duration gap) {
    auto t = start;
    for (std::size_t i = 0; i < count; ++i) {
        if (i) t += gap;
        p.arrived(t);
    }
    return t;
}

TEST(PgPacerTest, AtAThousandAppendsASecondTheOldestWaitsTheFullDelay) {
    auto p = pacer();
    const auto last = arrive(p, t0, CommitPacer::kWindow, 1ms);
    EXPECT_NEAR(p.rate(), 1000, 1);
    // Two more take 2 ms to come: the wait stops at the bound.
    EXPECT_EQ(p.commitAt(last, 1), last + kDelay);
    EXPECT_EQ(p.commitAt(last, 2), last + kDelay);
}

TEST(PgPacerTest, FasterAppendsWaitOnlyAsLongAsTheCompanyTakesToArrive) {
    auto p = pacer();
    const auto last = arrive(p, t0, CommitPacer::kWindow, 250us); // 4,000 a second
    EXPECT_NEAR(p.rate(), 4000, 1);
    const auto at = p.commitAt(last, 1);
    EXPECT_GT(at, last + 499us);
    EXPECT_LT(at, last + 501us);
}

TEST(PgPacerTest, EnoughCompanyAlreadyQueuedGoesAtOnce) {
    auto p = pacer();
    const auto last = arrive(p, t0, CommitPacer::kWindow, 1ms);
    EXPECT_EQ(p.commitAt(last, 3), last);
    EXPECT_EQ(p.commitAt(last, 64), last);
}

TEST(PgPacerTest, AppendsTooSparseToMeetAnotherWithinTheDelayGoAtOnce) {
    auto p = pacer();
    // One every 3 ms: 0.33 expected during a 1 ms wait.
    const auto last = arrive(p, t0, CommitPacer::kWindow, 3ms);
    EXPECT_EQ(p.commitAt(last, 1), last);
    // The same rate is worth a 2 ms wait (0.67 expected).
    auto longer = pacer(2000us);
    const auto end = arrive(longer, t0, CommitPacer::kWindow, 3ms);
    EXPECT_EQ(longer.commitAt(end, 1), end + 2000us);
}

TEST(PgPacerTest, AQuietStoreNeverWaits) {
    auto p = pacer();
    // Fewer arrivals than the window: no rate yet, however close together.
    const auto last = arrive(p, t0, CommitPacer::kWindow - 1, 10us);
    EXPECT_EQ(p.rate(), 0);
    EXPECT_EQ(p.commitAt(last, 1), last);
    // A burst after an hour of silence: the window still spans the hour.
    auto q = pacer();
    arrive(q, t0, CommitPacer::kWindow / 2, 1ms);
    const auto late = arrive(q, t0 + 1h, CommitPacer::kWindow / 2, 10us);
    EXPECT_EQ(q.commitAt(late, 1), late);
}

TEST(PgPacerTest, AZeroDelayNeverWaits) {
    auto p = pacer(0us);
    const auto last = arrive(p, t0, CommitPacer::kWindow, 100us);
    EXPECT_EQ(p.commitAt(last, 1), last);
}

TEST(PgPacerTest, TheWaitCountsFromTheOldestAppend) {
    auto p = pacer();
    const auto last = arrive(p, t0, CommitPacer::kWindow, 1ms);
    const auto oldest = last - 600us;
    EXPECT_EQ(p.commitAt(oldest, 1), oldest + kDelay);
}

} // namespace
} // namespace parley::store
