// Payload text is data, never structure: what a template fills into a list input, an address or a URL
// cannot add entries, recipients, grants, path segments or query parameters.
#include <gtest/gtest.h>

#include "rules/compiled_rules.hpp"
#include "steps/catalog.hpp"

using namespace spacehook;
using namespace spacehook::rules;

namespace {

/// The rendered input of the one step of a rule `on: file.created` whose `do:` is `step`, against an
/// event with `payload`.
Result<Json> RenderOne(const std::string& step, const Json& payload,
                       std::map<std::string, std::string> env = {}) {
    const std::string text = "rules:\n  - name: r\n    on: file.created\n    do:\n      - " + step + "\n";
    auto doc = config::LoadYamlText(text, "rules.yaml", config::MapEnv(std::move(env)));
    EXPECT_TRUE(doc) << (doc ? "" : doc.error().message);
    if (!doc) return Fail(ErrorCode::kInternal, "no document");
    auto compiled = Compile({*doc}, steps::Kinds());
    EXPECT_TRUE(compiled) << (compiled ? "" : compiled.error().message);
    if (!compiled) return Fail(ErrorCode::kInternal, "not compiled");
    const Json event = {{"trigger", "file.created"},
                        {"createOn", "2026-06-30T10:15:42Z"},
                        {"createBy", "66faa6e4-f133-11ea-b126-00ffeec8b4ef"},
                        {"id", 1}};
    auto parsed = ParseEvent(Json{{"event", event}, {"payload", payload}, {"webhook", {{"id", 7}}}});
    EXPECT_TRUE(parsed);
    if (!parsed) return Fail(ErrorCode::kInternal, "no event");
    const Rule& rule = compiled->rules()[0];
    auto run = compiled->PlanRule(rule, *parsed, Facts{});
    EXPECT_TRUE(run);
    if (!run) return Fail(ErrorCode::kInternal, "no run");
    return RenderStepInput(rule.steps[0], run->context);
}

const Json kHostileTitle = {{"id", 5}, {"title", "x@evil.example, boss@corp.example"}};

}  // namespace

TEST(PayloadIsData, AFileTitleInToOrCcNeverAddsARecipient) {
    for (const std::string step :
         {R"(mail: { to: "{{ payload.title }}", subject: s, body: b })",
          R"(mail: { to: ["{{ payload.title }}"], subject: s, body: b })",
          R"(mail: { to: a@corp.example, cc: "{{ payload.title }}", subject: s, body: b })",
          R"(mail: { to: "Ops <ops@corp.example>; {{ payload.title }}", subject: s, body: b })"}) {
        auto mail = RenderOne(step, kHostileTitle);
        ASSERT_FALSE(mail) << step << " rendered " << mail->dump();
        EXPECT_EQ(mail.error().code, ErrorCode::kInvalidArgument);
        EXPECT_NE(mail.error().message.find("holds 2 addresses"), std::string::npos) << mail.error().message;
    }
    // Inside quotes the title is a display name: one recipient. A quote in it cannot break out of them.
    auto name = RenderOne(R"(mail: { to: "\"{{ payload.title }}\" <j@corp.example>", subject: s, body: b })",
                          kHostileTitle);
    ASSERT_TRUE(name) << name.error().message;
    EXPECT_EQ((*name)["to"], Json({"\"x@evil.example, boss@corp.example\" <j@corp.example>"}));
    auto quoted =
        RenderOne(R"(mail: { to: "\"{{ payload.title }}\" <j@corp.example>", subject: s, body: b })",
                  {{"title", "Eve\", x@evil.example, \""}});
    ASSERT_FALSE(quoted);
}

TEST(PayloadIsData, OneAddressPerValueAndListsOnlyFromLists) {
    // Literal text is still a list for the mailer, as written; each value filled in is one entry.
    auto mixed = RenderOne(
        R"(mail: { to: "boss@corp.example, {{ payload.owner }}", cc: "a@x.example, b@x.example", subject: s, body: b })",
        {{"owner", "Doe Jane <j@corp.example>"}});
    ASSERT_TRUE(mixed) << mixed.error().message;
    EXPECT_EQ((*mixed)["to"], Json({"boss@corp.example", "Doe Jane <j@corp.example>"}));
    EXPECT_EQ((*mixed)["cc"], Json({"a@x.example, b@x.example"}));
    // A list-valued template gives a list.
    auto listed = RenderOne(R"(mail: { to: "{{ payload.emails }}", subject: s, body: b })",
                            {{"emails", {"a@corp.example", "b@corp.example"}}});
    ASSERT_TRUE(listed) << listed.error().message;
    EXPECT_EQ((*listed)["to"], Json({"a@corp.example", "b@corp.example"}));
    auto named =
        RenderOne(R"(mail: { to: "\"{{ payload.name }}\" <{{ payload.email }}>", subject: s, body: b })",
                  {{"name", "Doe, Jane"}, {"email", "j@corp.example"}});
    ASSERT_TRUE(named) << named.error().message;
    EXPECT_EQ((*named)["to"], Json({"\"Doe, Jane\" <j@corp.example>"}));
}

