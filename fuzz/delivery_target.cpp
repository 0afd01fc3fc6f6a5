// Target (a): what an unauthenticated caller controls at the ingress, minus HTTP framing: the signature
// header, the body, and (to cover every key shape) the secret.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <string>
#include <utility>

#include "core/clock.hpp"
#include "core/hmac_sha256.hpp"
#include "core/json_depth.hpp"
#include "fuzz_targets.hpp"
#include "ingress/envelope.hpp"
#include "ingress/signature.hpp"

namespace spacehook::fuzz {

namespace {

std::string_view NextLine(std::string_view& input) {
    const auto end = input.find('\n');
    const std::string_view line = input.substr(0, end);
    input.remove_prefix(end == std::string_view::npos ? input.size() : end + 1);
    return line;
}

std::string Lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

// The reference answer, written independently of VerifySignature: the header, without surrounding
// blanks, is exactly "sha256=" and the MAC in either case.
bool IsTheRightMac(std::string_view header, std::string_view secret, std::string_view body) {
    while (!header.empty() && (header.front() == ' ' || header.front() == '\t')) header.remove_prefix(1);
    while (!header.empty() && (header.back() == ' ' || header.back() == '\t')) header.remove_suffix(1);
    if (header.substr(0, 7) != "sha256=") return false;
    return Lower(header.substr(7)) == HmacSha256Hex(secret, body, /*upper_case=*/false);
}

void CheckSignature(const std::string& header, const std::string& secret, std::string_view body) {
    using ingress::SignatureVerdict;
    using ingress::VerifySignature;
    const std::vector<std::string> secrets = {secret};

    // Both ways: a wrong MAC is never accepted, and the right one (however the fuzzer came by it: the
    // seeds carry signed bodies) never refused.
    const bool valid = VerifySignature(&header, body, secrets) == SignatureVerdict::kValid;
    const bool right_mac = IsTheRightMac(header, secret, body);
    Require(!valid || right_mac, "VerifySignature accepted a MAC that is not HMAC-SHA256(secret, body)");
    Require(valid || !right_mac, "VerifySignature refused the right MAC");
    Require(VerifySignature(&header, body, {}) != SignatureVerdict::kValid,
            "VerifySignature accepted a delivery with no secret configured");
    Require(VerifySignature(nullptr, body, secrets) == SignatureVerdict::kMissing,
            "an absent header is not kMissing");

    // What DocSpace sends is accepted, in either case, under a rotation list in any order.
    const std::string right = ingress::SignatureHeaderValue(secret, body);
    Require(VerifySignature(&right, body, secrets) == SignatureVerdict::kValid, "the right MAC is refused");
    const std::string right_lower = ingress::SignatureHeaderValue(secret, body, /*upper_case=*/false);
    const std::vector<std::string> rotation = {secret + "-old", secret};
    Require(VerifySignature(&right_lower, body, rotation) == SignatureVerdict::kValid,
            "the right lower-case MAC is refused during a rotation");

    // One changed digit, another secret, or one more body byte: refused.
    std::string flipped = right;
    flipped.back() = flipped.back() == '0' ? '1' : '0';
    Require(VerifySignature(&flipped, body, secrets) == SignatureVerdict::kMismatch,
            "a MAC with one digit changed is not kMismatch");
    const std::vector<std::string> other = {secret + "x"};
    Require(VerifySignature(&right, body, other) != SignatureVerdict::kValid,
            "a MAC under another secret is accepted");
    const std::string longer = std::string(body) + " ";
    Require(VerifySignature(&right, longer, secrets) != SignatureVerdict::kValid,
            "a MAC of another body is accepted");
}

void CheckEnvelope(const std::string& header, std::string_view body) {
    auto envelope = ingress::ParseEnvelope(body);
    if (!envelope) {
        Require(envelope.error().code == ErrorCode::kInvalidArgument,
                "ParseEnvelope failed with another code");
        return;
    }
    Require(!envelope->trigger.empty(), "an envelope without a trigger was accepted");
    Require(!envelope->dedupe_id.empty(), "an envelope without a dedupe key was accepted");
    Require(JsonNestingDepth(body) <= kMaxJsonDepth, "an envelope nested past kMaxJsonDepth was accepted");
    // The dedupe key is what keeps a retry from running twice: it must not depend on anything but the body.
    auto again = ingress::ParseEnvelope(body);
    Require(again && again->dedupe_id == envelope->dedupe_id, "the dedupe key is not deterministic");

    const store::NewDelivery delivery = ingress::ToNewDelivery(*envelope, std::string(body), TimePoint{});
    Require(delivery.body == body, "the journal row does not hold the exact bytes");
    Require(delivery.event_id == envelope->dedupe_id, "the journal row is not keyed by the dedupe key");

    // The unsigned transport headers can only reject; each is fed the first line as text, alone too (an
    // event-id mismatch would otherwise answer before the timestamp is read).
    using Headers = std::pair<const std::string*, const std::string*>;
    for (const auto& [event_id, timestamp] :
         {Headers{&header, &header}, Headers{&header, nullptr}, Headers{nullptr, &header}}) {
        const auto checked = ingress::CheckTransportHeaders(*envelope, event_id, timestamp);
        Require(checked || checked.error().code == ErrorCode::kInvalidArgument,
                "CheckTransportHeaders failed with another code");
    }
    Require(static_cast<bool>(ingress::CheckTransportHeaders(*envelope, nullptr, nullptr)),
            "absent transport headers were refused");
    const TimePoint now = FromUnixMillis(1'782'815'101'000);  // 2026-06-30T10:25:01Z
    const auto fresh = ingress::CheckFreshness(*envelope, std::chrono::minutes(5), now);
    Require(fresh || fresh.error().code == ErrorCode::kInvalidArgument,
            "CheckFreshness failed with another code");
    Require(static_cast<bool>(ingress::CheckFreshness(*envelope, std::chrono::milliseconds(0), now)),
            "the freshness check refused with the limit off");
}

}  // namespace

void FuzzDelivery(std::string_view input) {
    const std::string header(NextLine(input));
    const std::string secret(NextLine(input));
    const std::string_view body = input;
    CheckSignature(header, secret, body);
    CheckEnvelope(header, body);
}

}  // namespace spacehook::fuzz
