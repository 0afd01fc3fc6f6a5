#include "rules/template.hpp"

#include <gtest/gtest.h>

using namespace spacehook;
using namespace spacehook::rules;

namespace {

const Json kContext = {
    {"file", {{"title", "Invoice 7.docx"}, {"id", 1234}, {"version", 2}, {"size", 1.5}, {"locked", false}}},
    {"payload",
     {{"email", "Jane+Docs@Example.com"},
      {"name", "  Jane  "},
      {"empty", ""},
      {"none", nullptr},
      {"tags", {"a", "b"}},
      {"meta", {{"k", "v"}}},
      {"odd key", "x"}}},
    {"steps", {{"room", {{"id", 890}, {"title", "Home"}}}}},
};

Json Render(std::string_view text, RenderMode mode = RenderMode::kStrict) {
    auto parsed = Template::Parse(text);
    EXPECT_TRUE(parsed) << text << ": " << (parsed ? "" : parsed.error().message);
    if (!parsed) return nullptr;
    auto rendered = parsed->Render(kContext, mode);
    EXPECT_TRUE(rendered) << text << ": " << (rendered ? "" : rendered.error().message);
    return rendered ? *rendered : Json(nullptr);
}

std::string RenderError(std::string_view text) {
    auto parsed = Template::Parse(text);
    if (!parsed) return "parse: " + parsed.error().message;
    auto rendered = parsed->Render(kContext);
    EXPECT_FALSE(rendered) << text;
    return rendered ? "" : rendered.error().message;
}

std::string ParseError(std::string_view text) {
    auto parsed = Template::Parse(text);
    EXPECT_FALSE(parsed) << text;
    if (parsed) return "";
    EXPECT_EQ(parsed.error().code, ErrorCode::kConfig);
    return parsed.error().message;
}

}  // namespace

TEST(Template, PlainTextIsUnchanged) {
    EXPECT_EQ(Render("no templates here }}"), Json("no templates here }}"));
    EXPECT_FALSE(Template::HasExpressions("a } b"));
    EXPECT_TRUE(Template::HasExpressions("a {{ b }}"));
}

TEST(Template, EmbeddedValuesBecomeText) {
    EXPECT_EQ(Render("Invoice: {{ file.title }} (v{{ file.version }})"),
              Json("Invoice: Invoice 7.docx (v2)"));
    EXPECT_EQ(Render("{{file.size}}/{{ file.locked }}"), Json("1.5/false"));
    EXPECT_EQ(Render("tags={{ payload.tags }} meta={{ payload.meta }}"),
              Json("tags=[\"a\",\"b\"] meta={\"k\":\"v\"}"));
}

TEST(Template, ASingleExpressionKeepsItsJsonType) {
    EXPECT_EQ(Render("{{ steps.room.id }}"), Json(890));
    EXPECT_EQ(Render("{{ file.locked }}"), Json(false));
    EXPECT_EQ(Render("{{ payload.tags }}"), Json({"a", "b"}));
    EXPECT_EQ(Render("{{ steps.room }}"), Json({{"id", 890}, {"title", "Home"}}));
    // Any text around it makes it text.
    EXPECT_EQ(Render(" {{ steps.room.id }}"), Json(" 890"));
}

TEST(Template, PathsIndexesAndQuotedKeys) {
    EXPECT_EQ(Render("{{ payload.tags[1] }}"), Json("b"));
    EXPECT_EQ(Render("{{ payload.tags.0 }}"), Json("a"));
    EXPECT_EQ(Render("{{ payload['odd key'] }}"), Json("x"));
    EXPECT_EQ(Render("{{ payload[\"meta\"].k }}"), Json("v"));
}

