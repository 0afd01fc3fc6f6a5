#include <gtest/gtest.h>

#include "rules/compiled_rules.hpp"
#include "rules/explain.hpp"
#include "rules/rules_test_support.hpp"
#include "steps/catalog.hpp"

using namespace spacehook;
using namespace spacehook::rules;
using namespace spacehook::rules::testing;

// --- ${VAR} in steps: kept as written, resolved when the step runs -----------------------------------

namespace {

constexpr char kVariables[] = R"(
rules:
  - name: notify
    on: file.created
    if: { in_folder: ${INBOX} }
    do:
      - move: { to: ${ARCHIVE} }
      - mail: { to: "${MANAGER_EMAIL}", subject: "Filed {{ entity.title }} for ${TEAM}", body: "cost $$5" }
      - http:
          url: "https://crm.example.com/hook/${PATH_PART}"
          headers: { Authorization: "Bearer ${DOCSPACE_API_KEY}", X-Plain: "${TEAM}" }
          body: { count: ${COUNT}, team: "${TEAM}" }
)";

std::map<std::string, std::string> VariablesEnv(std::string archive = "700", std::string inbox = "5") {
    return {{"INBOX", std::move(inbox)},
            {"ARCHIVE", std::move(archive)},
            {"MANAGER_EMAIL", "m@example.com"},
            {"TEAM", "Accounts"},
            {"PATH_PART", "p-9f8e7d"},
            {"DOCSPACE_API_KEY", "sk-rule-key"},
            {"COUNT", "3"}};
}

}  // namespace

TEST(StepVariables, StepsKeepThemAsWrittenAndRenderTheirValues) {
    auto rules = CompileText(kVariables, VariablesEnv());
    ASSERT_EQ(rules.rules().size(), 1u);
    const Rule& rule = rules.rules()[0];
    EXPECT_EQ(rule.steps[0].input["to"], Json("${ARCHIVE}"));
    EXPECT_EQ(rule.steps[1].input["to"], Json("${MANAGER_EMAIL}"));
    EXPECT_EQ(rule.steps[1].input["subject"], Json("Filed {{ entity.title }} for ${TEAM}"));
    EXPECT_EQ(rule.steps[1].input["body"], Json("cost $$5"));
    EXPECT_EQ(rule.steps[2].input["headers"]["Authorization"], Json("Bearer ${DOCSPACE_API_KEY}"));
    // A number from an unquoted ${VAR} keeps its type in a body: it is read at load.
    EXPECT_EQ(rule.steps[2].input["body"], (Json{{"count", 3}, {"team", "${TEAM}"}}));

    // What check prints and a run stores: the references, never the values.
    const std::string described = DescribeRules(rules);
    EXPECT_NE(described.find("Bearer ${DOCSPACE_API_KEY}"), std::string::npos) << described;
    for (const auto& step : rule.steps) {
        const std::string stored = step.ToJson().dump();
        EXPECT_EQ(stored.find("sk-rule-key"), std::string::npos) << stored;
        EXPECT_EQ(stored.find("p-9f8e7d"), std::string::npos) << stored;
    }
    EXPECT_EQ(described.find("sk-rule-key"), std::string::npos);
    EXPECT_EQ(described.find("700"), std::string::npos);

    auto event = FileEvent("file.created", File(12, 5, "a.docx"));
    auto run = rules.PlanRule(rule, event, Facts{});
    ASSERT_TRUE(run);
    EXPECT_EQ(RenderStepInput(rule.steps[0], run->context)->at("to"), Json(700));
    auto mail = RenderStepInput(rule.steps[1], run->context);
    ASSERT_TRUE(mail) << mail.error().message;
    EXPECT_EQ((*mail)["subject"], Json("Filed a.docx for Accounts"));
    EXPECT_EQ((*mail)["body"], Json("cost $5"));
    auto http = RenderStepInput(rule.steps[2], run->context);
    ASSERT_TRUE(http) << http.error().message;
    EXPECT_EQ((*http)["headers"]["Authorization"], Json("Bearer sk-rule-key"));
    EXPECT_EQ((*http)["url"], Json("https://crm.example.com/hook/p-9f8e7d"));

    // The secrets of each step: a secret's value, and any value in a sensitive input (http url, headers).
    EXPECT_EQ(rule.steps[1].secrets, std::vector<std::string>{});
    std::vector<std::string> http_secrets = rule.steps[2].secrets;
    std::sort(http_secrets.begin(), http_secrets.end());
    EXPECT_EQ(http_secrets, (std::vector<std::string>{"Accounts", "p-9f8e7d", "sk-rule-key"}));
    const std::string explained = ExplainEvent(rules, event, Facts{});
    EXPECT_EQ(explained.find("sk-rule-key"), std::string::npos) << explained;
    EXPECT_NE(explained.find("\"Authorization\":\"Bearer •••\""), std::string::npos) << explained;
}

