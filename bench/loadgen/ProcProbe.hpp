#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <pthread.h>

#include <cstdint>
#include <vector>

namespace parley::bench {

class Workers;

/// One reading of the server's processes: CPU time of all their threads and resident memory.
struct ProcSample {
    bool ok = false;                     ///< false when no pid is set or /proc could not be read for one of them
    std::int64_t cpuUs = 0;              ///< utime + stime of every server process, in microseconds
    std::int64_t rssKb = 0;              ///< VmRSS, summed
    std::vector<std::int64_t> cpuUsEach; ///< per server process, in the order of the pids
    bool storeOk = false;                ///< every store process tree was read
    std::int64_t storeCpuUs = 0;
    std::vector<std::int64_t> storeCpuUsEach; ///< per store root, in the order of the pids
};

/// Reads /proc/PID/stat (fields 14 and 15, clock ticks, all threads) and /proc/PID/status (VmRSS)
/// of each server process (a cluster has several: their figures are summed). No pid disables it:
/// every sample is !ok.
///
/// With `storePids` (the root processes of back ends, such as PostgreSQL's postmaster or a
/// redis-server), each sample also reads the CPU of each such process tree: every live process in
/// it (found through /proc/PID/task/*/children) with the time of the children it has reaped
/// (cutime, cstime), so a backend that exits inside the window still counts.
class ServerProbe {
public:
    explicit ServerProbe(std::vector<int> pids, std::vector<int> storePids = {});
    bool enabled() const noexcept { return !pids_.empty(); }
    ProcSample sample() const;

private:
    /// utime + stime (+ cutime + cstime with `reaped`) of one process, in clock ticks; -1 if gone.
    static std::int64_t ticksOf(int pid, bool reaped);
    /// The ticks of `pid` and all its descendants, as the class comment says; -1 if `pid` is gone.
    static std::int64_t treeTicks(int pid);

    /// Adds one server process to `s`; false if it could not be read.
    bool sampleOne(int pid, ProcSample& s) const;

    std::vector<int> pids_;
    std::vector<int> storePids_;
    std::int64_t usPerTick_;
};

/// CPU time (user + system) of the whole generator process, in microseconds.
std::int64_t processCpuUs();

/// CPU time of one thread of this process, in microseconds (0 if it cannot be read).
std::int64_t threadCpuUs(pthread_t thread);

/// Everything read at one edge of a measurement window, as close together as possible.
/// One CPU's counters from /proc/stat, in clock ticks: busy is everything but idle and iowait.
struct CpuTicks {
    std::int64_t busy = 0;
    std::int64_t total = 0;
};

/// Every CPU of the machine (the lines cpu0, cpu1, ... of /proc/stat), in order.
std::vector<CpuTicks> machineCpuTicks();

struct Edge {
    std::int64_t ns = 0;
    ProcSample server;
    std::int64_t generatorCpuUs = 0;
    std::vector<std::int64_t> workerCpuUs; ///< one per io thread
    std::vector<CpuTicks> cpus;
};

Edge takeEdge(const ServerProbe& server, const Workers& workers);

/// The figures of the window between two edges.
struct WindowFigures {
    double wallUs = 0;
    bool serverSampled = false;
    std::int64_t serverCpuUs = 0;
    std::vector<std::int64_t> serverCpuUsEach; ///< per server process
    bool storeSampled = false;
    std::int64_t storeCpuUs = 0; ///< the store process trees (ServerProbe's storePids), summed
    std::vector<std::int64_t> storeCpuUsEach;
    std::int64_t serverRssKbStart = 0;
    std::int64_t serverRssKbEnd = 0;
    std::int64_t generatorCpuUs = 0; ///< the whole generator process
    double generatorCoreShare = 0;   ///< busiest io thread's CPU / wall time
    /// How busy each CPU of the machine was over the window, whoever ran on it (0..1): with the
    /// server pinned to a CPU, what it did not use there is other work on the machine.
    std::vector<double> cpuBusyShare;
    bool generatorBound = false; ///< that share is above 0.9
};

WindowFigures measure(const Edge& start, const Edge& end);

/// {"windowMs","serverCpuUs","serverCpuUsByPid","serverRssKbStart","serverRssKbEnd","storeCpuUs",
/// "storeCpuUsByPid","generatorCpuUs","generatorCoreShare","generatorBound","cpuBusyShare"}; the server and store
/// fields are null when not sampled. The ByPid arrays follow the order of the pids given.
boost::json::object toJson(const WindowFigures& w);

} // namespace parley::bench