TEST(Template, FallbacksSkipMissingAndNull) {
    EXPECT_EQ(Render("{{ user.displayName ?? payload.none ?? payload.email }}"),
              Json("Jane+Docs@Example.com"));
    EXPECT_EQ(Render("{{ user.displayName ?? 'someone' }}"), Json("someone"));
    EXPECT_EQ(Render("{{ user.displayName ?? \"two words\" }}"), Json("two words"));
    EXPECT_EQ(Render("{{ missing ?? 42 }}"), Json(42));
    EXPECT_EQ(Render("{{ missing ?? -1 }}"), Json(-1));
    EXPECT_EQ(Render("{{ 'it\\'s' }}"), Json("it's"));
    // An empty string is a value: ?? does not skip it (default() does).
    EXPECT_EQ(Render("[{{ payload.empty ?? 'x' }}]"), Json("[]"));
}

TEST(Template, EveryFilter) {
    EXPECT_EQ(Render("{{ payload.email | lower }}"), Json("jane+docs@example.com"));
    EXPECT_EQ(Render("{{ payload.email | upper }}"), Json("JANE+DOCS@EXAMPLE.COM"));
    EXPECT_EQ(Render("[{{ payload.name | trim }}]"), Json("[Jane]"));
    EXPECT_EQ(Render("{{ payload.email | urlencode }}"), Json("Jane%2BDocs%40Example.com"));
    EXPECT_EQ(Render("{{ file.title | urlencode }}"), Json("Invoice%207.docx"));
    EXPECT_EQ(Render("{{ payload.meta | json }}"), Json("{\"k\":\"v\"}"));
    EXPECT_EQ(Render("{{ file.id | json }}"), Json("1234"));
    EXPECT_EQ(Render("{{ payload.name | json }}"), Json("\"  Jane  \""));
    EXPECT_EQ(Render("{{ payload.empty | default('none') }}"), Json("none"));
    EXPECT_EQ(Render("{{ payload.none | default(\"none\") }}"), Json("none"));
    EXPECT_EQ(Render("{{ missing | default('none') }}"), Json("none"));
    EXPECT_EQ(Render("{{ payload.email | default('none') }}"), Json("Jane+Docs@Example.com"));
    EXPECT_EQ(Render("{{ missing | default(7) }}"), Json(7));
    // Filters apply in order, after the ?? chain.
    EXPECT_EQ(Render("{{ missing ?? payload.name | trim | upper }}"), Json("JANE"));
    EXPECT_EQ(Render("{{ file.id | lower }}"), Json("1234"));  // numbers become text first
    // lower/upper are ASCII-only.
    auto parsed = Template::Parse("{{ t | lower }}");
    ASSERT_TRUE(parsed);
    EXPECT_EQ(*parsed->Render(Json{{"t", "ÄBC"}}), Json("Äbc"));
}

// Bytes that are not UTF-8 (a literal in a template built outside a checked rule file) made `json` and
// the text of lists throw from nlohmann's dump(); they render as U+FFFD instead (found by fuzz_template,
// input kept in fuzz/regressions/template).
TEST(Template, TextThatIsNotUtf8NeverThrows) {
    EXPECT_EQ(Render("{{ \"\xff\" | json }}"), Json("\"\xef\xbf\xbd\""));
    EXPECT_EQ(TemplateText(Json::array({"a\xc3\x28"})), "[\"a\xef\xbf\xbd(\"]");
}

// An index past 64 bits names nothing; std::stoul threw out_of_range on it (found by fuzz_template,
// input kept in fuzz/regressions/template).
TEST(Template, HugeIndexIsMissing) {
    EXPECT_EQ(RenderError("{{ payload.tags[18446744073709551616] }}"),
              "{{ payload.tags[18446744073709551616] }}: no value for payload.tags.18446744073709551616");
    EXPECT_EQ(Render("{{ payload.tags[99999999999999999999999] ?? 'none' }}"), Json("none"));
    EXPECT_EQ(Render("{{ payload.tags[1] }}"), Json("b"));
}

