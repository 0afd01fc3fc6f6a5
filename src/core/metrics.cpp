#include "core/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace spacehook {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
    std::sort(bounds_.begin(), bounds_.end());
    for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double value) {
    const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
    buckets_[static_cast<size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    if (value > 0) sum_micro_.fetch_add(static_cast<std::uint64_t>(value * 1e6), std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::BucketCounts() const {
    std::vector<std::uint64_t> out(bounds_.size() + 1);
    for (size_t i = 0; i <= bounds_.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
    return out;
}

double Histogram::Sum() const {
    return static_cast<double>(sum_micro_.load(std::memory_order_relaxed)) / 1e6;
}

double Histogram::Quantile(double q) const {
    const auto counts = BucketCounts();
    std::uint64_t total = 0;
    for (auto c : counts) total += c;
    if (total == 0) return 0;
    const double rank = q * static_cast<double>(total);
    double seen = 0;
    for (size_t i = 0; i < counts.size(); ++i) {
        if (seen + static_cast<double>(counts[i]) >= rank && counts[i] > 0) {
            const double lo = i == 0 ? 0 : bounds_[i - 1];
            const double hi = i < bounds_.size() ? bounds_[i] : lo;
            const double frac = (rank - seen) / static_cast<double>(counts[i]);
            return lo + (hi - lo) * frac;
        }
        seen += static_cast<double>(counts[i]);
    }
    return bounds_.empty() ? 0 : bounds_.back();
}

MetricsRegistry::Series& MetricsRegistry::GetSeries(const std::string& name, const std::string& help,
                                                    Kind kind, const Labels& labels) {
    std::lock_guard lock(mu_);
    auto [it, inserted] = families_.try_emplace(name, Family{kind, help, {}});
    if (!inserted && it->second.kind != kind) {
        throw std::logic_error("metric " + name + " registered with two kinds");
    }
    for (auto& s : it->second.series) {
        if (s->labels == labels) return *s;
    }
    auto series = std::make_unique<Series>();
    series->labels = labels;
    it->second.series.push_back(std::move(series));
    return *it->second.series.back();
}

Counter& MetricsRegistry::GetCounter(const std::string& name, const std::string& help, const Labels& labels) {
    auto& s = GetSeries(name, help, Kind::kCounter, labels);
    std::lock_guard lock(mu_);
    if (!s.counter) s.counter = std::make_unique<Counter>();
    return *s.counter;
}

Gauge& MetricsRegistry::GetGauge(const std::string& name, const std::string& help, const Labels& labels) {
    auto& s = GetSeries(name, help, Kind::kGauge, labels);
    std::lock_guard lock(mu_);
    if (!s.gauge) s.gauge = std::make_unique<Gauge>();
    return *s.gauge;
}

Histogram& MetricsRegistry::GetHistogram(const std::string& name, const std::string& help,
                                         const std::vector<double>& bounds, const Labels& labels) {
    auto& s = GetSeries(name, help, Kind::kHistogram, labels);
    std::lock_guard lock(mu_);
    if (!s.histogram) s.histogram = std::make_unique<Histogram>(bounds);
    return *s.histogram;
}

void MetricsRegistry::AddGaugeCallback(const std::string& name, const std::string& help,
                                       std::function<double()> fn, const Labels& labels) {
    auto& s = GetSeries(name, help, Kind::kGauge, labels);
    std::lock_guard lock(mu_);
    s.callback = std::move(fn);
}

void MetricsRegistry::AddCounterCallback(const std::string& name, const std::string& help,
                                         std::function<double()> fn, const Labels& labels) {
    if (!name.ends_with("_total")) throw std::logic_error("counter " + name + " must end in _total");
    auto& s = GetSeries(name, help, Kind::kCounter, labels);
    std::lock_guard lock(mu_);
    s.callback = std::move(fn);
}

bool MetricsRegistry::IsCounter(const std::string& name) const {
    std::lock_guard lock(mu_);
    const auto it = families_.find(name);
    return it != families_.end() && it->second.kind == Kind::kCounter;
}

namespace {
std::string EscapeLabel(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

std::string RenderLabels(const Labels& labels, const std::string& extra_key = {},
                         const std::string& extra_value = {}) {
    if (labels.empty() && extra_key.empty()) return {};
    std::string out = "{";
    bool first = true;
    for (const auto& [k, v] : labels) {
        if (!first) out += ',';
        first = false;
        out += k + "=\"" + EscapeLabel(v) + "\"";
    }
    if (!extra_key.empty()) {
        if (!first) out += ',';
        out += extra_key + "=\"" + extra_value + "\"";
    }
    out += '}';
    return out;
}

std::string FormatValue(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    return fmt::format("{}", v);
}
}  // namespace

std::string MetricsRegistry::RenderPrometheus() const {
    // Callbacks run under our lock: they must not register metrics (they read a store or a counter).
    std::string out;
    std::lock_guard lock(mu_);
    for (const auto& [name, family] : families_) {
        const char* type = family.kind == Kind::kCounter ? "counter"
                           : family.kind == Kind::kGauge ? "gauge"
                                                         : "histogram";
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, family.help, name, type);
        for (const auto& s : family.series) {
            if (s->callback) {
                out += fmt::format("{}{} {}\n", name, RenderLabels(s->labels), FormatValue(s->callback()));
            } else if (s->counter) {
                out += fmt::format("{}{} {}\n", name, RenderLabels(s->labels), s->counter->Value());
            } else if (s->gauge) {
                out +=
                    fmt::format("{}{} {}\n", name, RenderLabels(s->labels), FormatValue(s->gauge->Value()));
            } else if (s->histogram) {
                const auto counts = s->histogram->BucketCounts();
                std::uint64_t cumulative = 0;
                for (size_t i = 0; i < counts.size(); ++i) {
                    cumulative += counts[i];
                    const std::string le =
                        i < s->histogram->bounds().size() ? FormatValue(s->histogram->bounds()[i]) : "+Inf";
                    out +=
                        fmt::format("{}_bucket{} {}\n", name, RenderLabels(s->labels, "le", le), cumulative);
                }
                out += fmt::format("{}_sum{} {}\n", name, RenderLabels(s->labels),
                                   FormatValue(s->histogram->Sum()));
                out += fmt::format("{}_count{} {}\n", name, RenderLabels(s->labels), cumulative);
            }
        }
    }
    return out;
}

const std::vector<double>& LatencyBucketsSeconds() {
    static const std::vector<double> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                 0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
    return kBuckets;
}

}  // namespace spacehook
