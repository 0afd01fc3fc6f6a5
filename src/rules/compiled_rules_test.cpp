#include "rules/compiled_rules.hpp"

#include <gtest/gtest.h>

#include "core/content_digest.hpp"
#include "rules/explain.hpp"
#include "rules/rules_test_support.hpp"
#include "steps/catalog.hpp"

using namespace spacehook;
using namespace spacehook::rules;
using namespace spacehook::rules::testing;

TEST(Compile, RuleNamesAreUniqueAcrossFiles) {
    auto a = Doc("rules:\n  - name: intake\n    on: file.created\n    do: [ {move: {to: 1}} ]\n", "a.yaml");
    auto b =
        Doc("# second file\nrules:\n  - name: intake\n    on: file.uploaded\n    do: [ {move: {to: 2}} ]\n",
            "b.yaml");
    auto compiled = Compile({a, b}, steps::Kinds());
    ASSERT_FALSE(compiled);
    EXPECT_EQ(compiled.error().message, "b.yaml:3:5: rule name 'intake' is already used at a.yaml:2:5");
}

TEST(Compile, RulesFromSeveralFilesKeepTheirOrder) {
    auto a = Doc("rules:\n  - name: first\n    on: file.created\n    do: [ {move: {to: 1}} ]\n", "a.yaml");
    auto service_only = Doc("server: {threads: 2}\n", "s.yaml");
    auto b = Doc("rules:\n  - name: second\n    on: file.created\n    do: [ {move: {to: 2}} ]\n", "b.yaml");
    auto compiled = Compile({a, service_only, b, config::Document{}}, steps::Kinds());
    ASSERT_TRUE(compiled) << compiled.error().message;
    ASSERT_EQ(compiled->rules().size(), 2u);
    EXPECT_EQ(compiled->rules()[0].name, "first");
    EXPECT_EQ(compiled->rules()[1].name, "second");
    EXPECT_EQ(compiled->rules()[1].location.ToString(), "b.yaml:2:5");
    EXPECT_EQ(compiled->Find("second"), &compiled->rules()[1]);
    EXPECT_EQ(compiled->Find("third"), nullptr);
}

TEST(Compile, RulesMustBeAList) {
    EXPECT_EQ(CompileError("rules: {name: x}\n"), "rules.yaml:1:1: rules must be a list, got a map");
    EXPECT_EQ(CompileError("rules:\n  - just text\n"),
              "rules.yaml:2:5: a rule must be a map with name, on and do, got text");
}

TEST(Compile, ChatChannelsAreCheckedWhenKnown) {
    const char* text =
        "rules:\n  - name: c\n    on: file.created\n    do: [ {chat: {channel: ops, text: hi}} ]\n";
    CompileOptions options;
    options.chat_channels = std::set<std::string>{"sales"};
    EXPECT_EQ(CompileError(text, options), "rules.yaml:4:19: no chat channel 'ops' in chat.channels");
    EXPECT_TRUE(Compile({Doc(text)}, steps::Kinds()));  // rule files checked on their own: not checked
}

TEST(Compile, FingerprintChangesWithTheRule) {
    auto a = CompileText("rules:\n  - name: r\n    on: file.created\n    do: [ {move: {to: 1}} ]\n");
    auto b = CompileText("rules:\n  - name: r\n    on: file.created\n    do: [ {move: {to: 2}} ]\n");
    auto a_again = CompileText("rules:\n  - {name: r, on: file.created, do: [ {move: {to: 1}} ]}\n");
    EXPECT_EQ(a.rules()[0].fingerprint.size(), 16u);
    EXPECT_NE(a.rules()[0].fingerprint, b.rules()[0].fingerprint);
    EXPECT_EQ(a.rules()[0].fingerprint, a_again.rules()[0].fingerprint);
}

