#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace parley::core {

/// A Prometheus histogram of durations: fixed bounds from 0.1 ms to 5 s in 1-2-5 steps, so a
/// sync of a fast disk (a few hundred microseconds) and a stalled one (hundreds of milliseconds)
/// both land in a bucket of their own. observe() is a few relaxed atomic adds, safe from any
/// thread; render() reads each figure once, and derives the count from the buckets so that the
/// +Inf bucket and _count always agree.
class DurationHistogram {
public:
    static constexpr std::size_t kBounds = 15;

    void observe(std::chrono::nanoseconds duration) noexcept;

    /// The i-th upper bound (i < kBounds); above the last is the +Inf bucket.
    static std::chrono::nanoseconds bound(std::size_t i) noexcept;

    struct Snapshot {
        std::array<std::uint64_t, kBounds + 1> buckets{}; ///< per bucket, NOT cumulative; [kBounds] = +Inf
        std::uint64_t count = 0;
        std::uint64_t sumNanoseconds = 0;
    };
    Snapshot snapshot() const noexcept;

    /// Appends the HELP, TYPE, _bucket (cumulative), _sum and _count lines of `name`.
    void render(std::string& out, const char* name, const char* help) const;
    /// Appends the _bucket, _sum and _count lines of `name` alone, each with `labels` (one or
    /// more `key="value"` pairs, already escaped, comma-separated; "" for none) before any `le`.
    void renderSamples(std::string& out, const char* name, std::string_view labels) const;

private:
    std::array<std::atomic<std::uint64_t>, kBounds + 1> buckets_{};
    std::atomic<std::uint64_t> sumNanoseconds_{0};
};

/// The figures of /metrics and how they are shown, in the Prometheus text format. Core provides
/// only this mechanism: each layer declares its own figures (relaxed atomics and histograms in a
/// `struct Metrics` of its own, counted on its hot paths without ever touching the registry) and
/// registers them here, by reference, at start-up.
///
/// Registration happens before serving, on one thread; render() then only reads, from any
/// thread. Every registered figure must outlive the registry's last render().
class MetricsRegistry {
public:
    /// A counter (only grows). Throws std::invalid_argument when `name` is not a Prometheus
    /// metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or is already registered.
    void addCounter(std::string name, std::string help, const std::atomic<std::uint64_t>& value);
    /// A gauge (a level that rises and falls). Throws as addCounter().
    void addGauge(std::string name, std::string help, const std::atomic<std::int64_t>& value);
    /// A histogram of durations, in seconds. Throws as addCounter().
    void addHistogram(std::string name, std::string help, const DurationHistogram& histogram);
    /// Histograms of durations split by one label: one DurationHistogram per value of `label`
    /// (e.g. result="ok" and result="error"), shown as one family under one HELP and TYPE, each
    /// sample carrying its value. A hot path picks its histogram itself, so a label costs it
    /// nothing. Throws as addCounter(), and std::invalid_argument when `label` is not a
    /// Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not "le", not starting "__"), or
    /// `byValue` is empty or names a value twice.
    void addHistogram(std::string name, std::string help, std::string_view label,
                      const std::vector<std::pair<std::string, const DurationHistogram*>>& byValue);

    /// The HELP, TYPE and sample lines of every figure, in the order of registration.
    std::string render() const;

private:
    // A labelled family: each histogram with its `label="value"`, as rendered.
    struct HistogramFamily {
        std::vector<std::pair<std::string, const DurationHistogram*>> series;
    };
    using Figure = std::variant<const std::atomic<std::uint64_t>*, const std::atomic<std::int64_t>*,
                                const DurationHistogram*, HistogramFamily>;
    struct Entry {
        std::string name;
        std::string help; // escaped for the HELP line
        Figure figure;
    };
    void add(std::string name, std::string help, Figure figure);

    std::vector<Entry> entries_;
};

} // namespace parley::core
