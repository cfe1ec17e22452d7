// parley-floor: what this machine charges, in CPU time, for the three things every durable chat
// server does per commit, per event and per delivery, whatever its code: making a write durable,
// waking a thread that sleeps, and writing one frame to one client's socket. The fan-out targets
// are ratios of CPU time per delivery; these figures are the part of it no server can go below on
// the machine at hand.
//
//   parley-floor sync   pwrite of --bytes at a new offset of a preallocated file in --dir, at
//                       --rate per second, with and without an fdatasync after each: CPU time of
//                       the writing thread per write (the pacing sleep's wake included in both)
//   parley-floor wake   one thread on --cpu sleeps on a futex; another, on --waker-cpu, wakes it
//                       every --gap-us: CPU time the woken thread is charged per wake
//   parley-floor fanout --sockets loopback TCP connections, read by a child process on
//                       --reader-cpu; --rate times a second, one --bytes frame is sent to each of
//                       --fanout of them (the next ones in turn), one send(2) each: CPU time of
//                       the sending thread per delivery (the pacing sleep's wake included)
//
// Rounds alternate the variants, so that a noisy machine weighs on each alike; the summary gives
// medians. Every loop is bounded by --count. CPU time is the thread's own
// (CLOCK_THREAD_CPUTIME_ID: the scheduler's exact runtime, kernel time included).

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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
    double rate = 475;  // sync: writes per second (fanout-1000's commits: 950 msgs/s, ~2 each)
    int bytes = 16384;  // sync: bytes per write (a commit of two messages: four 4 KiB pages)
    int count = 2000;   // iterations per round
    int rounds = 3;     // rounds per variant
    int gapUs = 1000;   // wake: time between wakes
    int cpu = 0;        // the measured thread's CPU
    int wakerCpu = 1;   // wake: the waking thread's CPU
    int sockets = 5000; // fanout: connections (bigroom-fanout-20's clients)
    int fanout = 1000;  // fanout: recipients per message (a 1,000-member chat)
    int readerCpu = 1;  // fanout: the reading process's CPU
};

constexpr const char* kUsage =
    "parley-floor: CPU time this machine charges for a durable write and for a thread wake-up\n"
    "\n"
    "usage: parley-floor sync [--dir DIR] [--rate R] [--bytes B] [--count N] [--rounds K] [--cpu C]\n"
    "       parley-floor wake [--gap-us G] [--count N] [--rounds K] [--cpu C] [--waker-cpu W]\n"
    "       parley-floor fanout [--sockets S] [--fanout F] [--rate R] [--bytes B] [--count N]\n"
    "                           [--rounds K] [--cpu C] [--reader-cpu P]\n"
    "\n"
    "  sync   pwrite of B bytes (16384) at R per second (475), each at a new offset of a\n"
    "         preallocated 4 MiB file in DIR (/tmp), with and without an fdatasync after it;\n"
    "         CPU time of the writing thread per write, and the difference: the sync's cost\n"
    "  wake   a thread on CPU C (0) sleeps on a futex and a thread on CPU W (1) wakes it every G\n"
    "         microseconds (1000); CPU time the woken thread is charged per wake\n"
    "  fanout S loopback TCP connections (5000) read by a child process on CPU P (1); R times a\n"
    "         second, a frame of B bytes is sent to each of F (1000) of them in turn, one send(2)\n"
    "         each; CPU time of the sending thread per delivery (default R 20, B 240, N 200:\n"
    "         bigroom-fanout-20's 20 messages a second to chats of 1,000)\n"
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
    if (argc < 2) throw std::invalid_argument("a mode is required: sync, wake or fanout");
    Options o;
    o.mode = argv[1];
    if (o.mode == "--help" || o.mode == "-h") return o;
    if (o.mode != "sync" && o.mode != "wake" && o.mode != "fanout")
        throw std::invalid_argument("unknown mode \"" + o.mode + "\"");
    if (o.mode == "fanout") {
        // A message:new of a 64-byte body in its WebSocket frame, twenty a second, 200 a round.
        o.rate = 20;
        o.bytes = 240;
        o.count = 200;
    }
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
        else if (flag == "--sockets")
            o.sockets = positive(flag, value);
        else if (flag == "--fanout")
            o.fanout = positive(flag, value);
        else if (flag == "--reader-cpu")
            o.readerCpu = cpuIndex(flag, value);
        else
            throw std::invalid_argument("unknown option " + std::string(flag));
    }
    if (o.bytes > 1024 * 1024) throw std::invalid_argument("--bytes: at most 1048576");
    if (o.sockets > 9000) throw std::invalid_argument("--sockets: at most 9000 (a descriptor each, in both processes)");
    if (o.fanout > o.sockets) throw std::invalid_argument("--fanout: at most --sockets");
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

