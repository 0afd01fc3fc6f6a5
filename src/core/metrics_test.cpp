#include "core/metrics.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

using namespace spacehook;

TEST(Metrics, RendersPrometheusText) {
    MetricsRegistry registry;
    registry.GetCounter("spacehook_deliveries_total", "Deliveries by outcome", {{"outcome", "stored"}})
        .Inc(3);
    registry.GetCounter("spacehook_deliveries_total", "Deliveries by outcome", {{"outcome", "bad_signature"}})
        .Inc();
    auto& h = registry.GetHistogram("spacehook_ack_seconds", "Ack latency", {0.001, 0.01});
    h.Observe(0.0005);
    h.Observe(0.005);
    h.Observe(1);
    registry.AddGaugeCallback("spacehook_journal_events", "Events in the journal", [] { return 42.0; });
    const auto text = registry.RenderPrometheus();
    EXPECT_NE(text.find("# TYPE spacehook_deliveries_total counter"), std::string::npos);
    EXPECT_NE(text.find("spacehook_deliveries_total{outcome=\"stored\"} 3"), std::string::npos);
    EXPECT_NE(text.find("spacehook_ack_seconds_bucket{le=\"0.001\"} 1"), std::string::npos);
    EXPECT_NE(text.find("spacehook_ack_seconds_bucket{le=\"0.01\"} 2"), std::string::npos);
    EXPECT_NE(text.find("spacehook_ack_seconds_bucket{le=\"+Inf\"} 3"), std::string::npos);
    EXPECT_NE(text.find("spacehook_ack_seconds_count 3"), std::string::npos);
    EXPECT_NE(text.find("spacehook_journal_events 42"), std::string::npos);
}

TEST(Metrics, SameSeriesIsReturnedTwice) {
    MetricsRegistry registry;
    auto& a = registry.GetCounter("c", "h", {{"k", "v"}});
    auto& b = registry.GetCounter("c", "h", {{"k", "v"}});
    EXPECT_EQ(&a, &b);
}

TEST(Metrics, QuantileFromBuckets) {
    Histogram h({1, 2, 3, 4});
    for (int i = 0; i < 100; ++i) h.Observe(0.5);
    EXPECT_LE(h.Quantile(0.99), 1.0);
    h.Observe(3.5);
    EXPECT_GT(h.Quantile(1.0), 3.0);
}

TEST(Metrics, CounterCallbacksAreTypedCounterAndNamedTotal) {
    MetricsRegistry registry;
    std::uint64_t accepted = 7;
    registry.AddCounterCallback("spacehook_http_connections_accepted_total", "Connections accepted",
                                [&accepted] { return static_cast<double>(accepted); },
                                {{"listener", "webhook"}});
    accepted = 9;
    const auto text = registry.RenderPrometheus();
    EXPECT_NE(text.find("# TYPE spacehook_http_connections_accepted_total counter"), std::string::npos);
    EXPECT_NE(text.find("spacehook_http_connections_accepted_total{listener=\"webhook\"} 9"),
              std::string::npos);
    EXPECT_TRUE(registry.IsCounter("spacehook_http_connections_accepted_total"));
    // A cumulative series without _total would break Prometheus naming; refused at registration.
    EXPECT_THROW(registry.AddCounterCallback("spacehook_http_requests", "h", [] { return 0.0; }),
                 std::logic_error);
}