TEST(TriggerMask, UnionOfEnabledRules) {
    auto rules = CompileText(R"(
rules:
  - {name: a, on: [file.created, file.uploaded], do: [ {move: {to: 1}} ]}
  - {name: b, on: user.created, do: [ {mail: {to: x@example.com, subject: s, body: b}} ]}
  - {name: c, on: room.*, enabled: false, do: [ {http: {url: "https://x"}} ]}
)");
    EXPECT_EQ(rules.TriggerMask(), 1 + 128 + 256);
    EXPECT_EQ(rules.TriggerNames(),
              (std::vector<std::string>{"user.created", "file.created", "file.uploaded"}));
    EXPECT_FALSE(rules.ListensToAll());
    EXPECT_TRUE(rules.HasEnabledRules());

    auto family = CompileText("rules:\n  - {name: a, on: form.*, do: [ {move: {to: 1}} ]}\n");
    EXPECT_EQ(family.TriggerMask(), (1LL << 28) | (1LL << 29) | (1LL << 30));

    auto all = CompileText(
        "rules:\n  - {name: a, on: '*', do: [ {http: {url: 'https://x'}} ]}\n"
        "  - {name: b, on: file.created, do: [ {move: {to: 1}} ]}\n");
    EXPECT_EQ(all.TriggerMask(), 0);  // DocSpace's "All"
    EXPECT_TRUE(all.ListensToAll());
    EXPECT_EQ(all.TriggerNames(), (std::vector<std::string>{"*"}));

    auto none = CompileText("rules: []\n");
    EXPECT_FALSE(none.HasEnabledRules());
    EXPECT_EQ(none.TriggerMask(), 0);
}

TEST(SubscriptionTarget, OneRoomNamedByEveryRule) {
    // room.* events are about the room itself, so in_room 890 is an exact entity match: target 890.
    const auto rooms = CompileText(R"(
rules:
  - name: renamed
    on: [room.updated, room.archived]
    if: { in_room: 890 }
    do: [ {mail: {to: a@example.com, subject: s, body: b}} ]
  - name: agents
    on: agent.updated
    if: { all: [ {in_room: "890"}, {actor: 66faa6e4-f133-11ea-b126-00ffeec8b4ef} ] }
    do: [ {mail: {to: a@example.com, subject: s, body: b}} ]
  - name: off
    enabled: false
    on: file.created
    do: [ {mail: {to: a@example.com, subject: s, body: b}} ]
)");
    const auto target = rooms.SubscriptionTarget();
    EXPECT_EQ(target.id, "890");
    EXPECT_EQ(target.why_not, "");

    auto none = [](std::string_view yaml) { return CompileText(yaml).SubscriptionTarget(); };
    const auto files = none(
        "rules:\n  - name: intake\n    on: file.created\n    if: {in_room: 890}\n"
        "    do: [ {move: {to: 1}} ]\n");
    EXPECT_EQ(files.id, "");
    EXPECT_EQ(files.why_not, "rule intake listens to file.created, whose entity is not a room");
    const auto created = none(
        "rules:\n  - name: new\n    on: room.created\n    if: {in_room: 890}\n"
        "    do: [ {create_folder: {in: 1, title: t}} ]\n");
    EXPECT_EQ(created.why_not, "rule new listens to room.created, about a room that has no id yet");
    const auto either = none(
        "rules:\n  - name: two\n    on: room.updated\n    if: {in_room: [890, 891]}\n"
        "    do: [ {create_folder: {in: 1, title: t}} ]\n");
    EXPECT_EQ(either.why_not, "rule two does not require one room with in_room");
    const auto any = none(
        "rules:\n  - name: any\n    on: room.updated\n"
        "    if: {any: [ {in_room: 890}, {actor: a@example.com} ]}\n"
        "    do: [ {create_folder: {in: 1, title: t}} ]\n");
    EXPECT_EQ(any.id, "");
    const auto all =
        none("rules:\n  - name: all\n    on: '*'\n    do: [ {create_folder: {in: 1, title: t}} ]\n");
    EXPECT_EQ(all.why_not, "rule all listens to every trigger");
    const auto different = none(
        "rules:\n  - name: a\n    on: room.updated\n    if: {in_room: 1}\n    do: [ {create_folder: {in: 1, "
        "title: "
        "t}} ]\n  - name: b\n    on: room.deleted\n    if: {in_room: 2}\n    do: [ {create_folder: {in: 1, "
        "title: t}} ]\n");
    EXPECT_EQ(different.why_not, "the rules name different rooms (1 and 2)");
}

