#include "core/Time.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <random>
#include <string>

namespace parley::core {
namespace {

TEST(IsoTime, FormatsAsJavaScriptsToISOString) {
    EXPECT_EQ(isoTime(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(isoTime(1764107506123), "2025-11-25T21:51:46.123Z");
    EXPECT_EQ(isoTime(951782400000), "2000-02-29T00:00:00.000Z");    // a leap day of a century year
    EXPECT_EQ(isoTime(1709251199999), "2024-02-29T23:59:59.999Z");   // the last millisecond of a leap day
    EXPECT_EQ(isoTime(-1), "1969-12-31T23:59:59.999Z");              // before the epoch rounds down
    EXPECT_EQ(isoTime(253402300799999), "9999-12-31T23:59:59.999Z"); // the last four-digit year
}

TEST(IsoTime, AppendsAfterWhatIsThereAndOnlyThat) {
    std::string out = R"({"at":")";
    appendIsoTime(out, 1764107506123);
    out += '"';
    EXPECT_EQ(out, R"({"at":"2025-11-25T21:51:46.123Z")");
    std::string far = "x";
    appendIsoTime(far, 253402300800000); // year 10000: the slow path, appended too
    EXPECT_EQ(far, "x" + isoTime(253402300800000));
    EXPECT_EQ(far.substr(0, 6), "x10000");
}

TEST(IsoTime, AgreesWithGmtimeOverTenThousandInstants) {
    std::mt19937_64 random(42);
    std::uniform_int_distribution<std::int64_t> instants(-62'135'596'800'000, 253'402'300'799'999); // years 1-9999
    for (int i = 0; i < 10'000; ++i) {
        const std::int64_t ms = instants(random);
        std::int64_t seconds = ms / 1000;
        int millis = static_cast<int>(ms % 1000);
        if (millis < 0) {
            millis += 1000;
            --seconds;
        }
        const std::time_t t = static_cast<std::time_t>(seconds);
        std::tm tm{};
        gmtime_r(&t, &tm);
        char expected[64];
        std::snprintf(expected, sizeof expected, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
        ASSERT_EQ(isoTime(ms), expected) << ms;
    }
}

} // namespace
} // namespace parley::core
