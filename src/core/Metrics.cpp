#include "core/Metrics.hpp"

#include <algorithm>
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
    header(out, name, "histogram", help);
    renderSamples(out, name, "");
}

void DurationHistogram::renderSamples(std::string& out, const char* name, std::string_view labels) const {
    const Snapshot s = snapshot();
    std::string prefix = "_bucket{"; // `_bucket{labels,` before each le
    if (!labels.empty()) {
        prefix += labels;
        prefix += ',';
    }
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= kBounds; ++i) {
        cumulative += s.buckets[i];
        const std::string le = prefix + "le=\"" + (i < kBounds ? kBoundLabels[i] : "+Inf") + "\"}";
        sample(out, name, le, std::to_string(cumulative));
    }
    const std::string braced = labels.empty() ? std::string() : "{" + std::string(labels) + "}";
    char sum[32];
    std::snprintf(sum, sizeof sum, "%.9f", static_cast<double>(s.sumNanoseconds) / 1e9);
    sample(out, name, "_sum" + braced, sum);
    sample(out, name, "_count" + braced, std::to_string(s.count));
}

namespace {
// A name of [a-zA-Z_] (and ':' for a metric's) then those and digits.
bool isName(std::string_view name, bool colons) noexcept {
    auto first = [colons](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colons && c == ':');
    };
    if (name.empty() || !first(name[0])) return false;
    for (char c : name)
        if (!first(c) && !(c >= '0' && c <= '9')) return false;
    return true;
}

bool isMetricName(std::string_view name) noexcept { return isName(name, true); }

bool isLabelName(std::string_view name) noexcept {
    return isName(name, false) && name != "le" && !name.starts_with("__");
}

// The text format's escapes: a backslash and a line break, and in a label value (`quotes`) a
// double quote too.
std::string escapeText(std::string_view text, bool quotes) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"' && quotes)
            out += "\\\"";
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

void MetricsRegistry::addHistogram(std::string name, std::string help, std::string_view label,
                                   const std::vector<std::pair<std::string, const DurationHistogram*>>& byValue) {
    if (!isLabelName(label)) throw std::invalid_argument("metrics: not a label name: '" + std::string(label) + "'");
    if (byValue.empty()) throw std::invalid_argument("metrics: " + name + " has no histogram");
    HistogramFamily family;
    std::string twice; // a label="value" given twice, if any
    bool null = false;
    for (const auto& [value, histogram] : byValue) {
        std::string pair(label);
        pair += "=\"";
        pair += escapeText(value, true);
        pair += '"';
        const auto same = [&pair](const auto& seen) { return seen.first == pair; };
        if (twice.empty() && std::any_of(family.series.begin(), family.series.end(), same)) twice = pair;
        null = null || histogram == nullptr;
        family.series.emplace_back(std::move(pair), histogram);
    }
    if (!twice.empty()) throw std::invalid_argument("metrics: " + name + " has " + twice + " twice");
    if (null) throw std::invalid_argument("metrics: " + name + " has a null histogram");
    add(std::move(name), std::move(help), std::move(family));
}

void MetricsRegistry::add(std::string name, std::string help, Figure figure) {
    if (!isMetricName(name)) throw std::invalid_argument("metrics: not a Prometheus metric name: '" + name + "'");
    for (const auto& entry : entries_)
        if (entry.name == name) throw std::invalid_argument("metrics: " + name + " is registered twice");
    entries_.push_back(Entry{std::move(name), escapeText(help, false), std::move(figure)});
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
        else if (const auto* const* histogram = std::get_if<const DurationHistogram*>(&entry.figure))
            (*histogram)->render(out, name, help);
        else {
            header(out, name, "histogram", help);
            for (const auto& [labels, h] : std::get<HistogramFamily>(entry.figure).series)
                h->renderSamples(out, name, labels);
        }
    }
    return out;
}

} // namespace parley::core