TEST(Needs, OnlyRulesThatCanStillMatch) {
    auto rules = CompileText(R"(
rules:
  - name: invoices
    on: file.created
    if: { in_room: 890, title: { starts_with: invoice } }
    do: [ {mail: {to: a@example.com, subject: "{{ file.title }}", body: "{{ actor.displayName }}"}} ]
  - name: by-boss
    on: file.created
    if: { actor: boss@example.com }
    do: [ {move: {to: 1}} ]
  - name: users
    on: user.created
    do: [ {mail: {to: "{{ user.email }}", subject: s, body: b}} ]
)");
    // The title rules the first rule out on the payload alone: its room path and file are not needed.
    auto report = rules.Needs(FileEvent("file.created", File(1, 567, "report.docx")));
    EXPECT_EQ(report.Names(), (std::vector<std::string_view>{"actor info"}));
    auto invoice = rules.Needs(FileEvent("file.created", File(1, 567, "invoice.docx")));
    EXPECT_EQ(invoice.Names(), (std::vector<std::string_view>{"room path", "file info", "actor info"}));
    auto user = rules.Needs(FileEvent("user.created", {{"id", "5e0b"}}));
    EXPECT_EQ(user.Names(), (std::vector<std::string_view>{"user info"}));
    auto other = rules.Needs(FileEvent("folder.created", File(1, 2, "x")));
    EXPECT_FALSE(other.any());
}

TEST(Needs, LimitedToWhatExistsForTheEntity) {
    auto rules = CompileText(R"(
rules:
  - name: everything
    on: "*"
    do: [ {mail: {to: a@example.com, subject: "{{ file.title }} {{ folder.title }} {{ room.roomType }}", body: "{{ user.email }} {{ actor.email }}"}} ]
)");
    auto file = rules.Needs(FileEvent("file.created", File(1, 2, "x")));
    EXPECT_EQ(file.Names(), (std::vector<std::string_view>{"room path", "room info", "file info",
                                                           "folder info", "actor info"}));
    auto room = rules.Needs(FileEvent("room.updated", {{"id", 890}, {"title", "R"}}));
    EXPECT_EQ(room.Names(),
              (std::vector<std::string_view>{"room info", "actor info"}));  // a room is its own room
    auto user = rules.Needs(FileEvent("user.updated", {{"id", "5e0b"}}));
    EXPECT_EQ(user.Names(), (std::vector<std::string_view>{"user info", "actor info"}));
    // No createBy: there is no actor to look up.
    auto anonymous = ParseEvent(Json{{"event", {{"trigger", "group.created"}}}, {"payload", {{"id", "g"}}}});
    ASSERT_TRUE(anonymous);
    EXPECT_FALSE(rules.Needs(*anonymous).any());
}

