#include "core/Metrics.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
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

TEST(MetricsRegistry, RendersACounterAndAGaugeWithTheirHelpTypeAndValue) {
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::int64_t> open{0};
    MetricsRegistry registry;
    registry.addCounter("x_requests_total", "Requests since start.", requests);
    registry.addGauge("x_open", "Open now.", open);
    requests.fetch_add(3, std::memory_order_relaxed);
    open.fetch_sub(2, std::memory_order_relaxed);
    EXPECT_EQ(registry.render(), "# HELP x_requests_total Requests since start.\n"
                                 "# TYPE x_requests_total counter\n"
                                 "x_requests_total 3\n"
                                 "# HELP x_open Open now.\n"
                                 "# TYPE x_open gauge\n"
                                 "x_open -2\n");
}

TEST(MetricsRegistry, ReadsEachFigureAtEveryRender) {
    std::atomic<std::uint64_t> count{0};
    DurationHistogram took;
    MetricsRegistry registry;
    registry.addCounter("x_total", "Things.", count);
    registry.addHistogram("x_seconds", "What x took.", took);
    EXPECT_EQ(lineValue(registry.render(), "x_total"), "0");
    EXPECT_EQ(lineValue(registry.render(), "x_seconds_count"), "0");
    count.fetch_add(1, std::memory_order_relaxed);
    took.observe(milliseconds(2));
    const std::string out = registry.render();
    EXPECT_EQ(lineValue(out, "x_total"), "1");
    EXPECT_NE(out.find("# TYPE x_seconds histogram\n"), std::string::npos) << out;
    EXPECT_EQ(lineValue(out, "x_seconds_bucket{le=\"0.002\"}"), "1");
    EXPECT_EQ(lineValue(out, "x_seconds_count"), "1");
}

TEST(MetricsRegistry, RendersALabelledFamilyUnderOneHelpAndTypeEachSeriesWithItsLabel) {
    DurationHistogram ok;
    DurationHistogram error;
    MetricsRegistry registry;
    registry.addHistogram("x_seconds", "What x took, by result.", "result", {{"ok", &ok}, {"error", &error}});
    ok.observe(microseconds(300)); // <= 0.5 ms
    ok.observe(milliseconds(40));  // <= 50 ms
    error.observe(seconds(6));     // +Inf
    const std::string out = registry.render();
    EXPECT_EQ(out.rfind("# HELP x_seconds What x took, by result.\n# TYPE x_seconds histogram\n", 0), 0u) << out;
    EXPECT_EQ(out.find("# TYPE", 1), out.rfind("# TYPE")) << "one TYPE line: " << out;
    EXPECT_EQ(lineValue(out, "x_seconds_bucket{result=\"ok\",le=\"0.0001\"}"), "0");
    EXPECT_EQ(lineValue(out, "x_seconds_bucket{result=\"ok\",le=\"0.0005\"}"), "1");
    EXPECT_EQ(lineValue(out, "x_seconds_bucket{result=\"ok\",le=\"0.05\"}"), "2");
    EXPECT_EQ(lineValue(out, "x_seconds_bucket{result=\"ok\",le=\"+Inf\"}"), "2");
    EXPECT_EQ(lineValue(out, "x_seconds_sum{result=\"ok\"}"), "0.040300000");
    EXPECT_EQ(lineValue(out, "x_seconds_count{result=\"ok\"}"), "2");
    EXPECT_EQ(lineValue(out, "x_seconds_bucket{result=\"error\",le=\"5\"}"), "0");
    EXPECT_EQ(lineValue(out, "x_seconds_bucket{result=\"error\",le=\"+Inf\"}"), "1");
    EXPECT_EQ(lineValue(out, "x_seconds_sum{result=\"error\"}"), "6.000000000");
    EXPECT_EQ(lineValue(out, "x_seconds_count{result=\"error\"}"), "1");
    EXPECT_EQ(lineValue(out, "x_seconds_count"), "") << "no unlabelled series: " << out;
    EXPECT_LT(out.find("result=\"ok\""), out.find("result=\"error\"")) << "in the order given: " << out;
}