TEST(StepVariables, AStoredStepReadsThemWhenItRuns) {
    auto rules = CompileText(kVariables, VariablesEnv());
    const Rule& rule = rules.rules()[0];
    auto event = FileEvent("file.created", File(12, 5, "a.docx"));
    auto run = rules.PlanRule(rule, event, Facts{});
    ASSERT_TRUE(run);
    auto stored = Step::FromJson(Json::parse(rule.steps[0].ToJson().dump()), steps::Kinds());
    ASSERT_TRUE(stored);
    // Not resolved yet: rendering it would send "${ARCHIVE}".
    auto unresolved = RenderStepInput(*stored, run->context);
    ASSERT_FALSE(unresolved);
    EXPECT_EQ(unresolved.error().code, ErrorCode::kInternal);

    auto moved = ResolveVariables(*stored, config::MapEnv(VariablesEnv("800")));
    ASSERT_TRUE(moved) << moved.error().message;
    EXPECT_EQ(RenderStepInput(*moved, run->context)->at("to"), Json(800));  // the value now, not at load

    auto unset = ResolveVariables(*stored, config::MapEnv({}));
    ASSERT_FALSE(unset);
    EXPECT_EQ(unset.error().code, ErrorCode::kConfig);
    EXPECT_EQ(unset.error().message,
              "step move (move): to: environment variable ARCHIVE is not set (write ${ARCHIVE:-} if it is "
              "optional)");

    // A step stored by a spacehook that expanded values at load renders as it is.
    Step old = *stored;
    old.written = false;
    old.input["to"] = 700;
    EXPECT_EQ(RenderStepInput(old, run->context)->at("to"), Json(700));
    EXPECT_EQ(ResolveVariables(old, config::MapEnv({}))->input, old.input);
}

TEST(StepVariables, TheRuleVersionFollowsConditionsNotStepValuesOrSecrets) {
    const auto version = [](std::map<std::string, std::string> env) {
        return CompileText(kVariables, std::move(env)).rules()[0].fingerprint;
    };
    const std::string base = version(VariablesEnv());
    EXPECT_EQ(version(VariablesEnv("999")), base);       // a step's variable: read when it runs
    EXPECT_NE(version(VariablesEnv("700", "6")), base);  // a condition's: fixed at load

    const char* secret_condition =
        "rules:\n  - name: r\n    on: file.created\n    if: { title: \"${TITLE_TOKEN}\" }\n"
        "    do: [ {move: {to: 1}} ]\n";
    EXPECT_EQ(CompileText(secret_condition, {{"TITLE_TOKEN", "a"}}).rules()[0].fingerprint,
              CompileText(secret_condition, {{"TITLE_TOKEN", "b"}}).rules()[0].fingerprint);
}

TEST(StepVariables, MaskSecretsReplacesEachValueAndItsJsonForm) {
    EXPECT_EQ(MaskSecrets(R"({"a":"Bearer sk-1234","b":"x\"y\"z"})", {"sk-1234", "x\"y\"z", "ab"}),
              R"({"a":"Bearer •••","b":"•••"})");
}
