// parley-floor: what this machine charges, in CPU time, for the two things every durable chat
// server does per commit and per event, whatever its code: making a write durable, and waking a
// thread that sleeps. The fan-out targets of the performance issue are ratios of CPU time per
// delivery; these figures are the part of it no server can go below on the machine at hand.
//
//   parley-floor sync   pwrite of --bytes at a new offset of a preallocated file in --dir, at
//                       --rate per second, with and without an fdatasync after each: CPU time of
//                       the writing thread per write (the pacing sleep's wake included in both)
//   parley-floor wake   one thread on --cpu sleeps on a futex; another, on --waker-cpu, wakes it
//                       every --gap-us: CPU time the woken thread is charged per wake
//
// Rounds alternate the variants, so that a noisy machine weighs on each alike; the summary gives
// medians. Every loop is bounded by --count. CPU time is the thread's own
// (CLOCK_THREAD_CPUTIME_ID: the scheduler's exact runtime, kernel time included).

#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

struct Options {
    std::string mode;
    std::string dir = "/tmp";
    double rate = 475; // sync: writes per second (fanout-1000's commits: 950 msgs/s, ~2 each)
    int bytes = 16384; // sync: bytes per write (a commit of two messages: four 4 KiB pages)
    int count = 2000;  // iterations per round
    int rounds = 3;    // rounds per variant
    int gapUs = 1000;  // wake: time between wakes
    int cpu = 0;       // the measured thread's CPU
    int wakerCpu = 1;  // wake: the waking thread's CPU
};

constexpr const char* kUsage =
    "parley-floor: CPU time this machine charges for a durable write and for a thread wake-up\n"
    "\n"
    "usage: parley-floor sync [--dir DIR] [--rate R] [--bytes B] [--count N] [--rounds K] [--cpu C]\n"
    "       parley-floor wake [--gap-us G] [--count N] [--rounds K] [--cpu C] [--waker-cpu W]\n"
    "\n"
    "  sync   pwrite of B bytes (16384) at R per second (475), each at a new offset of a\n"
    "         preallocated 4 MiB file in DIR (/tmp), with and without an fdatasync after it;\n"
    "         CPU time of the writing thread per write, and the difference: the sync's cost\n"
    "  wake   a thread on CPU C (0) sleeps on a futex and a thread on CPU W (1) wakes it every G\n"
    "         microseconds (1000); CPU time the woken thread is charged per wake\n"
    "  N iterations (2000) per round, K rounds (3) per variant, alternating; medians at the end.\n";

double threadCpuUs() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

void pinTo(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        throw std::runtime_error("cannot pin to CPU " + std::to_string(cpu) + ": " + std::strerror(errno));
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

int positive(std::string_view flag, const char* text) {
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || value <= 0 || value > 100000000)
        throw std::invalid_argument(std::string(flag) + ": expected a positive integer, got \"" + text + "\"");
    return static_cast<int>(value);
}

int cpuIndex(std::string_view flag, const char* text) {
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || value < 0 || value >= CPU_SETSIZE)
        throw std::invalid_argument(std::string(flag) + ": expected a CPU number, got \"" + text + "\"");
    return static_cast<int>(value);
}

Options parse(int argc, char** argv) {
    if (argc < 2) throw std::invalid_argument("a mode is required: sync or wake");
    Options o;
    o.mode = argv[1];
    if (o.mode == "--help" || o.mode == "-h") return o;
    if (o.mode != "sync" && o.mode != "wake") throw std::invalid_argument("unknown mode \"" + o.mode + "\"");
    for (int i = 2; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (i + 1 >= argc) throw std::invalid_argument(std::string(flag) + ": a value is required");
        const char* value = argv[++i];
        if (flag == "--dir")
            o.dir = value;
        else if (flag == "--rate")
            o.rate = positive(flag, value);
        else if (flag == "--bytes")
            o.bytes = positive(flag, value);
        else if (flag == "--count")
            o.count = positive(flag, value);
        else if (flag == "--rounds")
            o.rounds = positive(flag, value);
        else if (flag == "--gap-us")
            o.gapUs = positive(flag, value);
        else if (flag == "--cpu")
            o.cpu = cpuIndex(flag, value);
        else if (flag == "--waker-cpu")
            o.wakerCpu = cpuIndex(flag, value);
        else
            throw std::invalid_argument("unknown option " + std::string(flag));
    }
    if (o.bytes > 1024 * 1024) throw std::invalid_argument("--bytes: at most 1048576");
    return o;
}

// ---------------------------------------------------------------------------------------------
// sync
// ---------------------------------------------------------------------------------------------

constexpr std::int64_t kFileBytes = 4 * 1024 * 1024; // a WAL that is reused, not grown