TEST(Template, MissingValuesAreRenderErrors) {
    EXPECT_EQ(RenderError("Hi {{ user.displayName }}"),
              "{{ user.displayName }}: no value for user.displayName");
    EXPECT_EQ(RenderError("{{ user.displayName ?? payload.userName ?? payload.none }}"),
              "{{ user.displayName ?? payload.userName ?? payload.none }}: no value for user.displayName, "
              "payload.userName or payload.none");
    EXPECT_EQ(RenderError("{{ payload.tags[5] }}"), "{{ payload.tags[5] }}: no value for payload.tags.5");
    EXPECT_EQ(RenderError("{{ missing | upper }}"), "{{ missing | upper }}: no value for missing");
    EXPECT_EQ(RenderError("{{ payload.meta | lower }}"),
              "{{ payload.meta | lower }}: filter lower needs text, got a map");
    EXPECT_EQ(RenderError("{{ payload.tags | trim }}"),
              "{{ payload.tags | trim }}: filter trim needs text, got a list");
    auto parsed = Template::Parse("{{ missing }}");
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->Render(kContext).error().code, ErrorCode::kInvalidArgument);
}

TEST(Template, KeepUnresolvedLeavesTheExpression) {
    EXPECT_EQ(Render("room {{ steps.later.id }} of {{ file.title }}", RenderMode::kKeepUnresolved),
              Json("room {{ steps.later.id }} of Invoice 7.docx"));
    EXPECT_EQ(Render("{{steps.later.id}}", RenderMode::kKeepUnresolved), Json("{{ steps.later.id }}"));
}

TEST(Template, SyntaxErrors) {
    EXPECT_EQ(ParseError("{{ file.title"), "'{{' is never closed by '}}'");
    EXPECT_EQ(ParseError("{{ }}"), "empty '{{ }}'");
    EXPECT_EQ(ParseError("{{ file.title | capitalize }}"),
              "unknown filter 'capitalize'; filters are: lower, upper, trim, urlencode, json, default");
    EXPECT_EQ(ParseError("{{ a | default }}"), "default needs a value: default(\"text\")");
    EXPECT_EQ(ParseError("{{ a | lower('x') }}"), "lower takes no argument");
    EXPECT_EQ(ParseError("{{ a ?? }}"),
              "expected a name or a \"literal\" after the '?"
              "?'");
    EXPECT_EQ(ParseError("{{ a. }}"), "expected a name after 'a.'");
    EXPECT_EQ(ParseError("{{ a[x] }}"), "expected an index or a quoted key inside '[ ]'");
    EXPECT_EQ(ParseError("{{ 'open }}"), "a string literal is never closed");
    EXPECT_EQ(ParseError("{{ a b }}"), "unexpected 'b' in '{{ a b }}'");
    EXPECT_EQ(ParseError("{{ #x }}"), "expected a name like file.title, got '#'");
}

TEST(Template, ExpressionsExposeTheirPaths) {
    auto parsed = Template::Parse("{{ user.displayName ?? 'x' }} and {{ steps.room.id | json }}");
    ASSERT_TRUE(parsed);
    auto expressions = parsed->Expressions();
    ASSERT_EQ(expressions.size(), 2u);
    EXPECT_EQ(expressions[0]->operands[0].path.ToString(), "user.displayName");
    EXPECT_TRUE(expressions[0]->operands[1].literal.has_value());
    EXPECT_EQ(expressions[1]->filters[0].name, "json");
    EXPECT_FALSE(parsed->IsSingleExpression());
}

TEST(Template, RenderJsonWalksObjectsAndArrays) {
    Json input = {{"id", "{{ steps.room.id }}"}, {"list", {"{{ file.title }}", 3}}, {"{{ key }}", "plain"}};
    auto rendered = RenderJson(input, kContext);
    ASSERT_TRUE(rendered);
    EXPECT_EQ((*rendered)["id"], Json(890));
    EXPECT_EQ((*rendered)["list"], Json({"Invoice 7.docx", 3}));
    EXPECT_EQ((*rendered)["{{ key }}"], Json("plain"));  // keys are left alone
    auto bad = RenderJson(Json{{"x", "{{ oops"}}, kContext);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

TEST(Template, TemplateText) {
    EXPECT_EQ(TemplateText(Json("a")), "a");
    EXPECT_EQ(TemplateText(Json(12)), "12");
    EXPECT_EQ(TemplateText(Json(true)), "true");
    EXPECT_EQ(TemplateText(Json(nullptr)), "");
    EXPECT_EQ(TemplateText(Json({1, 2})), "[1,2]");
}
