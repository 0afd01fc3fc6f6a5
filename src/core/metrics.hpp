#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace spacehook {

/// Labels of one series, e.g. {{"outcome", "stored"}}. Never put secrets or unbounded values here.
using Labels = std::vector<std::pair<std::string, std::string>>;

/// A monotonically increasing count. Lock-free.
class Counter {
public:
    void Inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

/// A value that goes up and down.
class Gauge {
public:
    void Set(double v) { value_.store(v, std::memory_order_relaxed); }
    [[nodiscard]] double Value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0};
};

/// Cumulative histogram with fixed upper bounds (Prometheus semantics). Lock-free observe.
class Histogram {
public:
    explicit Histogram(std::vector<double> bounds);
    void Observe(double value);
    [[nodiscard]] const std::vector<double>& bounds() const { return bounds_; }
    /// Per-bucket (non-cumulative) counts; the last entry is +Inf.
    [[nodiscard]] std::vector<std::uint64_t> BucketCounts() const;
    [[nodiscard]] std::uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
    [[nodiscard]] double Sum() const;
    /// Estimated quantile (0..1) from the buckets, linear inside a bucket.
    [[nodiscard]] double Quantile(double q) const;

private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
    std::atomic<std::uint64_t> count_{0};
    std::atomic<std::uint64_t> sum_micro_{0};  // sum in millionths, to stay lock-free
};

/// All metrics of one process, rendered as Prometheus text exposition format 0.0.4. Registration is
/// thread-safe; returned references stay valid for the registry's lifetime.
class MetricsRegistry {
public:
    Counter& GetCounter(const std::string& name, const std::string& help, const Labels& labels = {});
    Gauge& GetGauge(const std::string& name, const std::string& help, const Labels& labels = {});
    Histogram& GetHistogram(const std::string& name, const std::string& help,
                            const std::vector<double>& bounds, const Labels& labels = {});
    /// A gauge computed at scrape time (journal size, queue depth). Failing callbacks must return NaN.
    void AddGaugeCallback(const std::string& name, const std::string& help, std::function<double()> fn,
                          const Labels& labels = {});
    /// A counter kept elsewhere (the HTTP server's, the store's) and read at scrape time. Its name ends
    /// in `_total` and `fn` never goes down while the process lives, so rate() works on it.
    void AddCounterCallback(const std::string& name, const std::string& help, std::function<double()> fn,
                            const Labels& labels = {});
    /// Whether `name` is registered, and as a counter (tests of the exposition's types).
    [[nodiscard]] bool IsCounter(const std::string& name) const;

    [[nodiscard]] std::string RenderPrometheus() const;

private:
    enum class Kind { kCounter, kGauge, kHistogram };
    struct Series {
        Labels labels;
        std::unique_ptr<Counter> counter;
        std::unique_ptr<Gauge> gauge;
        std::unique_ptr<Histogram> histogram;
        std::function<double()> callback;
    };
    struct Family {
        Kind kind;
        std::string help;
        std::vector<std::unique_ptr<Series>> series;
    };
    Series& GetSeries(const std::string& name, const std::string& help, Kind kind, const Labels& labels);

    mutable std::mutex mu_;
    std::map<std::string, Family> families_;
};

/// Latency buckets in seconds suited to a webhook ack (0.1 ms .. 10 s).
const std::vector<double>& LatencyBucketsSeconds();

}  // namespace spacehook
