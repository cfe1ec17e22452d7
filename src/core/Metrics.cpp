#include "core/Metrics.hpp"

#include <cstdio>
#include <stdexcept>
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
void renderValue(std::string& out, const char* name, const char* type, const char* help, const std::atomic<T>& value) {
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

namespace {
bool isMetricName(std::string_view name) noexcept {
    auto first = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; };
    if (name.empty() || !first(name[0])) return false;
    for (char c : name)
        if (!first(c) && !(c >= '0' && c <= '9')) return false;
    return true;
}

// The text format's HELP escapes: a backslash and a line break.
std::string escapeHelp(std::string_view help) {
    std::string out;
    out.reserve(help.size());
    for (char c : help) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}
} // namespace

void MetricsRegistry::addCounter(std::string name, std::string help, const std::atomic<std::uint64_t>& value) {
    add(std::move(name), std::move(help), &value);
}

void MetricsRegistry::addGauge(std::string name, std::string help, const std::atomic<std::int64_t>& value) {
    add(std::move(name), std::move(help), &value);
}

void MetricsRegistry::addHistogram(std::string name, std::string help, const DurationHistogram& histogram) {
    add(std::move(name), std::move(help), &histogram);
}

void MetricsRegistry::add(std::string name, std::string help, Figure figure) {
    if (!isMetricName(name)) throw std::invalid_argument("metrics: not a Prometheus metric name: '" + name + "'");
    for (const auto& entry : entries_)
        if (entry.name == name) throw std::invalid_argument("metrics: " + name + " is registered twice");
    entries_.push_back(Entry{std::move(name), escapeHelp(help), figure});
}

std::string MetricsRegistry::render() const {
    std::string out;
    for (const auto& entry : entries_) {
        const char* name = entry.name.c_str();
        const char* help = entry.help.c_str();
        if (const auto* const* counter = std::get_if<const std::atomic<std::uint64_t>*>(&entry.figure))
            renderValue(out, name, "counter", help, **counter);
        else if (const auto* const* gauge = std::get_if<const std::atomic<std::int64_t>*>(&entry.figure))
            renderValue(out, name, "gauge", help, **gauge);
        else
            std::get<const DurationHistogram*>(entry.figure)->render(out, name, help);
    }
    return out;
}

} // namespace parley::core
