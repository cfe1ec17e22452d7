#include "Report.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <iostream>

#include <unistd.h>

namespace parley::bench {

namespace {

// Boost.JSON 1.81 writes every double in exponent form (10 s becomes 1E1); this writes the
// shortest plain form instead (std::to_chars), rounded to 3 decimals, so the line is readable.
void write(std::string& out, const boost::json::value& v) {
    switch (v.kind()) {
    case boost::json::kind::object: {
        out += '{';
        bool first = true;
        for (const auto& kv : v.get_object()) {
            if (!first) out += ',';
            first = false;
            out += boost::json::serialize(boost::json::string(kv.key()));
            out += ':';
            write(out, kv.value());
        }
        out += '}';
        return;
    }
    case boost::json::kind::array: {
        out += '[';
        bool first = true;
        for (const auto& e : v.get_array()) {
            if (!first) out += ',';
            first = false;
            write(out, e);
        }
        out += ']';
        return;
    }
    case boost::json::kind::double_: {
        const double d = v.get_double();
        if (!std::isfinite(d)) {
            out += "null";
            return;
        }
        char buf[64];
        const double rounded = std::abs(d) < 1e12 ? std::round(d * 1000.0) / 1000.0 : d;
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, rounded);
        out.append(buf, ec == std::errc{} ? end : buf);
        return;
    }
    default: out += boost::json::serialize(v); return;
    }
}

} // namespace

std::string toJsonLine(const boost::json::value& v) {
    std::string out;
    write(out, v);
    return out;
}

Report::Report(const Options& o) {
    json_["scenario"] = o.scenarioName;
    boost::json::object params{
        {"url", o.url},
        {"clients", o.clients},
        {"threads", o.threads},
        {"durationSec", o.durationSec},
        {"serverPids", boost::json::value_from(o.serverPids)},
        {"storePids", boost::json::value_from(o.storePids)},
        {"connectConcurrency", o.connectConcurrency},
    };
    const long ticks = sysconf(_SC_CLK_TCK);
    json_["serverCpuResolutionUs"] = ticks > 0 ? 1000000 / ticks : 10000;
    switch (o.scenario) {
    case Scenario::Fanout:
    case Scenario::Polling:
        params["chats"] = o.scenario == Scenario::Fanout ? o.chats : (o.clients + o.members - 1) / o.members;
        params["members"] = o.members;
        params["rate"] = o.rate;
        params["chatRate"] = o.chatRate > 0 ? boost::json::value(o.chatRate) : nullptr;
        params["bodyBytes"] = o.bodyBytes;
        params["transport"] = o.scenario == Scenario::Polling ? "polling" : "websocket";
        break;
    case Scenario::Churn:
        params["cycles"] = o.cycles;
        params["members"] = o.members;
        break;
    case Scenario::ReconnectStorm:
        params["members"] = o.members;
        params["stormConcurrency"] = o.stormConcurrency;
        break;
    case Scenario::BigRoom:
        params["members"] = o.members;
        params["stormSeconds"] = o.stormSec;
        params["presenceBatch"] = o.presenceBatch;
        break;
    case Scenario::Hold: break;
    }
    json_["params"] = std::move(params);
}

void Report::line(std::string text) { lines_.push_back(std::move(text)); }

void Report::fail(std::string why) { failures_.push_back(std::move(why)); }

void Report::print() {
    boost::json::array failures;
    for (const auto& f : failures_) failures.emplace_back(f);
    json_["ok"] = failures_.empty();
    json_["failures"] = std::move(failures);
    std::cerr << "== parley-bench " << json_["scenario"].as_string().c_str() << " ==\n";
    for (const auto& l : lines_) std::cerr << "  " << l << '\n';
    if (failures_.empty()) {
        std::cerr << "  checks: all passed\n";
    } else {
        for (const auto& f : failures_) std::cerr << "  CHECK FAILED: " << f << '\n';
    }
    std::cerr.flush();
    std::cout << toJsonLine(json_) << std::endl;
}

boost::json::object latencyJson(std::vector<std::int64_t>& us) {
    boost::json::object o;
    o["count"] = us.size();
    if (us.empty()) {
        for (const char* k : {"mean", "p50", "p90", "p99", "p999", "max"}) o[k] = nullptr;
        return o;
    }
    std::sort(us.begin(), us.end());
    double sum = 0;
    for (auto v : us) sum += static_cast<double>(v);
    // Nearest rank: the smallest sample with at least q of all samples at or below it.
    auto at = [&](double q) {
        const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(us.size())));
        return us[std::clamp<std::size_t>(rank, 1, us.size()) - 1];
    };
    o["mean"] = std::round(sum / static_cast<double>(us.size()));
    o["p50"] = at(0.50);
    o["p90"] = at(0.90);
    o["p99"] = at(0.99);
    o["p999"] = at(0.999);
    o["max"] = us.back();
    return o;
}

std::string latencyLine(const boost::json::object& l) {
    auto ms = [&](const char* k) {
        const auto& v = l.at(k);
        return v.is_null() ? std::string("-") : format("%.2f", v.to_number<double>() / 1000.0);
    };
    return format("p50 %s  p90 %s  p99 %s  p99.9 %s  max %s ms (%llu samples)", ms("p50").c_str(), ms("p90").c_str(),
                  ms("p99").c_str(), ms("p999").c_str(), ms("max").c_str(),
                  static_cast<unsigned long long>(l.at("count").to_number<std::uint64_t>()));
}

std::string format(const char* fmt, ...) {
    char buf[1024];
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, args);
    va_end(args);
    return buf;
}

boost::json::value ratio(double a, double b, bool known) {
    if (!known || b == 0) return nullptr;
    return std::round(a / b * 1000.0) / 1000.0;
}

} // namespace parley::bench