TEST(Plan, RunsKeysLocksAndContext) {
    auto rules = CompileText(R"(
rules:
  - name: intake
    on: [file.created, file.uploaded]
    if: { in_room: ${ROOM} }
    do:
      - move: { to: 748239 }
      - mail: { to: a@example.com, subject: "{{ file.title }}", body: "{{ room.title }}" }
  - name: never
    on: file.created
    if: { title: { equals: nope } }
    do: [ {move: {to: 1}} ]
)",
                             {{"ROOM", "890"}});
    Facts facts;
    facts.path = std::vector<EntityId>{EntityId::Number(3), EntityId::Number(890)};
    facts.room = {{"id", "890"}, {"title", "Client ACME"}};
    facts.file = {{"id", 1234}, {"title", "Invoice.docx"}};
    auto created = rules.Plan(FileEvent("file.created", File(1234, 890, "Invoice.docx")), facts);
    ASSERT_TRUE(created) << created.error().message;
    ASSERT_EQ(created->size(), 1u);
    const PlannedRun& run = (*created)[0];
    EXPECT_EQ(run.rule, "intake");
    EXPECT_EQ(run.run_key, "intake/file.created/file:1234");
    EXPECT_EQ(run.lock_key, "room:890");
    EXPECT_EQ(run.fingerprint, rules.rules()[0].fingerprint);
    ASSERT_EQ(run.steps.size(), 2u);
    EXPECT_EQ(run.steps[0].kind->name(), "move");
    EXPECT_EQ(run.steps[1].id, "mail");
    const Json& context = run.context.values();
    EXPECT_EQ(context["rule"]["name"], Json("intake"));
    EXPECT_EQ(context["run"]["key"], Json("intake/file.created/file:1234"));
    EXPECT_EQ(context["entity"],
              (Json{{"id", 1234}, {"kind", "file"}, {"title", "Invoice.docx"}, {"parentId", 890}}));
    EXPECT_EQ(context["file"]["title"], Json("Invoice.docx"));
    EXPECT_EQ(context["room"]["title"], Json("Client ACME"));
    EXPECT_EQ(context["event"]["id"], Json(4821));
    EXPECT_TRUE(context["steps"].empty());
    EXPECT_FALSE(context.contains("user"));

    // The same file through file.uploaded: the same run key.
    auto uploaded = rules.Plan(FileEvent("file.uploaded", File(1234, 890, "Invoice.docx"), 4830), facts);
    ASSERT_TRUE(uploaded);
    ASSERT_EQ(uploaded->size(), 1u);
    EXPECT_EQ((*uploaded)[0].run_key, run.run_key);
}

