#pragma once

#include "Options.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace parley::bench {

/// The result of one run: a JSON object (printed as the last line of stdout) and a human summary
/// (stderr). Correctness failures are recorded with fail(); the exit status follows them.
class Report {
public:
    explicit Report(const Options& options);

    boost::json::object& json() noexcept { return json_; }
    /// Adds one line to the human summary.
    void line(std::string text);
    /// Records a failed correctness check (also listed in the JSON under "failures").
    void fail(std::string why);
    bool passed() const noexcept { return failures_.empty(); }

    /// Writes the summary to stderr and the JSON to stdout.
    void print();

private:
    boost::json::object json_;
    std::vector<std::string> lines_;
    std::vector<std::string> failures_;
};

/// JSON text with doubles in plain notation, rounded to 3 decimals.
std::string toJsonLine(const boost::json::value& v);

/// {count, mean, p50, p90, p99, p999, max} of latencies in microseconds (sorted in place);
/// nulls when there are no samples. Nearest-rank percentiles.
boost::json::object latencyJson(std::vector<std::int64_t>& us);

/// "p50 a  p99 b  p99.9 c  max d (n samples)" in ms, for the summary.
std::string latencyLine(const boost::json::object& latency);

/// printf into a std::string.
std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

/// a / b, or null when b is 0 or a is unknown.
boost::json::value ratio(double a, double b, bool known = true);

} // namespace parley::bench