TEST(MetricsRegistry, EscapesALabelValueAndRefusesALabelPrometheusCannotRead) {
    DurationHistogram a;
    DurationHistogram b;
    MetricsRegistry registry;
    registry.addHistogram("x_seconds", "Escaped.", "path", {{"a\"b\\c\nd", &a}});
    EXPECT_EQ(lineValue(registry.render(), "x_seconds_count{path=\"a\\\"b\\\\c\\nd\"}"), "0") << registry.render();
    EXPECT_THROW(registry.addHistogram("y_seconds", "A dash.", "re-sult", {{"ok", &a}}), std::invalid_argument);
    EXPECT_THROW(registry.addHistogram("y_seconds", "Prometheus' own.", "le", {{"ok", &a}}), std::invalid_argument);
    EXPECT_THROW(registry.addHistogram("y_seconds", "Reserved.", "__result", {{"ok", &a}}), std::invalid_argument);
    EXPECT_THROW(registry.addHistogram("y_seconds", "No series.", "result", {}), std::invalid_argument);
    EXPECT_THROW(registry.addHistogram("y_seconds", "Twice.", "result", {{"ok", &a}, {"ok", &b}}),
                 std::invalid_argument);
    EXPECT_THROW(registry.addHistogram("y_seconds", "Null.", "result", {{"ok", nullptr}}), std::invalid_argument);
    EXPECT_THROW(registry.addHistogram("x_seconds", "Name taken.", "result", {{"ok", &b}}), std::invalid_argument);
    const std::string out = registry.render();
    EXPECT_EQ(out.find("y_seconds"), std::string::npos) << out;
    EXPECT_EQ(out.find("Name taken"), std::string::npos) << out;
}

TEST(MetricsRegistry, RendersInTheOrderOfRegistration) {
    std::atomic<std::uint64_t> a{0};
    std::atomic<std::uint64_t> b{0};
    MetricsRegistry registry;
    registry.addCounter("z_total", "Registered first.", a);
    registry.addCounter("a_total", "Registered second.", b);
    const std::string out = registry.render();
    EXPECT_LT(out.find("# HELP z_total"), out.find("# HELP a_total")) << out;
}

TEST(MetricsRegistry, RefusesANameTwiceAndNamesPrometheusCannotRead) {
    std::atomic<std::uint64_t> a{0};
    std::atomic<std::int64_t> b{0};
    DurationHistogram h;
    MetricsRegistry registry;
    registry.addCounter("x_total", "Once.", a);
    EXPECT_THROW(registry.addGauge("x_total", "Twice, as another type.", b), std::invalid_argument);
    EXPECT_THROW(registry.addHistogram("x_total", "Twice.", h), std::invalid_argument);
    EXPECT_THROW(registry.addCounter("", "Empty.", a), std::invalid_argument);
    EXPECT_THROW(registry.addCounter("9_total", "Starts with a digit.", a), std::invalid_argument);
    EXPECT_THROW(registry.addCounter("x-total", "A dash.", a), std::invalid_argument);
    EXPECT_THROW(registry.addCounter("x total", "A space.", a), std::invalid_argument);
    registry.addCounter("ns:x_total", "Colons are allowed.", a);
    const std::string out = registry.render();
    EXPECT_EQ(out.find("Twice"), std::string::npos) << out;
    EXPECT_NE(out.find("# TYPE ns:x_total counter\n"), std::string::npos) << out;
}

TEST(MetricsRegistry, EscapesBackslashesAndLineBreaksInHelp) {
    std::atomic<std::uint64_t> a{0};
    MetricsRegistry registry;
    registry.addCounter("x_total", "One\\two\nthree.", a);
    EXPECT_EQ(registry.render().rfind("# HELP x_total One\\\\two\\nthree.\n# TYPE x_total counter\n", 0), 0u)
        << registry.render();
}

} // namespace
} // namespace parley::core