TEST(Plan, RefusesToGuessWithoutNeededFacts) {
    auto rules =
        CompileText("rules:\n  - {name: r, on: file.created, if: {in_room: 890}, do: [ {move: {to: 1}} ]}\n");
    auto plan = rules.Plan(FileEvent("file.created", File(1, 567, "x")), Facts{});
    ASSERT_FALSE(plan);
    EXPECT_EQ(plan.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(plan.error().message, "rule r: cannot decide without room path (not in the resolved facts)");
    // Resolved and not in a room: decided, no run.
    Facts outside;
    outside.path = std::vector<EntityId>{EntityId::Number(5)};
    auto none = rules.Plan(FileEvent("file.created", File(1, 567, "x")), outside);
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
}

TEST(Plan, RunKeyStyles) {
    auto rules = CompileText(R"(
rules:
  - {name: any, on: "*", do: [ {http: {url: "https://example.com"}} ]}
  - {name: custom, on: file.updated, key: "{{ entity.id }}-{{ file.version }}", do: [ {http: {url: "https://example.com"}} ]}
)");
    auto key = [&](const Event& event, const Facts& facts = {}) {
        auto plan = rules.Plan(event, facts);
        EXPECT_TRUE(plan) << (plan ? "" : plan.error().message);
        return plan && !plan->empty() ? (*plan)[0].run_key : std::string();
    };
    EXPECT_EQ(key(FileEvent("user.invited", {{"id", "u1"}})), "any/user.created/user:u1");
    EXPECT_EQ(key(FileEvent("folder.copied", File(9, 1, "c"))), "any/folder.copied/folder:9");
    EXPECT_EQ(key(FileEvent("room.deleted", {{"id", 890}})), "any/room.deleted/room:890");
    EXPECT_EQ(key(FileEvent("room.updated", {{"id", 890}, {"modifiedOn", "T1"}})),
              "any/room.updated/room:890@T1");
    // Per event, by content: "%" and 16 hex digits of the delivery's content digest.
    const std::string trashed = key(FileEvent("file.trashed", File(9, 1, "c"), 77));
    EXPECT_EQ(trashed,
              "any/file.trashed/file:9%" +
                  DeliveryContentDigest("file.trashed", "2026-06-30T10:15:42Z", kGuid, File(9, 1, "c"))
                      .substr(0, 16));
    EXPECT_EQ(key(FileEvent("file.downloaded", File(9, 1, "c"), nullptr)),
              "any/file.downloaded/file:9%" +
                  DeliveryContentDigest("file.downloaded", "2026-06-30T10:15:42Z", kGuid, File(9, 1, "c"))
                      .substr(0, 16));
    EXPECT_EQ(key(FileEvent("group.created", Json::object(), 12)),
              "any/group.created/event%" +
                  DeliveryContentDigest("group.created", "2026-06-30T10:15:42Z", kGuid, Json::object())
                      .substr(0, 16));

    Facts facts;
    facts.file = {{"version", 3}};
    auto plan = rules.Plan(FileEvent("file.updated", File(9, 1, "c")), facts);
    ASSERT_TRUE(plan);
    ASSERT_EQ(plan->size(), 2u);
    EXPECT_EQ((*plan)[1].run_key, "custom/key:9-3");
    auto broken = rules.Plan(FileEvent("file.updated", File(9, 1, "c")), Facts{});
    ASSERT_FALSE(broken);
    EXPECT_EQ(broken.error().message, "rule custom: key: {{ file.version }}: no value for file.version");
    EXPECT_EQ(TriggerClass("file.uploaded"), "file.created");
    EXPECT_EQ(TriggerClass("user.invited"), "user.created");
    EXPECT_EQ(TriggerClass("file.moved"), "file.moved");
}

// A manual retry from the portal's UI re-sends the stored body under a new event.id (docs/docspace-api.md
// §1.13), and a second subscription's copy carries its own event.id: neither may start a second run.
// Another event (another time, another state of the entity) does.
TEST(Plan, RunKeysDoNotDependOnTheEventId) {
    auto rules = CompileText(R"(
rules:
  - {name: any, on: "*", do: [ {http: {url: "https://example.com"}} ]}
)");
    auto key = [&](const Event& event) {
        auto plan = rules.Plan(event, Facts{});
        EXPECT_TRUE(plan) << (plan ? "" : plan.error().message);
        return plan && !plan->empty() ? (*plan)[0].run_key : std::string();
    };
    auto with = [](std::string trigger, Json payload, Json id, std::string create_on) {
        Json event = {{"trigger", trigger}, {"createOn", create_on}, {"createBy", kGuid}, {"id", id}};
        auto parsed = ParseEvent(Json{{"event", event}, {"payload", payload}, {"webhook", {{"id", 7}}}});
        EXPECT_TRUE(parsed);
        return parsed ? *parsed : Event{};
    };
    const Json user = {{"id", "u1"}, {"firstName", "Jane"}, {"lastModified", "2026-06-30T10:15:41.5Z"}};
    const Json group = {{"id", "g1"}, {"name", "Sales"}};
    const std::string t1 = "2026-06-30T10:15:42Z";
    const std::string t2 = "2026-06-30T11:00:00Z";
    for (const auto& [trigger, payload] :
         std::vector<std::pair<std::string, Json>>{{"user.updated", user},
                                                   {"group.updated", group},
                                                   {"file.moved", File(9, 1, "c")},
                                                   {"file.downloaded", File(9, 1, "c")}}) {
        SCOPED_TRACE(trigger);
        const std::string first = key(with(trigger, payload, 4821, t1));
        EXPECT_EQ(first.find("4821"), std::string::npos) << first;
        EXPECT_EQ(key(with(trigger, payload, 4999, t1)), first);  // manual retry, second subscription
        EXPECT_NE(key(with(trigger, payload, 4822, t2)), first);  // the same thing happening again later
    }
    // A user's later change differs in lastModified, a group's in its content: new runs.
    Json renamed = user;
    renamed["firstName"] = "Janet";
    renamed["lastModified"] = "2026-06-30T10:20:00.1Z";
    EXPECT_NE(key(with("user.updated", renamed, 4830, t1)), key(with("user.updated", user, 4821, t1)));
    EXPECT_NE(key(with("group.updated", {{"id", "g1"}, {"name", "Sales EU"}}, 4831, t1)),
              key(with("group.updated", group, 4821, t1)));
    // With modifiedOn, the change is the key (unchanged): any event id, any createOn.
    EXPECT_EQ(key(with("file.updated", File(9, 1, "c"), 4821, t1)),
              "any/file.updated/file:9@2026-06-30T10:15:41Z");
    EXPECT_EQ(key(with("file.updated", File(9, 1, "c"), 4999, t2)),
              "any/file.updated/file:9@2026-06-30T10:15:41Z");
}

TEST(Plan, LockKeys) {
    auto rules = CompileText("rules:\n  - {name: a, on: '*', do: [ {http: {url: 'https://x'}} ]}\n");
    auto lock = [&](const Event& event, const Facts& facts = {}) {
        auto plan = rules.Plan(event, facts);
        EXPECT_TRUE(plan);
        return plan && !plan->empty() ? (*plan)[0].lock_key : std::string("?");
    };
    EXPECT_EQ(lock(FileEvent("file.created", File(1, 2, "x"))), "file:1");
    Facts in_room;
    in_room.room = {{"id", 890}};
    EXPECT_EQ(lock(FileEvent("file.created", File(1, 2, "x")), in_room), "room:890");
    EXPECT_EQ(lock(FileEvent("room.created", {{"id", 891}, {"title", "R"}})), "room:891");
    EXPECT_EQ(lock(FileEvent("user.created", {{"id", "u1"}})), "user:u1");
    EXPECT_EQ(lock(FileEvent("group.created", Json::object())), "");
}

TEST(RenderStepInput, StrictRenderingNamesTheStepAndInput) {
    auto rules = CompileText(R"(
rules:
  - name: home
    on: user.created
    do:
      - create_room: { title: "Home - {{ user.displayName }}", type: custom, tags: "a, ,b" }
      - create_folders: { in: 1, titles: [Documents, "Shared, with me"] }
        id: room
      - copy_as: { files: ["${IDS}", "{{ steps.room.templates }}"], to: "{{ steps.room.id }}" }
      - set_access:
          room: "{{ steps.room }}"
          entries:
            - { user: "{{ payload.id }}", access: editor }
            - { groups: [g1, "", null], access: viewer }
            - { emails: "{{ payload.email }}", access: remove }
)",
                             {{"IDS", "11,12"}});
    const Rule& rule = rules.rules()[0];
    auto event = FileEvent("user.created", {{"id", "u1"}, {"email", "j@example.com"}});
    Facts facts;
    facts.user = {{"displayName", "Jane"}};
    auto run = rules.PlanRule(rule, event, facts);
    ASSERT_TRUE(run);
    TemplateContext context = run->context;

    auto room = RenderStepInput(rule.steps[0], context);
    ASSERT_TRUE(room) << room.error().message;
    EXPECT_EQ(*room, (Json{{"title", "Home - Jane"}, {"type", 5}, {"tags", {"a", "b"}}}));

    auto folders = RenderStepInput(rule.steps[1], context);
    ASSERT_TRUE(folders);
    EXPECT_EQ((*folders)["titles"],
              Json({"Documents", "Shared, with me"}));  // list entries keep their commas

    auto copy = RenderStepInput(rule.steps[2], context);
    ASSERT_FALSE(copy);
    EXPECT_EQ(copy.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(copy.error().message,
              "step copy_as (copy_as): files: {{ steps.room.templates }}: no value for steps.room.templates");

    context.SetStepOutput("room", {{"id", 900}, {"title", "Home - Jane"}, {"templates", {13, "14"}}});
    copy = RenderStepInput(rule.steps[2], context);
    ASSERT_TRUE(copy) << copy.error().message;
    EXPECT_EQ(*copy, (Json{{"files", {11, 12, 13, 14}}, {"to", 900}, {"title", nullptr}}));

    auto access = RenderStepInput(rule.steps[3], context);
    ASSERT_TRUE(access) << access.error().message;
    EXPECT_EQ((*access)["room"], Json(900));  // an object with an id is that id
    EXPECT_EQ((*access)["invitations"], (Json{{{"id", "u1"}, {"access", 10}, {"kind", "user"}},
                                              {{"id", "g1"}, {"access", 2}, {"kind", "group"}},
                                              {{"email", "j@example.com"}, {"access", 0}}}));
    EXPECT_EQ((*access)["notify"], Json(false));
    EXPECT_EQ((*access)["message"], Json(""));
}

TEST(RenderStepInput, CopyAndMoveItems) {
    auto rules = CompileText(R"(
rules:
  - name: files
    on: [file.created, folder.created, user.created]
    do:
      - copy: { to: 5 }
      - move: { to: 6, items: "{{ steps.copy.files }}", folders: "7,8" }
      - move: { to: 6, items: [ "{{ entity.id }}" ] }
        id: bad
)");
    const Rule& rule = rules.rules()[0];
    auto render = [&](const Event& event, std::size_t step, Json outputs = Json::object()) {
        auto run = rules.PlanRule(rule, event, Facts{});
        EXPECT_TRUE(run);
        TemplateContext context = run->context;
        for (auto& [id, output] : outputs.items()) context.SetStepOutput(id, output);
        return RenderStepInput(rule.steps[step], context);
    };
    auto file = render(FileEvent("file.created", File(1, 2, "x")), 0);
    ASSERT_TRUE(file);
    EXPECT_EQ(*file, (Json{{"to", 5}, {"files", {1}}, {"folders", Json::array()}, {"conflict", "skip"}}));
    auto folder = render(FileEvent("folder.created", {{"id", 3}}), 0);
    ASSERT_TRUE(folder);
    EXPECT_EQ((*folder)["folders"], Json({3}));
    auto user = render(FileEvent("user.created", {{"id", "u"}}), 0);
    ASSERT_FALSE(user);
    EXPECT_EQ(user.error().message, "step copy (copy): items: a user cannot be copied or moved");
    auto from_output = render(
        FileEvent("file.created", File(1, 2, "x")), 1,
        {{"copy", {{"files", {{{"id", 40}, {"fileEntryType", 2}}, {{"id", "41"}, {"fileEntryType", 1}}}}}}});
    ASSERT_TRUE(from_output) << from_output.error().message;
    EXPECT_EQ((*from_output)["files"], Json({40}));
    EXPECT_EQ((*from_output)["folders"], Json({7, 8, 41}));
    auto bare = render(FileEvent("file.created", File(1, 2, "x")), 2);
    ASSERT_FALSE(bare);
    EXPECT_NE(bare.error().message.find("write plain ids under files: or folders:"), std::string::npos);
}

TEST(RenderStepInput, MailChatAndHttpShapes) {
    auto rules = CompileText(R"(
rules:
  - name: n
    on: file.created
    do:
      - mail: { to: ["{{ payload.owner ?? '' }}", "Doe, Jane <j@example.com>"], cc: "a@example.com, b@example.com", subject: "{{ payload.title }}", html: "<b>{{ payload.title }}</b>" }
      - chat: { channel: ops, text: "{{ payload.title }}", facts: { Size: "{{ payload.size ?? 0 }}" } }
      - http: { url: "{{ payload.hook }}", body: { n: "{{ payload.id }}", s: "#{{ payload.id }}", list: ["{{ payload.id }}"] } }
)");
    const Rule& rule = rules.rules()[0];
    auto run = rules.PlanRule(
        rule, FileEvent("file.created", {{"id", 5}, {"title", "T"}, {"hook", "ftp://x"}}), Facts{});
    ASSERT_TRUE(run);
    auto mail = RenderStepInput(rule.steps[0], run->context);
    ASSERT_TRUE(mail) << mail.error().message;
    // Address lists are not split on commas (display names hold them); the mailer parses each entry.
    EXPECT_EQ((*mail)["to"], Json({"Doe, Jane <j@example.com>"}));
    EXPECT_EQ((*mail)["cc"], Json({"a@example.com, b@example.com"}));
    EXPECT_EQ((*mail)["html"], Json("<b>T</b>"));
    EXPECT_FALSE(mail->contains("body"));
    auto chat = RenderStepInput(rule.steps[1], run->context);
    ASSERT_TRUE(chat);
    EXPECT_EQ(*chat, (Json{{"channel", "ops"}, {"text", "T"}, {"facts", {{"Size", "0"}}}}));
    auto http = RenderStepInput(rule.steps[2], run->context);
    ASSERT_FALSE(http);
    EXPECT_EQ(http.error().message, "step http (http): url: expected an http(s) URL");
    auto lenient = RenderStepInput(rule.steps[2], run->context, RenderMode::kKeepUnresolved);
    ASSERT_TRUE(lenient);
    EXPECT_EQ((*lenient)["body"], (Json{{"n", 5}, {"s", "#5"}, {"list", {5}}}));
    EXPECT_EQ((*lenient)["method"], Json("POST"));
}

TEST(Step, JsonRoundTrip) {
    auto rules = CompileText("rules:\n  - {name: a, on: file.created, do: [ {move: {to: 1}, id: go} ]}\n");
    const Step& step = rules.rules()[0].steps[0];
    auto back = Step::FromJson(step.ToJson(), steps::Kinds());
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->kind, step.kind);
    EXPECT_EQ(back->kind->name(), "move");
    EXPECT_EQ(back->id, "go");
    EXPECT_EQ(back->input, step.input);
    EXPECT_FALSE(
        Step::FromJson(Json{{"kind", "teleport"}, {"id", "x"}, {"input", Json::object()}}, steps::Kinds()));
    EXPECT_FALSE(Step::FromJson(Json::array(), steps::Kinds()));
    EXPECT_EQ(steps::Kinds().Find("create_folders")->name(), "create_folders");
    EXPECT_EQ(steps::Kinds().Find("teleport"), nullptr);
    EXPECT_EQ(steps::Kinds().Names()[4], "set_access");
    EXPECT_EQ(steps::Kinds().Names().size(), 10u);
}

TEST(Explain, DescribeListsRulesAndTheMask) {
    auto rules = CompileText(R"(
rules:
  - name: a
    description: move invoices
    on: [file.created]
    if: { any: [ {in_folder: 5}, {title: x} ] }
    do: [ {move: {to: 1}} ]
  - {name: b, on: file.updated, enabled: false, do: [ {move: {to: 2}} ]}
)");
    EXPECT_EQ(DescribeRules(rules),
              "rule a (rules.yaml:3:5)\n"
              "  description: move invoices\n"
              "  on: file.created\n"
              "  if:\n"
              "    any of\n"
              "      in_folder 5\n"
              "      title equals \"x\"\n"
              "  do:\n"
              "    1. move: {\"conflict\":\"skip\",\"items\":\"{{ entity }}\",\"to\":1}\n"
              "  key: per entity and trigger class\n"
              "  needs: nothing\n"
              "rule b (rules.yaml:8:5) [disabled]\n"
              "  on: file.updated\n"
              "  do:\n"
              "    1. move: {\"conflict\":\"skip\",\"items\":\"{{ entity }}\",\"to\":2}\n"
              "  key: per entity and trigger class\n"
              "  needs: nothing\n"
              "2 rules; triggers: 128 (file.created)\n");
}
