// AlertPolicy with an injected time: grouping, throttling per kind, resolution, flapping, and the state
// surviving a restart through its JSON.
#include "watch/alert_policy.hpp"

#include <gtest/gtest.h>

namespace spacehook::watch {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint kT0 = FromUnixMillis(1'780'000'000'000);
constexpr auto kThrottle = minutes(15);

AlertOccurrence DeadLetter(std::string rule) {
    return {AlertKind::kDeadLetters, "run dead-lettered: rule " + std::move(rule), 1};
}
AlertCondition Backlog(bool firing) {
    return {AlertKind::kBacklog, firing, "the oldest pending run waits for 20m"};
}

int Count(const AlertMessage& message, AlertKind kind) {
    int n = 0;
    for (const auto& line : message.lines) {
        if (line.kind == kind && line.what == AlertLine::What::kHappened) n += line.count;
    }
    return n;
}

TEST(AlertPolicy, FiveHundredDeadLettersAreOneMessage) {
    AlertPolicy policy(kThrottle);
    std::vector<AlertOccurrence> burst(500, DeadLetter("intake"));
    auto message = policy.Round(burst, {}, kT0);
    ASSERT_TRUE(message);
    EXPECT_EQ(Count(*message, AlertKind::kDeadLetters), 500);
    EXPECT_LE(message->lines.size(), 6U);  // five texts and "and 495 more"
    EXPECT_NE(message->Body().find("and 495 more"), std::string::npos) << message->Body();
    EXPECT_EQ(message->Subject("portal.example.com"), "spacehook on portal.example.com: dead letters");
}

TEST(AlertPolicy, WithinTheThrottleOccurrencesWaitAndJoinTheNextMessage) {
    AlertPolicy policy(kThrottle);
    ASSERT_TRUE(policy.Round({DeadLetter("a")}, {}, kT0));
    // Every minute more: nothing goes out until the kind's throttle has passed, then all of them at once.
    for (int i = 1; i < 15; ++i) {
        EXPECT_FALSE(policy.Round({DeadLetter("b"), DeadLetter("c")}, {}, kT0 + minutes(i))) << i;
    }
    auto message = policy.Round({}, {}, kT0 + minutes(15));
    ASSERT_TRUE(message);
    EXPECT_EQ(Count(*message, AlertKind::kDeadLetters), 28);
    EXPECT_FALSE(policy.Round({}, {}, kT0 + minutes(16)));
}

TEST(AlertPolicy, KindsAreThrottledApartAndGroupedWhenDue) {
    AlertPolicy policy(kThrottle);
    ASSERT_TRUE(policy.Round({DeadLetter("a")}, {}, kT0));
    // Another kind is not held back by the first one's throttle; the two due at once share a message.
    auto message =
        policy.Round({{AlertKind::kRecovered, "recovered 3 deliveries", 3}},
                     {{AlertKind::kSubscription, true, "disabled by the portal"}}, kT0 + minutes(1));
    ASSERT_TRUE(message);
    EXPECT_EQ(message->lines.size(), 2U);
    EXPECT_EQ(message->Subject(""), "spacehook: subscription, recovered deliveries");
    EXPECT_NE(message->Body().find("FIRING subscription: disabled by the portal"), std::string::npos);
    EXPECT_NE(message->Body().find("NOTE recovered deliveries: recovered 3 deliveries"), std::string::npos);
}

TEST(AlertPolicy, AConditionIsToldOnceWhileFiringAndOnceWhenItClears) {
    AlertPolicy policy(kThrottle);
    EXPECT_FALSE(policy.Round({}, {Backlog(false)}, kT0));
    auto fired = policy.Round({}, {Backlog(true)}, kT0 + minutes(1));
    ASSERT_TRUE(fired);
    ASSERT_EQ(fired->lines.size(), 1U);
    EXPECT_EQ(fired->lines[0].what, AlertLine::What::kFiring);
    for (int i = 2; i < 120; ++i) EXPECT_FALSE(policy.Round({}, {Backlog(true)}, kT0 + minutes(i))) << i;
    ASSERT_EQ(policy.Firing().size(), 1U);
    auto resolved = policy.Round({}, {Backlog(false)}, kT0 + minutes(120));
    ASSERT_TRUE(resolved);
    ASSERT_EQ(resolved->lines.size(), 1U);
    EXPECT_EQ(resolved->lines[0].what, AlertLine::What::kResolved);
    EXPECT_EQ(resolved->Subject(""), "spacehook: resolved: backlog");
    EXPECT_TRUE(policy.Firing().empty());
    EXPECT_FALSE(policy.Round({}, {Backlog(false)}, kT0 + minutes(200)));
}

TEST(AlertPolicy, AFlappingConditionIsNotResolvedAndFiredAgain) {
    AlertPolicy policy(kThrottle);
    ASSERT_TRUE(policy.Round({}, {Backlog(true)}, kT0));
    // Clears, fires, clears within the throttle: the resolution waits for the throttle...
    EXPECT_FALSE(policy.Round({}, {Backlog(false)}, kT0 + minutes(2)));
    EXPECT_FALSE(policy.Round({}, {Backlog(true)}, kT0 + minutes(4)));
    // ...and, firing again when it is allowed, is no news at all.
    EXPECT_FALSE(policy.Round({}, {Backlog(true)}, kT0 + minutes(20)));
    // Cleared for good: one resolution (the throttle since the firing message has passed), then quiet.
    auto resolved = policy.Round({}, {Backlog(false)}, kT0 + minutes(21));
    ASSERT_TRUE(resolved);
    ASSERT_EQ(resolved->lines.size(), 1U);
    EXPECT_EQ(resolved->lines[0].what, AlertLine::What::kResolved);
    for (int i = 22; i < 60; ++i) EXPECT_FALSE(policy.Round({}, {Backlog(false)}, kT0 + minutes(i))) << i;
}

TEST(AlertPolicy, AConditionNotSeenKeepsItsState) {
    AlertPolicy policy(kThrottle);
    ASSERT_TRUE(policy.Round({}, {{AlertKind::kSubscription, true, "deleted"}}, kT0));
    // The portal did not answer: the subscription's state is unknown, so it is not resolved.
    for (int i = 1; i < 60; ++i) EXPECT_FALSE(policy.Round({}, {}, kT0 + minutes(i)));
    ASSERT_EQ(policy.Firing().size(), 1U);
    EXPECT_EQ(policy.Firing()[0].text, "deleted");
}

TEST(AlertPolicy, ARestartNeitherRepeatsNorForgets) {
    AlertPolicy before(kThrottle);
    ASSERT_TRUE(before.Round({DeadLetter("a")}, {Backlog(true)}, kT0));
    EXPECT_FALSE(before.Round({DeadLetter("b"), DeadLetter("c")}, {Backlog(true)}, kT0 + minutes(1)));
    AlertPolicy after(kThrottle);
    after.Restore(Json::parse(before.ToJson().dump()));
    EXPECT_EQ(after.ToJson(), before.ToJson());
    // Still firing after the restart: not told again. The two waiting dead letters go out on time.
    EXPECT_FALSE(after.Round({}, {Backlog(true)}, kT0 + minutes(2)));
    auto message = after.Round({}, {Backlog(true)}, kT0 + minutes(15));
    ASSERT_TRUE(message);
    EXPECT_EQ(Count(*message, AlertKind::kDeadLetters), 2);
    EXPECT_EQ(message->lines.size(), 2U);
    // Text that is not a policy leaves it fresh.
    AlertPolicy odd(kThrottle);
    odd.Restore(Json{{"kinds", {{"backlog", {{"firing", "yes"}}}}}});
    EXPECT_TRUE(odd.Firing().empty());
    odd.Restore(Json("nonsense"));
    EXPECT_TRUE(odd.Firing().empty());
}

}  // namespace
}  // namespace spacehook::watch
