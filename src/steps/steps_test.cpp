// The step kinds as descriptors: the catalog, each kind's typed input against the real rule compiler
// and renderer (rendered, shown, read back), and the docs lines each descriptor holds.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "config/document.hpp"
#include "rules/compiled_rules.hpp"
#include "steps/catalog.hpp"
#include "steps/look.hpp"

namespace spacehook::steps {
namespace {

const char* const kEveryKind = R"(
rules:
  - name: every-kind
    on: file.created
    do:
      - create_room: {title: "Room {{ entity.id }}", type: custom, tags: [a, b]}
        id: room
      - create_folder: {in: "{{ steps.room.id }}", title: Inbox}
      - create_folders: {in: 890, titles: "Documents, Tasks"}
      - copy_as: {files: [1, 2], to: 890}
      - set_access:
          room: 890
          entries: [{user: 5e0b5d7c-2f6e-4b8e-9a51-1c2d3e4f5a6b, access: editor}, {email: a@example.com, access: viewer}]
      - copy: {to: 891, conflict: duplicate}
      - move: {to: 892, files: 7, items: "{{ entity }}"}
      - mail: {to: a@example.com, subject: s, html: "<b>b</b>"}
      - chat: {kind: teams, url: "https://example.com/teams", text: t, facts: {a: b}}
      - http: {url: "https://example.com/x", method: put, body: {n: "{{ entity.id }}"}}
)";

rules::CompiledRules CompileEveryKind() {
    auto doc = config::LoadYamlText(kEveryKind, "rules.yaml", config::MapEnv({}));
    EXPECT_TRUE(doc) << doc.error().message;
    auto compiled = rules::Compile({*doc}, Kinds());
    EXPECT_TRUE(compiled) << compiled.error().message;
    return compiled ? std::move(*compiled) : rules::CompiledRules{};
}

rules::TemplateContext Context() {
    return rules::TemplateContext(Json{{"entity", {{"id", 42}, {"kind", "file"}, {"title", "a.docx"}}},
                                       {"steps", {{"room", {{"id", 7}}}}}});
}

std::string ReadDoc(const std::string& name) {
    std::ifstream in(std::string(SPACEHOOK_DOCS_DIR) + "/" + name);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// The cells of the markdown table row that starts with "| `<name>` |", or nothing.
std::vector<std::string> Row(const std::string& doc, std::string_view name) {
    const std::string start = "| `" + std::string(name) + "` |";
    std::istringstream lines(doc);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind(start, 0) != 0) continue;
        std::vector<std::string> cells;
        std::size_t at = 2;
        while (at < line.size()) {
            const auto end = line.find(" |", at);
            if (end == std::string::npos) break;
            cells.push_back(line.substr(at, end - at));
            at = end + 3;
        }
        return cells;
    }
    return {};
}

TEST(Catalog, KnowsEveryKindByNameInTheOrderMessagesListThem) {
    const std::vector<std::string_view> names = {"create_room", "create_folder", "create_folders", "copy_as",
                                                 "set_access",  "copy",          "move",           "mail",
                                                 "chat",        "http"};
    EXPECT_EQ(Kinds().Names(), names);
    ASSERT_EQ(Kinds().descriptors().size(), names.size());
    for (const auto* kind : Kinds().descriptors()) {
        EXPECT_EQ(Kinds().Descriptor(kind->name()), kind);
        EXPECT_EQ(Kinds().Find(kind->name()), kind);
        std::set<std::string_view> keys;
        for (const auto& input : kind->inputs()) {
            EXPECT_TRUE(keys.insert(input.key).second)
                << kind->name() << " declares " << input.key << " twice";
        }
    }
    EXPECT_EQ(Kinds().Descriptor("teleport"), nullptr);
}

TEST(Kinds, EveryRenderedInputReadsBackAsTheSameTypedInput) {
    const auto rules = CompileEveryKind();
    ASSERT_EQ(rules.rules().size(), 1u);
    const auto& steps = rules.rules()[0].steps;
    ASSERT_EQ(steps.size(), Kinds().descriptors().size());
    for (const auto& step : steps) {
        auto prepared = Prepare(step, Context());
        ASSERT_TRUE(prepared) << prepared.error().message;
        EXPECT_EQ(&(*prepared)->kind(), Kinds().Descriptor(step.kind->name()));
        const Json shown = (*prepared)->ToJson();
        EXPECT_EQ(rules::RenderStepInput(step, Context()).value_or(Json()), shown);
        auto again = (*prepared)->kind().FromRendered(shown);
        ASSERT_TRUE(again) << step.kind->name() << ": " << again.error().message;
        EXPECT_EQ((*again)->ToJson(), shown) << step.kind->name();
    }
}

