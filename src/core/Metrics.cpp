#include "core/Metrics.hpp"

#include <cstdio>
#include <string_view>

namespace parley::core {

namespace {
// The bounds, and how /metrics spells them (le="...").
constexpr std::array<std::chrono::nanoseconds, DurationHistogram::kBounds> kBoundValues{
    std::chrono::microseconds(100), std::chrono::microseconds(200), std::chrono::microseconds(500),
    std::chrono::milliseconds(1),   std::chrono::milliseconds(2),   std::chrono::milliseconds(5),
    std::chrono::milliseconds(10),  std::chrono::milliseconds(20),  std::chrono::milliseconds(50),
    std::chrono::milliseconds(100), std::chrono::milliseconds(200), std::chrono::milliseconds(500),
    std::chrono::seconds(1),        std::chrono::seconds(2),        std::chrono::seconds(5)};
constexpr std::array<const char*, DurationHistogram::kBounds> kBoundLabels{
    "0.0001", "0.0002", "0.0005", "0.001", "0.002", "0.005", "0.01", "0.02",
    "0.05",   "0.1",    "0.2",    "0.5",   "1",     "2",     "5"};

// One sample line: `<name><suffix> <value>`.
void sample(std::string& out, const char* name, std::string_view suffix, std::string_view value) {
    out += name;
    out += suffix;
    out += ' ';
    out += value;
    out += '\n';
}

void header(std::string& out, const char* name, const char* type, const char* help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

template <class T>
void add(std::string& out, const char* name, const char* type, const char* help, const std::atomic<T>& value) {
    header(out, name, type, help);
    sample(out, name, "", std::to_string(value.load(std::memory_order_relaxed)));
}
} // namespace

void DurationHistogram::observe(std::chrono::nanoseconds duration) noexcept {
    std::size_t i = 0;
    while (i < kBounds && duration > kBoundValues[i]) ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    const auto nanoseconds = duration.count() > 0 ? static_cast<std::uint64_t>(duration.count()) : 0;
    sumNanoseconds_.fetch_add(nanoseconds, std::memory_order_relaxed);
}

std::chrono::nanoseconds DurationHistogram::bound(std::size_t i) noexcept { return kBoundValues[i]; }

DurationHistogram::Snapshot DurationHistogram::snapshot() const noexcept {
    Snapshot s;
    for (std::size_t i = 0; i <= kBounds; ++i) {
        s.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
        s.count += s.buckets[i];
    }
    s.sumNanoseconds = sumNanoseconds_.load(std::memory_order_relaxed);
    return s;
}

void DurationHistogram::render(std::string& out, const char* name, const char* help) const {
    const Snapshot s = snapshot();
    header(out, name, "histogram", help);
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= kBounds; ++i) {
        cumulative += s.buckets[i];
        const std::string le = std::string("_bucket{le=\"") + (i < kBounds ? kBoundLabels[i] : "+Inf") + "\"}";
        sample(out, name, le, std::to_string(cumulative));
    }
    char sum[32];
    std::snprintf(sum, sizeof sum, "%.9f", static_cast<double>(s.sumNanoseconds) / 1e9);
    sample(out, name, "_sum", sum);
    sample(out, name, "_count", std::to_string(s.count));
}

std::string Metrics::render() const {
    std::string out;
    add(out, "parley_engineio_sessions", "gauge", "Engine.IO sessions open now.", sessionsOpen);
    add(out, "parley_engineio_sessions_opened_total", "counter", "Engine.IO sessions opened since start.",
        sessionsOpened);
    add(out, "parley_socketio_sockets", "gauge", "Socket.IO sockets connected now, all namespaces.", socketsConnected);
    add(out, "parley_chat_messages_stored_total", "counter", "Chat messages stored (retries not counted).",
        messagesStored);
    add(out, "parley_connections_refused_total", "counter", "TCP connections refused: too many from one address.",
        connectionsRefused);
    add(out, "parley_handshakes_refused_total", "counter", "Handshakes refused: too many per second from one address.",
        handshakesRefused);
    add(out, "parley_slow_consumers_closed_total", "counter", "Sessions closed because the client stopped reading.",
        slowConsumersClosed);
    add(out, "parley_volatile_dropped_total", "counter", "Volatile packets (typing) dropped for a backed-up client.",
        volatileDropped);
    add(out, "parley_password_hashes_total", "counter",
        "Password hashes computed by login, unknown emails included (each one Argon2id verification).", passwordHashes);
    add(out, "parley_logins_refused_total", "counter",
        "Logins refused with RATE_LIMITED: per-address or per-account limit, or the hash queue full.", loginsRefused);
    add(out, "parley_store_commits_total", "counter", "Store transactions committed (each one sync of the WAL).",
        storeCommits);
    add(out, "parley_store_committed_writes_total", "counter",
        "Writes carried by those commits; divided by the commits, the mean group-commit size.", storeCommittedWrites);
    storeCommitSeconds.render(
        out, "parley_store_commit_seconds",
        "Time each store commit took: the write and sync of the WAL, the disk's share of an ack.");
    storeWriteSeconds.render(out, "parley_store_write_seconds",
                             "Time from a write's queueing to its commit's outcome: the store's share of an ack "
                             "(queue, group-commit wait, statements, commit).");
    return out;
}

} // namespace parley::core
