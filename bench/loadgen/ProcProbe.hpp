#pragma once

#include <boost/json/object.hpp>

#include <pthread.h>

#include <cstdint>
#include <vector>

namespace parley::bench {

class Workers;

/// One reading of a process: CPU time of all its threads and resident memory.
struct ProcSample {
    bool ok = false;        ///< false when the pid is unset or /proc could not be read
    std::int64_t cpuUs = 0; ///< utime + stime of the whole process, in microseconds
    std::int64_t rssKb = 0; ///< VmRSS
    bool storeOk = false;   ///< the store's process tree was read
    std::int64_t storeCpuUs = 0;
};

/// Reads /proc/PID/stat (fields 14 and 15, clock ticks, all threads) and /proc/PID/status (VmRSS).
/// A pid of 0 disables it: every sample is !ok.
///
/// With a `storePid` (a database server's root process, such as PostgreSQL's postmaster), each
/// sample also reads the CPU of that process tree: every live process in it (found through
/// /proc/PID/task/*/children) with the time of the children it has reaped (cutime, cstime), so a
/// backend that exits inside the window still counts.
class ServerProbe {
public:
    explicit ServerProbe(int pid, int storePid = 0);
    bool enabled() const noexcept { return pid_ > 0; }
    int pid() const noexcept { return pid_; }
    ProcSample sample() const;

private:
    /// utime + stime (+ cutime + cstime with `reaped`) of one process, in clock ticks; -1 if gone.
    static std::int64_t ticksOf(int pid, bool reaped);
    /// The ticks of `pid` and all its descendants, as the class comment says; -1 if `pid` is gone.
    static std::int64_t treeTicks(int pid);

    int pid_;
    int storePid_;
    std::int64_t usPerTick_;
};

/// CPU time (user + system) of the whole generator process, in microseconds.
std::int64_t processCpuUs();

/// CPU time of one thread of this process, in microseconds (0 if it cannot be read).
std::int64_t threadCpuUs(pthread_t thread);

/// Everything read at one edge of a measurement window, as close together as possible.
struct Edge {
    std::int64_t ns = 0;
    ProcSample server;
    std::int64_t generatorCpuUs = 0;
    std::vector<std::int64_t> workerCpuUs; ///< one per io thread
};

Edge takeEdge(const ServerProbe& server, const Workers& workers);

/// The figures of the window between two edges.
struct WindowFigures {
    double wallUs = 0;
    bool serverSampled = false;
    std::int64_t serverCpuUs = 0;
    bool storeSampled = false;
    std::int64_t storeCpuUs = 0; ///< the store's process tree (ServerProbe's storePid)
    std::int64_t serverRssKbStart = 0;
    std::int64_t serverRssKbEnd = 0;
    std::int64_t generatorCpuUs = 0; ///< the whole generator process
    double generatorCoreShare = 0;   ///< busiest io thread's CPU / wall time
    bool generatorBound = false;     ///< that share is above 0.9
};

WindowFigures measure(const Edge& start, const Edge& end);

/// {"windowMs","serverCpuUs","serverRssKbStart","serverRssKbEnd","storeCpuUs","generatorCpuUs",
/// "generatorCoreShare","generatorBound"}; the server and store fields are null when not sampled.
boost::json::object toJson(const WindowFigures& w);

} // namespace parley::bench
