#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/diagnostics.hpp"
#include "config/document.hpp"
#include "core/entity_id.hpp"
#include "rules/event.hpp"
#include "rules/facts.hpp"

namespace spacehook::rules {

enum class ConditionKind {
    kAll,
    kAny,
    kNot,
    kTrigger,
    kKind,
    kInRoom,
    kInFolder,
    kTitle,
    kExtension,
    kActor,
    kUserType
};

/// A compiled title test (RE2 inside, kept out of this header).
class TitleMatcher;

/// One node of a rule's `if:` tree, compiled at load: names validated, regexes compiled, ids parsed.
struct Condition {
    ConditionKind kind = ConditionKind::kAll;
    config::SourceLocation location;
    /// How the node reads in `check` and `test-rule`: `title starts_with "invoice" (ignore case)`.
    std::string description;
    /// The `if:` map itself, or a map inside all/any: an all() that is not shown as its own line.
    bool implicit = false;
    std::vector<Condition> children;  ///< all / any / not
    std::vector<std::string> values;  ///< trigger patterns, kinds, extensions, actor ids/e-mails
    std::vector<EntityId> ids;        ///< in_room / in_folder
    bool subtree = false;             ///< in_folder: anywhere below instead of direct parent
    std::shared_ptr<const TitleMatcher> title;
};

/// What a rule's `on:` lets its events be about; conditions and templates that can never apply are
/// load errors ("in_room" on user.* triggers).
struct RuleScope {
    std::set<EntityKind> kinds;
    std::vector<std::string> patterns;  ///< the `on:` list: names, "family.*", "*"
    std::string triggers;               ///< "user.created, user.invited", for messages

    [[nodiscard]] bool Allows(EntityKind kind) const { return kinds.count(kind) != 0; }
};

/// Compiles the condition map at `pointer` (the `if:` block). Problems go to `diagnostics` with their
/// location; nullopt when there was any.
std::optional<Condition> CompileCondition(const config::Document& doc, const std::string& pointer,
                                          const RuleScope& scope, config::Diagnostics& diagnostics);

/// Three-valued result: a condition that depends on a fact the caller has not resolved is kUnknown.
enum class Truth { kNo, kYes, kUnknown };

/// One line of an explanation: how a node evaluated and why.
struct ConditionTrace {
    int depth = 0;
    Truth truth = Truth::kUnknown;
    std::string text;
};

/// Evaluates `condition`. all/any/not follow Kleene logic (no && unknown = no, yes || unknown = yes).
/// `missing` collects the facts whose absence made a leaf unknown; `trace` (optional) gets one line per
/// node. Pure.
Truth Evaluate(const Condition& condition, const Event& event, const Facts& facts, NeededFacts* missing,
               std::vector<ConditionTrace>* trace, int depth = 0);

/// The condition as indented lines for `check` (no evaluation).
void Describe(const Condition& condition, int depth, std::vector<std::string>& lines);

/// The facts a condition may need when none are resolved (every leaf that depends on one).
NeededFacts FactsOf(const Condition& condition);

/// Does trigger pattern `pattern` ("file.created", "file.*", "*") cover `trigger`?
bool TriggerPatternMatches(std::string_view pattern, std::string_view trigger);

}  // namespace spacehook::rules