TEST(Kinds, TypedInputsTakeTheDeclaredDefaultsAndShapes) {
    const auto rules = CompileEveryKind();
    const auto& steps = rules.rules()[0].steps;
    auto render = [&](std::size_t index) {
        return rules::RenderStepInput(steps.at(index), Context()).value();
    };
    // A kind's defaults are compiled into the step, so `check` shows them and a stored run keeps them.
    EXPECT_EQ(steps[4].input["notify"], false);
    EXPECT_EQ(steps[6].input["conflict"], "skip");
    EXPECT_EQ(steps[9].input["method"], "PUT");
    EXPECT_EQ(render(0), (Json{{"title", "Room 42"}, {"type", 5}, {"tags", {"a", "b"}}}));
    EXPECT_EQ(render(1), (Json{{"in", 7}, {"title", "Inbox"}}));
    EXPECT_EQ(render(3), (Json{{"files", {1, 2}}, {"to", 890}, {"title", nullptr}}));
    EXPECT_EQ(render(4),
              (Json{{"room", 890},
                    {"invitations",
                     {{{"id", "5e0b5d7c-2f6e-4b8e-9a51-1c2d3e4f5a6b"}, {"access", 10}, {"kind", "user"}},
                      {{"email", "a@example.com"}, {"access", 2}}}},
                    {"notify", false},
                    {"message", ""}}));
    // The event's own file, by default; a folder item would land under folders.
    EXPECT_EQ(render(5),
              (Json{{"to", 891}, {"files", {42}}, {"folders", Json::array()}, {"conflict", "duplicate"}}));
    EXPECT_EQ(render(6),
              (Json{{"to", 892}, {"files", {7, 42}}, {"folders", Json::array()}, {"conflict", "skip"}}));
    EXPECT_EQ(
        render(7),
        (Json{{"to", {"a@example.com"}}, {"cc", Json::array()}, {"subject", "s"}, {"html", "<b>b</b>"}}));
    EXPECT_EQ(render(8), (Json{{"kind", "teams"},
                               {"url", "https://example.com/teams"},
                               {"text", "t"},
                               {"facts", {{"a", "b"}}}}));
    EXPECT_EQ(render(9), (Json{{"url", "https://example.com/x"},
                               {"method", "PUT"},
                               {"headers", Json::object()},
                               {"body", {{"n", 42}}}}));
}

TEST(Kinds, ARenderedInputReadOnItsOwnNamesWhatIsMissingOrWrong) {
    auto missing = Kinds().Descriptor("create_folder")->FromRendered(Json{{"title", "x"}});
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(missing.error().message, "create_folder: input in: missing");
    auto wrong =
        Kinds().Descriptor("copy")->FromRendered(Json{{"to", 1}, {"files", {1}}, {"conflict", "merge"}});
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().message, "copy: input conflict: not one of the choices: \"merge\"");
    auto empty = Kinds().Descriptor("mail")->FromRendered(Json{{"to", Json::array()}, {"subject", "s"}});
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().message, "mail: input to: no recipient");
    EXPECT_FALSE(Kinds().Descriptor("http")->FromRendered(Json::array()));
}

TEST(Kinds, TheirDocsLinesAreWhatTheDocsSay) {
    const std::string rules_md = ReadDoc("rules.md");
    const std::string runner_md = ReadDoc("runner.md");
    ASSERT_FALSE(rules_md.empty());
    ASSERT_FALSE(runner_md.empty());
    for (const auto* kind : Kinds().descriptors()) {
        // docs/rules.md "Steps": | step | inputs | what it does | output |
        const auto step_row = Row(rules_md, kind->name());
        ASSERT_EQ(step_row.size(), 4u) << "docs/rules.md has no step row for " << kind->name();
        EXPECT_EQ(step_row[2], kind->docs().what) << kind->name();
        for (const auto& input : kind->inputs()) {
            EXPECT_NE(step_row[1].find("`" + std::string(input.key) + "`"), std::string::npos)
                << "docs/rules.md does not name " << kind->name() << "'s input " << input.key;
        }
        // docs/runner.md "Exactly once, step by step": | step | looks for | guarantee |
        const auto look_row = Row(runner_md, kind->name());
        ASSERT_EQ(look_row.size(), 3u) << "docs/runner.md has no look-before-act row for " << kind->name();
        EXPECT_EQ(look_row[1], kind->docs().looks) << kind->name();
    }
}

TEST(Look, TitlesAreFoundAsTheyAreOrNumberedOnRequest) {
    docspace::Entry report;
    report.title = "Report.docx";
    docspace::Entry numbered;
    numbered.title = "Plan (2).docx";
    const std::vector<docspace::Entry> pool = {numbered, report};
    EXPECT_EQ(FindByTitle(pool, "Report.docx", false), &pool[1]);
    EXPECT_EQ(FindByTitle(pool, "Plan.docx", false), nullptr);
    EXPECT_EQ(FindByTitle(pool, "Plan.docx", true), &pool[0]);
    EXPECT_TRUE(SameTitle("Report.docx", "Report.docx"));
    EXPECT_FALSE(SameTitle("Report.docx", "report.docx"));
}

}  // namespace
}  // namespace spacehook::steps
