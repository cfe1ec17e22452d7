#include "ProcProbe.hpp"

#include "Clock.hpp"
#include "Workers.hpp"

#include <boost/json/value_from.hpp>

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace parley::bench {

ServerProbe::ServerProbe(std::vector<int> pids, std::vector<int> storePids)
    : pids_(std::move(pids)), storePids_(std::move(storePids)) {
    const long ticks = sysconf(_SC_CLK_TCK);
    usPerTick_ = ticks > 0 ? 1000000 / ticks : 10000;
}

std::int64_t ServerProbe::ticksOf(int pid, bool reaped) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return -1;
    const auto close = line.rfind(')');
    if (close == std::string::npos) return -1;
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    std::int64_t sum = 0;
    // After ')' comes field 3; utime, stime, cutime and cstime are fields 14 to 17.
    for (int index = 3; index <= 17 && rest >> field; ++index)
        if (index >= 14 && (index <= 15 || reaped)) sum += std::stoll(field);
    return sum;
}

std::int64_t ServerProbe::treeTicks(int pid) {
    const std::int64_t own = ticksOf(pid, true);
    if (own < 0) return -1;
    std::int64_t sum = own;
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        std::ifstream children(task.path() / "children");
        int child = 0;
        while (children >> child) sum += std::max<std::int64_t>(0, treeTicks(child));
    }
    return sum;
}

ProcSample ServerProbe::sample() const {
    ProcSample s;
    s.storeOk = !storePids_.empty();
    for (const int root : storePids_) {
        const std::int64_t ticks = treeTicks(root);
        s.storeOk = s.storeOk && ticks >= 0;
        s.storeCpuUsEach.push_back(std::max<std::int64_t>(0, ticks) * usPerTick_);
        s.storeCpuUs += s.storeCpuUsEach.back();
    }
    s.ok = !pids_.empty();
    for (const int pid : pids_) s.ok = sampleOne(pid, s) && s.ok;
    return s;
}

bool ServerProbe::sampleOne(int pid, ProcSample& s) const {
    const std::string dir = "/proc/" + std::to_string(pid);
    {
        std::ifstream stat(dir + "/stat");
        std::string line;
        if (!std::getline(stat, line)) return false;
        // The command name (field 2) may hold spaces and parentheses: fields restart after the last ')'.
        const auto close = line.rfind(')');
        if (close == std::string::npos) return false;
        std::istringstream rest(line.substr(close + 2));
        std::string field;
        std::int64_t utime = 0, stime = 0;
        // After ')' comes field 3 (state); utime and stime are fields 14 and 15.
        for (int index = 3; index <= 15 && rest >> field; ++index) {
            if (index == 14) utime = std::stoll(field);
            if (index == 15) stime = std::stoll(field);
        }
        s.cpuUsEach.push_back((utime + stime) * usPerTick_);
        s.cpuUs += s.cpuUsEach.back();
    }
    std::ifstream status(dir + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            s.rssKb += std::stoll(line.substr(6));
            return true;
        }
    }
    return false;
}

std::int64_t processCpuUs() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return (std::int64_t{ru.ru_utime.tv_sec} + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
           ru.ru_stime.tv_usec;
}

std::int64_t threadCpuUs(pthread_t thread) {
    clockid_t clock{};
    if (pthread_getcpuclockid(thread, &clock) != 0) return 0;
    timespec ts{};
    if (clock_gettime(clock, &ts) != 0) return 0;
    return std::int64_t{ts.tv_sec} * 1000000 + ts.tv_nsec / 1000;
}

std::vector<CpuTicks> machineCpuTicks() {
    std::vector<CpuTicks> cpus;
    std::ifstream stat("/proc/stat");
    std::string line;
    while (std::getline(stat, line)) {
        // "cpuN user nice system idle iowait irq softirq steal ..." (the aggregate "cpu " is skipped)
        if (line.rfind("cpu", 0) != 0) break;
        if (line.size() < 4 || line[3] == ' ') continue;
        std::istringstream fields(line.substr(line.find(' ')));
        CpuTicks t;
        std::int64_t v = 0;
        for (int index = 0; index < 8 && fields >> v; ++index) {
            t.total += v;
            if (index != 3 && index != 4) t.busy += v;
        }
        cpus.push_back(t);
    }
    return cpus;
}