TEST(PayloadIsData, ASingularSetAccessValueIsExactlyOneGrant) {
    const std::string room = "set_access: { room: 1, entries: [ ";
    auto email = RenderOne(room + R"({ email: "{{ payload.title }}", access: editor } ] })", kHostileTitle);
    ASSERT_FALSE(email) << email->dump();
    EXPECT_NE(email.error().message.find("is not one e-mail address"), std::string::npos)
        << email.error().message;
    auto user =
        RenderOne(room + R"({ user: "{{ payload.title }}", access: editor } ] })", {{"title", "u1,u2"}});
    ASSERT_FALSE(user) << user->dump();
    EXPECT_NE(user.error().message.find("is not one user id"), std::string::npos) << user.error().message;
    auto group =
        RenderOne(room + R"({ group: "{{ payload.title }}", access: viewer } ] })", {{"title", "g1 g2"}});
    ASSERT_FALSE(group) << group->dump();
    EXPECT_NE(group.error().message.find("is not one group id"), std::string::npos) << group.error().message;
    // A plural key's template text is one value too: only a list-valued template gives several.
    auto users =
        RenderOne(room + R"({ users: "{{ payload.title }}", access: editor } ] })", {{"title", "u1,u2"}});
    ASSERT_FALSE(users) << users->dump();

    auto fine = RenderOne(
        room + R"({ user: "{{ payload.id }}", access: editor },)" +
            R"({ users: "{{ payload.ids }}", access: viewer }, { emails: "${MAILS}", access: viewer } ] })",
        {{"id", "u0"}, {"ids", {"u1", "u2"}}}, {{"MAILS", "a@x.example, b@x.example"}});
    ASSERT_TRUE(fine) << fine.error().message;
    EXPECT_EQ((*fine)["invitations"],
              Json::parse(R"([{"id":"u0","access":10,"kind":"user"},{"id":"u1","access":2,"kind":"user"},
                             {"id":"u2","access":2,"kind":"user"},{"email":"a@x.example","access":2},
                             {"email":"b@x.example","access":2}])"));
}

TEST(PayloadIsData, IdListsSplitOnlyWhatIsWritten) {
    auto copy = RenderOne(R"(copy_as: { files: "${IDS},{{ payload.title }}", to: 9 })",
                          {{"title", "sbox-1|/a, b.docx"}}, {{"IDS", "11,12"}});
    ASSERT_TRUE(copy) << copy.error().message;
    EXPECT_EQ((*copy)["files"], Json({11, 12, "sbox-1|/a, b.docx"}));
}

TEST(PayloadIsData, HttpUrlValuesAreEncodedInThePathAndQuery) {
    auto http = RenderOne(
        R"(http: { url: "https://hooks.example.com/files/{{ payload.title }}?name={{ payload.title }}&raw={{ payload.title | urlencode }}" })",
        {{"title", "../admin/api?x=1&y=2#z"}});
    ASSERT_TRUE(http) << http.error().message;
    const std::string encoded = "..%2Fadmin%2Fapi%3Fx%3D1%26y%3D2%23z";
    EXPECT_EQ((*http)["url"],
              Json("https://hooks.example.com/files/" + encoded + "?name=" + encoded + "&raw=" + encoded));
    // A template that is the whole URL (or its host) is the URL: where it may lead is the outbound guard's
    // to decide.
    auto whole = RenderOne(R"(http: { url: "{{ payload.hook }}" })", {{"hook", "https://x.example/a?b=c"}});
    ASSERT_TRUE(whole) << whole.error().message;
    EXPECT_EQ((*whole)["url"], Json("https://x.example/a?b=c"));
}
