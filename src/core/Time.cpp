#include "core/Time.hpp"

#include <chrono>
#include <cstdio>

namespace parley::core {

namespace {
// Writes `value` as exactly `width` decimal digits ending just before `end`.
void digits(char* end, unsigned value, int width) {
    for (int i = 0; i < width; ++i) {
        *--end = static_cast<char>('0' + value % 10);
        value /= 10;
    }
}
} // namespace

std::int64_t nowMs() noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string isoTime(std::int64_t epochMs) {
    std::string out;
    appendIsoTime(out, epochMs);
    return out;
}

void appendIsoTime(std::string& out, std::int64_t epochMs) {
    // Calendar arithmetic of <chrono>: no gmtime_r (which takes glibc's time-zone lock) and no
    // printf, since every message and receipt carries one of these.
    using namespace std::chrono;
    const sys_time<milliseconds> at{milliseconds{epochMs}};
    const auto day = floor<days>(at);
    const year_month_day date{day};
    const hh_mm_ss<milliseconds> time{at - day};
    const int year = static_cast<int>(date.year());
    if (year < 0 || year > 9999) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", year, static_cast<unsigned>(date.month()),
                      static_cast<unsigned>(date.day()), static_cast<int>(time.hours().count()),
                      static_cast<int>(time.minutes().count()), static_cast<int>(time.seconds().count()),
                      static_cast<int>(time.subseconds().count()));
        out += buf;
        return;
    }
    const std::size_t start = out.size();
    out += "0000-00-00T00:00:00.000Z";
    char* p = out.data() + start;
    digits(p + 4, static_cast<unsigned>(year), 4);
    digits(p + 7, static_cast<unsigned>(date.month()), 2);
    digits(p + 10, static_cast<unsigned>(date.day()), 2);
    digits(p + 13, static_cast<unsigned>(time.hours().count()), 2);
    digits(p + 16, static_cast<unsigned>(time.minutes().count()), 2);
    digits(p + 19, static_cast<unsigned>(time.seconds().count()), 2);
    digits(p + 23, static_cast<unsigned>(time.subseconds().count()), 3);
}

} // namespace parley::core