// One round: `count` paced writes, each followed by an fdatasync when `sync`. CPU µs per write.
double writeRound(int fd, const Options& o, bool sync, std::int64_t& offset) {
    std::vector<char> block(static_cast<std::size_t>(o.bytes), 'p');
    const auto period = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / o.rate));
    auto next = std::chrono::steady_clock::now();
    const double start = threadCpuUs();
    for (int i = 0; i < o.count; ++i) {
        next += period;
        std::this_thread::sleep_until(next);
        if (::pwrite(fd, block.data(), block.size(), offset) != static_cast<ssize_t>(block.size()))
            throw std::runtime_error(std::string("pwrite: ") + std::strerror(errno));
        if (sync && ::fdatasync(fd) != 0) throw std::runtime_error(std::string("fdatasync: ") + std::strerror(errno));
        offset += o.bytes;
        if (offset + o.bytes > kFileBytes) offset = 0;
    }
    return (threadCpuUs() - start) / o.count;
}

int runSync(const Options& o) {
    pinTo(o.cpu);
    const std::string path = o.dir + "/parley-floor-" + std::to_string(::getpid()) + ".tmp";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
    struct Cleanup {
        int fd;
        std::string path;
        ~Cleanup() {
            ::close(fd);
            ::unlink(path.c_str());
        }
    } cleanup{fd, path};
    {
        std::vector<char> zeros(1024 * 1024, 0);
        for (std::int64_t at = 0; at < kFileBytes; at += static_cast<std::int64_t>(zeros.size()))
            if (::pwrite(fd, zeros.data(), zeros.size(), at) != static_cast<ssize_t>(zeros.size()))
                throw std::runtime_error(std::string("preallocating: ") + std::strerror(errno));
        if (::fdatasync(fd) != 0) throw std::runtime_error(std::string("fdatasync: ") + std::strerror(errno));
    }
    std::printf("sync: %d bytes per write at %.0f writes/s, %d writes per round, file in %s, CPU %d\n", o.bytes, o.rate,
                o.count, o.dir.c_str(), o.cpu);
    std::vector<double> plain, synced, diffs;
    std::int64_t offset = 0;
    for (int r = 0; r < o.rounds; ++r) {
        // Alternate which variant goes first, so that a drift of the machine favours neither.
        double p = 0, s = 0;
        if (r % 2 == 0) {
            p = writeRound(fd, o, false, offset);
            s = writeRound(fd, o, true, offset);
        } else {
            s = writeRound(fd, o, true, offset);
            p = writeRound(fd, o, false, offset);
        }
        plain.push_back(p);
        synced.push_back(s);
        diffs.push_back(s - p);
        std::printf("  round %d: write %.1f us, write+fdatasync %.1f us, the fdatasync %.1f us CPU\n", r + 1, p, s,
                    s - p);
    }
    std::printf("median: write %.1f us, write+fdatasync %.1f us, the fdatasync %.1f us of CPU per write\n",
                median(plain), median(synced), median(diffs));
    return 0;
}

// ---------------------------------------------------------------------------------------------
// wake
// ---------------------------------------------------------------------------------------------

long futex(std::atomic<int>* word, int op, int value) {
    return ::syscall(SYS_futex, reinterpret_cast<int*>(word), op, value, nullptr, nullptr, 0);
}

// One round: the waker posts `count` tokens, `gapUs` apart; the sleeper takes each, sleeping on
// the futex whenever none is there. CPU µs the sleeper is charged per token.
double wakeRound(const Options& o) {
    std::atomic<int> tokens{0};
    double sleeperCpu = 0;
    std::thread sleeper([&] {
        pinTo(o.cpu);
        const double start = threadCpuUs();
        for (int i = 0; i < o.count; ++i) {
            int have = tokens.load();
            while (have == 0) {
                futex(&tokens, FUTEX_WAIT_PRIVATE, 0);
                have = tokens.load();
            }
            tokens.fetch_sub(1);
        }
        sleeperCpu = threadCpuUs() - start;
    });
    std::thread waker([&] {
        pinTo(o.wakerCpu);
        auto next = std::chrono::steady_clock::now();
        for (int i = 0; i < o.count; ++i) {
            next += std::chrono::microseconds(o.gapUs);
            std::this_thread::sleep_until(next);
            tokens.fetch_add(1);
            futex(&tokens, FUTEX_WAKE_PRIVATE, 1);
        }
    });
    waker.join();
    sleeper.join();
    return sleeperCpu / o.count;
}

int runWake(const Options& o) {
    std::printf("wake: a thread on CPU %d woken from CPU %d every %d us, %d wakes per round\n", o.cpu, o.wakerCpu,
                o.gapUs, o.count);
    std::vector<double> perWake;
    for (int r = 0; r < o.rounds; ++r) {
        perWake.push_back(wakeRound(o));
        std::printf("  round %d: %.1f us CPU per wake\n", r + 1, perWake.back());
    }
    std::printf("median: %.1f us of CPU charged to the woken thread per wake\n", median(perWake));
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    try {
        const Options o = parse(argc, argv);
        if (o.mode == "--help" || o.mode == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        }
        std::string command = "parley-floor";
        for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
        std::printf("command: %s\n", command.c_str());
        return o.mode == "sync" ? runSync(o) : runWake(o);
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "parley-floor: %s\n\n%s", e.what(), kUsage);
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "parley-floor: %s\n", e.what());
        return 1;
    }
}
