// Target (c): one template string as a rule file may hold it, rendered over a context shaped like the
// dispatcher's (rules/template_context.hpp), with values of every JSON type and some awkward text.
#include <string>

#include "fuzz_targets.hpp"
#include "rules/condition.hpp"
#include "rules/template.hpp"
#include "rules/template_context.hpp"

namespace spacehook::fuzz {

namespace {

const Json& FixedContext() {
    static const Json kContext = Json::parse(R"({
        "event": {"id": 4821, "trigger": "file.created", "triggerId": 128, "createOn": "2026-06-30T10:15:42Z",
                  "createBy": "66faa6e4-f133-11ea-b126-00ffeec8b4ef"},
        "payload": {"id": 1234, "parentId": 567, "title": "Invoice 0042 (final).docx", "fileEntryType": 2,
                    "securityByUsers": {}, "tags": ["a", "b c", "ü/ß"], "empty": "", "nothing": null,
                    "size": 1.5e3, "negative": -9223372036854775808, "big": 18446744073709551615,
                    "flag": false, "nested": {"list": [[1, 2], {"k": "v"}], "quote": "say \"hi\"\n\ttab"}},
        "webhook": {"id": 7, "name": "automation", "triggers": ["file.created"]},
        "entity": {"id": 1234, "kind": "file", "title": "Invoice 0042 (final).docx", "parentId": 567},
        "file": {"id": 1234, "title": "Invoice 0042 (final).docx", "fileExst": ".docx", "webUrl": "https://p/x?a=1&b=2"},
        "folder": {"id": 567, "title": "Incoming"},
        "room": {"id": 890, "title": "Client ACME", "webUrl": "https://portal.example.com/rooms/890"},
        "user": {"id": "5e0b5d7c-2f6e-4b8e-9a51-1c2d3e4f5a6b", "displayName": "Jane Doe", "email": "jane.doe@example.com"},
        "actor": {"id": "66faa6e4-f133-11ea-b126-00ffeec8b4ef", "email": "admin@example.com"},
        "rule": {"name": "invoice-intake"},
        "run": {"key": "invoice-intake:file:1234:file.created"},
        "steps": {"room": {"id": 9001, "title": "Room"}, "mail": {"id": "m-1"}}
    })");
    return kContext;
}

const rules::RuleScope& FixedScope() {
    static const rules::RuleScope kScope = [] {
        rules::RuleScope scope;
        scope.kinds = {rules::EntityKind::kFile, rules::EntityKind::kFolder, rules::EntityKind::kRoom};
        scope.patterns = {"file.*", "folder.*", "room.*"};
        scope.triggers = "file.*, folder.*, room.*";
        return scope;
    }();
    return kScope;
}

bool IsUtf8(const std::string& text) {
    try {
        (void)Json(text).dump();
        return true;
    } catch (const Json::type_error&) {
        return false;
    }
}

}  // namespace

void FuzzTemplate(std::string_view input) {
    const std::string text(input);
    auto parsed = rules::Template::Parse(text);
    if (!parsed) {
        Require(parsed.error().code == ErrorCode::kConfig, "Template::Parse failed with another code");
        return;
    }
    Require(rules::Template::HasExpressions(text) || !parsed->IsSingleExpression(),
            "a text without '{{' parsed as an expression");
    for (const auto* expression : parsed->Expressions()) {
        Require(!expression->operands.empty(), "an expression without operands");
    }

    const std::vector<std::string> earlier = {"room", "mail"};
    for (const bool in_step : {true, false}) {
        rules::NeededFacts needs;
        (void)rules::CheckReferences(*parsed, rules::ReferenceScope{&FixedScope(), &earlier, in_step}, needs);
    }

    const bool utf8 = IsUtf8(text);
    for (const auto mode : {rules::RenderMode::kStrict, rules::RenderMode::kKeepUnresolved}) {
        auto rendered = parsed->Render(FixedContext(), mode);
        if (!rendered) {
            Require(rendered.error().code == ErrorCode::kInvalidArgument, "Render failed with another code");
            continue;
        }
        // Rendered values go into run records and HTTP bodies as JSON text: from UTF-8 in, UTF-8 out.
        if (utf8) (void)rendered->dump();
        auto again = parsed->Render(FixedContext(), mode);
        Require(again && *again == *rendered, "rendering is not deterministic");
    }

    // The same string inside a step input: objects and arrays are walked, keys left alone.
    const Json step_input = {{"to", text}, {"entries", Json::array({text, 1, nullptr, Json{{text, text}}})}};
    auto walked = rules::RenderJson(step_input, FixedContext(), rules::RenderMode::kKeepUnresolved);
    if (walked && utf8) (void)walked->dump();
}

}  // namespace spacehook::fuzz
