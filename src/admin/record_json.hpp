#pragma once

#include "core/json.hpp"
#include "store/store.hpp"

namespace spacehook::admin {

// The JSON shapes of journal records, shared by the admin API and `spacehook events --json`, so a
// script written against one works against the other. Times are ISO-8601 UTC with milliseconds; an
// unset time (the epoch) is null.

/// An event. `with_body` adds "body": the stored delivery parsed as JSON (or, should it not parse or nest
/// deeper than kMaxJsonDepth, as the raw text under "body_text"). Bodies hold personal data (user.* payloads
/// carry e-mail addresses and phone numbers, docs/docspace-api.md §1.6): lists leave them out.
Json EventJson(const store::EventRecord& event, bool with_body);
/// A run. `with_context` adds the context the dispatcher stored for its steps.
Json RunJson(const store::RunRecord& run, bool with_context);
Json StepJson(const store::StepRecord& step);
Json DeadLetterJson(const store::DeadLetter& dead_letter);

/// "run" / "event", the path segment and JSON value for a dead letter's kind.
std::string_view ToString(store::DeadLetter::Kind kind);
std::optional<store::DeadLetter::Kind> ParseDeadLetterKind(std::string_view text);

}  // namespace spacehook::admin