Edge takeEdge(const ServerProbe& server, const Workers& workers) {
    Edge e;
    // The server first: it is what the window edge is about.
    e.server = server.sample();
    e.ns = nowNs();
    e.generatorCpuUs = processCpuUs();
    e.workerCpuUs = workers.cpuUs();
    e.cpus = machineCpuTicks();
    return e;
}

WindowFigures measure(const Edge& start, const Edge& end) {
    WindowFigures w;
    w.wallUs = static_cast<double>(end.ns - start.ns) / 1000.0;
    w.serverSampled = start.server.ok && end.server.ok;
    if (w.serverSampled) {
        w.serverCpuUs = end.server.cpuUs - start.server.cpuUs;
        for (std::size_t i = 0; i < std::min(start.server.cpuUsEach.size(), end.server.cpuUsEach.size()); ++i)
            w.serverCpuUsEach.push_back(end.server.cpuUsEach[i] - start.server.cpuUsEach[i]);
        w.serverRssKbStart = start.server.rssKb;
        w.serverRssKbEnd = end.server.rssKb;
    }
    w.storeSampled = start.server.storeOk && end.server.storeOk;
    if (w.storeSampled) {
        w.storeCpuUs = end.server.storeCpuUs - start.server.storeCpuUs;
        const auto& a = start.server.storeCpuUsEach;
        const auto& b = end.server.storeCpuUsEach;
        for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) w.storeCpuUsEach.push_back(b[i] - a[i]);
    }
    w.generatorCpuUs = end.generatorCpuUs - start.generatorCpuUs;
    std::int64_t busiest = 0;
    for (std::size_t i = 0; i < std::min(start.workerCpuUs.size(), end.workerCpuUs.size()); ++i)
        busiest = std::max(busiest, end.workerCpuUs[i] - start.workerCpuUs[i]);
    w.generatorCoreShare = w.wallUs > 0 ? static_cast<double>(busiest) / w.wallUs : 0;
    w.generatorBound = w.generatorCoreShare > 0.9;
    for (std::size_t i = 0; i < std::min(start.cpus.size(), end.cpus.size()); ++i) {
        const auto total = end.cpus[i].total - start.cpus[i].total;
        w.cpuBusyShare.push_back(
            total > 0 ? static_cast<double>(end.cpus[i].busy - start.cpus[i].busy) / static_cast<double>(total) : 0.0);
    }
    return w;
}

boost::json::object toJson(const WindowFigures& w) {
    boost::json::object o;
    o["windowMs"] = w.wallUs / 1000.0;
    if (w.serverSampled) {
        o["serverCpuUs"] = w.serverCpuUs;
        o["serverCpuUsByPid"] = boost::json::value_from(w.serverCpuUsEach);
        o["serverRssKbStart"] = w.serverRssKbStart;
        o["serverRssKbEnd"] = w.serverRssKbEnd;
    } else {
        o["serverCpuUs"] = nullptr;
        o["serverCpuUsByPid"] = nullptr;
        o["serverRssKbStart"] = nullptr;
        o["serverRssKbEnd"] = nullptr;
    }
    o["storeCpuUs"] = w.storeSampled ? boost::json::value(w.storeCpuUs) : nullptr;
    o["storeCpuUsByPid"] = w.storeSampled ? boost::json::value_from(w.storeCpuUsEach) : nullptr;
    o["generatorCpuUs"] = w.generatorCpuUs;
    o["generatorCoreShare"] = std::round(w.generatorCoreShare * 1000.0) / 1000.0;
    o["generatorBound"] = w.generatorBound;
    boost::json::array busy;
    for (const double share : w.cpuBusyShare) busy.push_back(std::round(share * 1000.0) / 1000.0);
    o["cpuBusyShare"] = std::move(busy);
    return o;
}

} // namespace parley::bench
