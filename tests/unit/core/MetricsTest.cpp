#include "core/Metrics.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace parley::core {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

// The value of the one line of `text` that starts with `prefix` and a space; "" when none does.
std::string lineValue(const std::string& text, const std::string& prefix) {
    const std::string key = "\n" + prefix + " ";
    const auto at = ("\n" + text).find(key);
    if (at == std::string::npos) return "";
    const auto start = at + key.size() - 1; // in `text`, which lacks the leading newline
    return text.substr(start, text.find('\n', start) - start);
}

TEST(DurationHistogram, EachDurationLandsInTheFirstBucketWhoseBoundHoldsIt) {
    DurationHistogram h;
    h.observe(microseconds(50));  // <= 0.1 ms
    h.observe(microseconds(100)); // a bound belongs to its own bucket (Prometheus' le)
    h.observe(microseconds(101)); // <= 0.2 ms
    h.observe(milliseconds(70));  // <= 100 ms
    h.observe(seconds(7));        // past the last bound: +Inf
    const auto s = h.snapshot();
    EXPECT_EQ(s.count, 5u);
    EXPECT_EQ(s.buckets[0], 2u);
    EXPECT_EQ(s.buckets[1], 1u);
    EXPECT_EQ(s.buckets[9], 1u);
    EXPECT_EQ(DurationHistogram::bound(9), milliseconds(100));
    EXPECT_EQ(s.buckets[DurationHistogram::kBounds], 1u);
    EXPECT_EQ(s.sumNanoseconds, 50'000u + 100'000u + 101'000u + 70'000'000u + 7'000'000'000u);
}

TEST(DurationHistogram, BoundsRiseFromATenthOfAMillisecondToFiveSeconds) {
    EXPECT_EQ(DurationHistogram::bound(0), microseconds(100));
    EXPECT_EQ(DurationHistogram::bound(DurationHistogram::kBounds - 1), seconds(5));
    for (std::size_t i = 1; i < DurationHistogram::kBounds; ++i)
        EXPECT_LT(DurationHistogram::bound(i - 1), DurationHistogram::bound(i)) << i;
}

TEST(DurationHistogram, RendersCumulativeBucketsASumInSecondsAndACount) {
    DurationHistogram h;
    h.observe(microseconds(300)); // <= 0.5 ms
    h.observe(milliseconds(3));   // <= 5 ms
    h.observe(seconds(9));        // +Inf
    std::string out;
    h.render(out, "x_seconds", "What x took.");
    EXPECT_EQ(out.rfind("# HELP x_seconds What x took.\n# TYPE x_seconds histogram\n", 0), 0u) << out;
    EXPECT_EQ(lineValue(out, "x_seconds_bucket{le=\"0.0001\"}"), "0");
    EXPECT_EQ(lineValue(out, "x_seconds_bucket{le=\"0.0005\"}"), "1");
    EXPECT_EQ(lineValue(out, "x_seconds_bucket{le=\"0.002\"}"), "1");
    EXPECT_EQ(lineValue(out, "x_seconds_bucket{le=\"0.005\"}"), "2");
    EXPECT_EQ(lineValue(out, "x_seconds_bucket{le=\"5\"}"), "2");
    EXPECT_EQ(lineValue(out, "x_seconds_bucket{le=\"+Inf\"}"), "3");
    EXPECT_EQ(lineValue(out, "x_seconds_sum"), "9.003300000");
    EXPECT_EQ(lineValue(out, "x_seconds_count"), "3");
}

TEST(Metrics, RenderIncludesTheStoresTwoHistograms) {
    Metrics m;
    m.storeCommitSeconds.observe(microseconds(400));
    m.storeWriteSeconds.observe(milliseconds(2));
    m.storeWriteSeconds.observe(milliseconds(4));
    const std::string out = m.render();
    EXPECT_NE(out.find("# TYPE parley_store_commit_seconds histogram\n"), std::string::npos);
    EXPECT_NE(out.find("# TYPE parley_store_write_seconds histogram\n"), std::string::npos);
    EXPECT_EQ(lineValue(out, "parley_store_commit_seconds_count"), "1");
    EXPECT_EQ(lineValue(out, "parley_store_write_seconds_count"), "2");
    EXPECT_EQ(lineValue(out, "parley_store_write_seconds_bucket{le=\"0.002\"}"), "1");
}

} // namespace
} // namespace parley::core