// ---------------------------------------------------------------------------------------------
// fanout
// ---------------------------------------------------------------------------------------------

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what + ": " + std::strerror(errno)); }

// The reading side, in a child process: connects `count` sockets to `port`, then reads and
// drops whatever arrives until every one of them is closed. Exits the process.
[[noreturn]] void readAll(int port, int count, int cpu) {
    int status = 0;
    try {
        pinTo(cpu);
        const int epoll = ::epoll_create1(EPOLL_CLOEXEC);
        if (epoll < 0) fail("epoll_create1");
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(static_cast<std::uint16_t>(port));
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        for (int i = 0; i < count; ++i) {
            const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0) fail("socket");
            if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) fail("connect");
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.fd = fd;
            if (::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &ev) != 0) fail("epoll_ctl");
        }
        std::vector<epoll_event> events(256);
        std::vector<char> sink(64 * 1024);
        for (int open = count; open > 0;) {
            const int n = ::epoll_wait(epoll, events.data(), static_cast<int>(events.size()), -1);
            if (n < 0 && errno != EINTR) fail("epoll_wait");
            for (int i = 0; i < n; ++i) {
                const int fd = events[static_cast<std::size_t>(i)].data.fd;
                const ssize_t got = ::read(fd, sink.data(), sink.size());
                if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
                    ::close(fd);
                    --open;
                }
            }
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "parley-floor: reader: %s\n", e.what());
        status = 1;
    }
    std::fflush(stderr);
    ::_exit(status);
}

// One round: `count` messages paced at `rate`, each a send(2) of `frame` to the next `fanout`
// connections. CPU µs of this thread per delivery; frames the kernel did not take whole are
// counted in `shortSends`.
double sendRound(const std::vector<int>& conns, const Options& o, const std::vector<char>& frame, std::size_t& next,
                 long& shortSends) {
    const auto period = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / o.rate));
    auto due = std::chrono::steady_clock::now();
    const double start = threadCpuUs();
    for (int m = 0; m < o.count; ++m) {
        due += period;
        std::this_thread::sleep_until(due);
        for (int i = 0; i < o.fanout; ++i) {
            const ssize_t sent = ::send(conns[next], frame.data(), frame.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
            if (sent != static_cast<ssize_t>(frame.size())) ++shortSends;
            next = (next + 1) % conns.size();
        }
    }
    return (threadCpuUs() - start) / (static_cast<double>(o.count) * o.fanout);
}

int runFanout(const Options& o) {
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0) fail("socket");
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof at;
    if (::bind(listener, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0 || ::listen(listener, 4096) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&at), &len) != 0)
        fail("listen");
    std::fflush(stdout);
    const pid_t reader = ::fork();
    if (reader < 0) fail("fork");
    if (reader == 0) readAll(ntohs(at.sin_port), o.sockets, o.readerCpu);
    pinTo(o.cpu);
    std::vector<int> conns;
    for (int i = 0; i < o.sockets; ++i) {
        const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) fail("accept");
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); // as every WebSocket server sets it
        conns.push_back(fd);
    }
    ::close(listener);
    std::printf("fanout: %d connections read on CPU %d; %.0f messages/s, each a %d-byte frame to %d of them; %d "
                "messages per round, CPU %d\n",
                o.sockets, o.readerCpu, o.rate, o.bytes, o.fanout, o.count, o.cpu);
    const std::vector<char> frame(static_cast<std::size_t>(o.bytes), 'f');
    std::vector<double> perDelivery;
    std::size_t next = 0;
    long shortSends = 0;
    for (int r = 0; r < o.rounds; ++r) {
        perDelivery.push_back(sendRound(conns, o, frame, next, shortSends));
        std::printf("  round %d: %.2f us CPU per delivery\n", r + 1, perDelivery.back());
    }
    for (int fd : conns) ::close(fd);
    int status = 0;
    if (::waitpid(reader, &status, 0) != reader || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error("the reading process failed");
    std::printf("median: %.2f us of CPU per delivery (one send each; %ld frames not taken whole)\n",
                median(perDelivery), shortSends);
    return shortSends == 0 ? 0 : 1;
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
        if (o.mode == "sync") return runSync(o);
        return o.mode == "wake" ? runWake(o) : runFanout(o);
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "parley-floor: %s\n\n%s", e.what(), kUsage);
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "parley-floor: %s\n", e.what());
        return 1;
    }
}
