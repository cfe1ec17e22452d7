#include "Scenarios.hpp"

#include "Fleet.hpp"

#include <sodium.h>
#include <sys/resource.h>
#include <unistd.h>

#include <stdexcept>

namespace parley::bench {

std::chrono::seconds tokenTtl(const Options& o) {
    return std::chrono::seconds(static_cast<std::int64_t>(o.durationSec + o.drainSec + o.connectTimeoutSec) + 3600);
}

std::string makeRunTag() {
    unsigned char bytes[4];
    randombytes_buf(bytes, sizeof bytes);
    char hex[9];
    sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
    return hex;
}

void ensureDescriptors(std::size_t needed) {
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
    if (lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
        getrlimit(RLIMIT_NOFILE, &lim);
    }
    if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < needed)
        throw std::runtime_error("needs " + std::to_string(needed) + " file descriptors, ulimit -n allows " +
                                 std::to_string(lim.rlim_cur) + ": use fewer clients per process");
}

void addWindow(Report& report, const std::string& prefix, const WindowFigures& w) {
    report.json()[prefix + "Window"] = toJson(w);
    auto& bound = report.json()["generatorBound"];
    bound = (bound.is_bool() && bound.get_bool()) || w.generatorBound;
    std::string line = format("%s window %.0f ms: ", prefix.c_str(), w.wallUs / 1000.0);
    if (w.serverSampled)
        line += format("server CPU %.1f ms, RSS %lld -> %lld KB; ", static_cast<double>(w.serverCpuUs) / 1000.0,
                       static_cast<long long>(w.serverRssKbStart), static_cast<long long>(w.serverRssKbEnd));
    else
        line += "server not sampled (no --server-pid); ";
    // /proc counts in clock ticks: below 100 of them the figure is coarse (> 1% uncertainty).
    const long ticks = sysconf(_SC_CLK_TCK);
    if (w.serverSampled && ticks > 0 && w.serverCpuUs < 100 * (1000000 / ticks))
        line += "(under 100 clock ticks: coarse) ";
    line += format("generator CPU %.1f ms, busiest thread %.0f%% of a core%s",
                   static_cast<double>(w.generatorCpuUs) / 1000.0, w.generatorCoreShare * 100.0,
                   w.generatorBound ? "  << GENERATOR-BOUND: figures measure the generator" : "");
    report.line(line);
}

std::string firstError(const Fleet& fleet) {
    for (const auto& m : fleet.members())
        if (!m->lastError.empty()) return "client " + std::to_string(m->index()) + ": " + m->lastError;
    return {};
}

} // namespace parley::bench
