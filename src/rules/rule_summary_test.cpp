#include "rules/rule_summary.hpp"

#include <gtest/gtest.h>

#include "steps/catalog.hpp"

using namespace spacehook;
using namespace spacehook::rules;

TEST(RuleSummaries, NameTriggersAndStepsButNoValueOfAnInput) {
    const std::string text = R"(rules:
  - name: intake
    description: file invoices
    on: [file.created, file.uploaded]
    if:
      title: { starts_with: "${PREFIX}" }
    do:
      - move: { to: 567 }
      - id: tell
        http: { url: "${HOOK_URL}", body: { text: "moved" } }
  - name: off
    enabled: false
    on: room.created
    do: [ { create_folder: { in: 1, title: x } } ]
)";
    const std::map<std::string, std::string> env = {{"PREFIX", "invoice-prefix-value"},
                                                    {"HOOK_URL", "https://hooks.example/T0/s3cr3t-path"}};
    auto doc = config::LoadYamlText(text, "rules/intake.yaml", config::MapEnv(env));
    ASSERT_TRUE(doc) << doc.error().message;
    auto compiled = Compile({*doc}, steps::Kinds());
    ASSERT_TRUE(compiled) << compiled.error().message;

    const Json summary = RuleSummariesJson(*compiled);
    ASSERT_EQ(summary["rules"].size(), 2u);
    const Json& intake = summary["rules"][0];
    EXPECT_EQ(intake["name"], "intake");
    EXPECT_EQ(intake["description"], "file invoices");
    EXPECT_EQ(intake["enabled"], true);
    EXPECT_EQ(intake["source"], "rules/intake.yaml:2:5");
    EXPECT_EQ(intake["on"], Json::array({"file.created", "file.uploaded"}));
    EXPECT_EQ(intake["has_conditions"], true);
    ASSERT_EQ(intake["steps"].size(), 2u);
    EXPECT_EQ(intake["steps"][0]["kind"], "move");
    EXPECT_EQ(intake["steps"][1]["id"], "tell");
    EXPECT_EQ(intake["steps"][1]["kind"], "http");
    EXPECT_NE(std::find(intake["steps"][1]["inputs"].begin(), intake["steps"][1]["inputs"].end(), "url"),
              intake["steps"][1]["inputs"].end());
    // A step's ${VAR} is shown as the reference it is.
    EXPECT_EQ(intake["steps"][1]["input"]["url"], "${HOOK_URL}");
    EXPECT_EQ(intake["steps"][0]["input"]["to"], 567);
    EXPECT_EQ(summary["rules"][1]["enabled"], false);
    // Only the enabled rule's triggers are subscribed to.
    EXPECT_EQ(summary["triggers"], Json::array({"file.created", "file.uploaded"}));
    // What ${VAR} expanded to is nowhere in it.
    const std::string dumped = summary.dump();
    EXPECT_EQ(dumped.find("s3cr3t"), std::string::npos) << dumped;
    EXPECT_EQ(dumped.find("invoice-prefix-value"), std::string::npos) << dumped;
}
