#include "config/document.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace spacehook;
using namespace spacehook::config;

namespace {

Document Load(std::string_view text, std::map<std::string, std::string> env = {}) {
    auto doc = LoadYamlText(text, "t.yaml", MapEnv(std::move(env)));
    EXPECT_TRUE(doc) << (doc ? "" : doc.error().message);
    return doc ? *doc : Document{};
}

std::string LoadError(std::string_view text, std::map<std::string, std::string> env = {}) {
    auto doc = LoadYamlText(text, "t.yaml", MapEnv(std::move(env)));
    EXPECT_FALSE(doc);
    if (doc) return "";
    EXPECT_EQ(doc.error().code, ErrorCode::kConfig);
    return doc.error().message;
}

}  // namespace

TEST(ExpandVars, PlainDefaultsAndDollarEscape) {
    auto env = MapEnv({{"ROOM", "890"}, {"EMPTY", ""}});
    EXPECT_EQ(*ExpandVars("id ${ROOM}", env), "id 890");
    EXPECT_EQ(*ExpandVars("${MISSING:-42}", env), "42");
    EXPECT_EQ(*ExpandVars("${MISSING:-}", env), "");
    EXPECT_EQ(*ExpandVars("${EMPTY:-fallback}", env), "fallback");  // ':-' replaces set-but-empty too
    EXPECT_EQ(*ExpandVars("${EMPTY}", env), "");
    EXPECT_EQ(*ExpandVars("cost $$5 and $x", env), "cost $5 and $x");
    EXPECT_EQ(*ExpandVars("${MISSING:-${ROOM}}", env), "890");
    EXPECT_EQ(*ExpandVars("${MISSING:-a${NOPE:-b}c}", env), "abc");
    EXPECT_EQ(*ExpandVars("{{ file.title }}", env), "{{ file.title }}");
    EXPECT_EQ(*ExpandVars("trailing $", env), "trailing $");
}

TEST(ExpandVars, ErrorsNameTheVariable) {
    auto env = MapEnv({});
    auto unset = ExpandVars("${CLIENT_ROOM_ID}", env);
    ASSERT_FALSE(unset);
    EXPECT_EQ(unset.error().code, ErrorCode::kConfig);
    EXPECT_NE(unset.error().message.find("CLIENT_ROOM_ID is not set"), std::string::npos);
    EXPECT_FALSE(ExpandVars("${ROOM", env));
    EXPECT_FALSE(ExpandVars("${ROOM:-x", env));
    EXPECT_FALSE(ExpandVars("${1X}", env));
    EXPECT_FALSE(ExpandVars("${ROOM-x}", env));
}

TEST(ExpandVars, ProcessEnvReadsTheEnvironment) {
    ::setenv("SPACEHOOK_CONFIG_TEST_VAR", "from-process", 1);
    EXPECT_EQ(*ExpandVars("${SPACEHOOK_CONFIG_TEST_VAR}", ProcessEnv()), "from-process");
    ::unsetenv("SPACEHOOK_CONFIG_TEST_VAR");
    EXPECT_FALSE(ExpandVars("${SPACEHOOK_CONFIG_TEST_VAR}", ProcessEnv()));
}

TEST(YamlTyping, UnquotedScalarsFollowTheCoreSchema) {
    auto doc = Load(R"(
int: 890
negative: -12
plus: +7
octal: 0o17
hex: 0xff
float: 1.5
exp: 2e3
dot: .5
yes_word: yes
t: true
f: False
n: null
tilde: ~
empty:
big: 123456789012345678901234567890
text: hello world
version: 1.2.3
inf: .inf
nan: .NaN
)");
    EXPECT_EQ(doc.root["int"], Json(890));
    EXPECT_EQ(doc.root["negative"], Json(-12));
    EXPECT_EQ(doc.root["plus"], Json(7));
    EXPECT_EQ(doc.root["octal"], Json(15));
    EXPECT_EQ(doc.root["hex"], Json(255));
    EXPECT_EQ(doc.root["float"], Json(1.5));
    EXPECT_EQ(doc.root["exp"], Json(2000.0));
    EXPECT_EQ(doc.root["dot"], Json(0.5));
    EXPECT_EQ(doc.root["yes_word"], Json("yes"));  // YAML 1.1 booleans are text in 1.2
    EXPECT_EQ(doc.root["t"], Json(true));
    EXPECT_EQ(doc.root["f"], Json(false));
    EXPECT_TRUE(doc.root["n"].is_null());
    EXPECT_TRUE(doc.root["tilde"].is_null());
    EXPECT_TRUE(doc.root["empty"].is_null());
    EXPECT_EQ(doc.root["big"], Json("123456789012345678901234567890"));
    EXPECT_EQ(doc.root["text"], Json("hello world"));
    EXPECT_EQ(doc.root["version"], Json("1.2.3"));
    EXPECT_TRUE(std::isinf(doc.root["inf"].get<double>()));
    EXPECT_TRUE(std::isnan(doc.root["nan"].get<double>()));
}

TEST(YamlTyping, QuotedAndBlockScalarsStayText) {
    auto doc = Load("a: \"890\"\nb: 'true'\nc: !!str 12\nd: |\n  line\ne: \"\"\n");
    EXPECT_EQ(doc.root["a"], Json("890"));
    EXPECT_EQ(doc.root["b"], Json("true"));
    EXPECT_EQ(doc.root["c"], Json("12"));
    EXPECT_EQ(doc.root["d"], Json("line\n"));
    EXPECT_EQ(doc.root["e"], Json(""));
}

TEST(YamlTyping, TypingHappensAfterExpansion) {
    auto doc = Load("room: ${ROOM}\nquoted: \"${ROOM}\"\nflag: ${FLAG}\nopt: ${UNSET:-}\nlist: ${IDS}\n",
                    {{"ROOM", "890"}, {"FLAG", "true"}, {"IDS", "404297,435466"}});
    EXPECT_EQ(doc.root["room"], Json(890));
    EXPECT_EQ(doc.root["quoted"], Json("890"));
    EXPECT_EQ(doc.root["flag"], Json(true));
    EXPECT_TRUE(doc.root["opt"].is_null());  // an unset optional id is "nothing", not ""
    EXPECT_EQ(doc.root["list"], Json("404297,435466"));
}

TEST(YamlTyping, SourceTextKeepsWhatWasWritten) {
    auto doc = Load("secret: 01234567\nport: 0x1F\nname: plain\nq: \"5\"\n");
    EXPECT_EQ(doc.root["secret"], Json(1234567));
    EXPECT_EQ(*doc.TextAt("/secret"), "01234567");
    EXPECT_EQ(*doc.TextAt("/port"), "0x1F");
    EXPECT_EQ(*doc.TextAt("/name"), "plain");
    EXPECT_EQ(*doc.TextAt("/q"), "5");
    EXPECT_FALSE(doc.TextAt("/missing"));
}

TEST(YamlLoad, DuplicateKeysAreErrors) {
    auto message = LoadError("server:\n  listen: :3000\n  threads: 2\n  listen: :4000\n");
    EXPECT_EQ(message, "t.yaml:4:3: duplicate key 'listen' (first written at t.yaml:2:3)");
}

TEST(YamlLoad, SameKeyInDifferentMapsIsFine) {
    auto doc = Load("a: {x: 1}\nb: {x: 2}\n");
    EXPECT_EQ(doc.root["a"]["x"], Json(1));
    EXPECT_EQ(doc.root["b"]["x"], Json(2));
}

TEST(YamlLoad, AnchorsAliasesAndMergeKeys) {
    auto doc = Load(R"(
defaults: &mail
  to: boss@example.com
  subject: hi
ids: &ids [1, 2]
first:
  <<: *mail
  subject: override
second:
  list: *ids
  copy: *mail
)");
    EXPECT_EQ(doc.root["first"]["to"], Json("boss@example.com"));
    EXPECT_EQ(doc.root["first"]["subject"], Json("override"));  // explicit keys win over merged ones
    EXPECT_FALSE(doc.root["first"].contains("<<"));
    EXPECT_EQ(doc.root["second"]["list"], Json({1, 2}));
    EXPECT_EQ(doc.root["second"]["copy"]["subject"], Json("hi"));
    // A merged value is located where it was written (the anchored original).
    EXPECT_EQ(doc.Locate("/first/to").line, 3);
    EXPECT_EQ(doc.Locate("/first/subject").line, 8);
    EXPECT_EQ(doc.Locate("/second/copy").line, 11);
    EXPECT_EQ(doc.Locate("/second/copy/to").line, 3);
}

TEST(YamlLoad, MergeOfANonMapIsAnError) {
    auto message = LoadError("a: &x 5\nb:\n  <<: *x\n");
    EXPECT_NE(message.find("'<<' merges maps only"), std::string::npos);
}

TEST(YamlLoad, LocationsPointAtKeysAndItems) {
    auto doc = Load("rules:\n  - name: a\n    if:\n      title: x\n  - name: b\n");
    EXPECT_EQ(doc.Locate("/rules").ToString(), "t.yaml:1:1");
    EXPECT_EQ(doc.Locate("/rules/0").ToString(), "t.yaml:2:5");
    EXPECT_EQ(doc.Locate("/rules/0/if/title").ToString(), "t.yaml:4:7");
    EXPECT_EQ(doc.Locate("/rules/1/name").ToString(), "t.yaml:5:5");
    // Nearest ancestor for pointers that name nothing.
    EXPECT_EQ(doc.Locate("/rules/0/if/title/starts_with").ToString(), "t.yaml:4:7");
    EXPECT_EQ(doc.ErrorAt("/rules/1/name", "bad").message, "t.yaml:5:5: bad");
}

TEST(YamlLoad, SyntaxErrorsAndUnsetVariablesAreLocated) {
    EXPECT_EQ(LoadError("a: [1, 2\n"), "t.yaml:2:1: end of sequence flow not found");
    EXPECT_EQ(LoadError("a: 1\nb: ${NOPE}\n"),
              "t.yaml:2:4: environment variable NOPE is not set (write ${NOPE:-} if it is optional)");
    EXPECT_EQ(LoadError("a: 1\n---\nb: 2\n"), "t.yaml:2:1: only one YAML document per file is supported");
    EXPECT_NE(LoadError("a: !custom 1\n").find("unsupported tag"), std::string::npos);
    EXPECT_NE(LoadError("? [a]\n: 1\n").find("map keys must be plain text"), std::string::npos);
}

// Every loaded string ends up in JSON, whose dump() throws on bytes that are not UTF-8: a file saved as
// Latin-1 is a located load error, not an exception in whatever dumps the rule later (found by
// fuzz_config_rules; the input is kept in fuzz/regressions/config_rules).
TEST(YamlLoad, TextThatIsNotUtf8IsLocated) {
    const std::string kNotUtf8 = "text is not valid UTF-8 (save the file as UTF-8)";
    EXPECT_EQ(LoadError("a: 1\nsubject: Gr\xfc\xdf\n"), "t.yaml:2:10: " + kNotUtf8);  // Latin-1
    EXPECT_EQ(LoadError("Gr\xfc\xdf: 1\n"), "t.yaml:1:1: " + kNotUtf8);
    EXPECT_EQ(LoadError("a: [\"\xc3\x28\"]\n"), "t.yaml:1:5: " + kNotUtf8);
    EXPECT_EQ(LoadError("a: \xed\xa0\x80\n"), "t.yaml:1:4: " + kNotUtf8);      // a UTF-16 surrogate
    EXPECT_EQ(LoadError("a: \xc0\xaf\n"), "t.yaml:1:4: " + kNotUtf8);          // overlong '/'
    EXPECT_EQ(LoadError("a: \xf4\x90\x80\x80\n"), "t.yaml:1:4: " + kNotUtf8);  // past U+10FFFF
    EXPECT_EQ(LoadError("a: ${X}\n", {{"X", "\xff"}}), "t.yaml:1:4: a ${VAR} value is not valid UTF-8");
    auto doc = Load("a: \"Gr\xc3\xbc\xc3\x9f \xe6\x97\xa5 \xf0\x9f\x98\x80\"\n");
    EXPECT_EQ(doc.root["a"], Json("Gr\xc3\xbc\xc3\x9f \xe6\x97\xa5 \xf0\x9f\x98\x80"));
}

TEST(YamlLoad, EmptyFileIsNull) {
    auto doc = Load("# only a comment\n");
    EXPECT_TRUE(doc.root.is_null());
}

TEST(YamlLoad, KeysAreNeitherExpandedNorTyped) {
    auto doc = Load("${X}: 1\n\"2\": a\n3: b\n", {{"X", "y"}});
    EXPECT_TRUE(doc.root.contains("${X}"));
    EXPECT_EQ(doc.root["3"], Json("b"));
}

TEST(YamlLoad, AliasBombIsRefused) {
    std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i < 8; ++i) {
        text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
        for (int j = 0; j < 10; ++j) text += std::string(j ? ", " : "") + "*a" + std::to_string(i - 1);
        text += "]\n";
    }
    EXPECT_NE(LoadError(text).find("too large"), std::string::npos);
}

TEST(YamlLoad, FilesAreReadWithTheirNameInMessages) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("spacehook_doc_test_" + std::to_string(::getpid()) + ".yaml");
    {
        std::ofstream out(path);
        out << "a: 1\nb: [\n";
    }
    auto doc = LoadYamlFile(path.string(), MapEnv({}));
    ASSERT_FALSE(doc);
    EXPECT_EQ(doc.error().message.rfind(path.string() + ":", 0), 0u);
    std::filesystem::remove(path);
    auto missing = LoadYamlFile(path.string(), MapEnv({}));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().message, path.string() + ": cannot read the file");
}

TEST(YamlLoad, VariablesInsideFlowCollections) {
    // `{` and `}` are flow indicators; `${VAR}` must still work inside `{ ... }` and `[ ... ]`.
    auto doc = Load(
        "move: { to: ${FOLDER}, title: \"${T:-a}\" }\nids: [${A}, ${B:-${A}}]\nnested: {x: ${NOPE:-two "
        "words}}\n",
        {{"FOLDER", "748239"}, {"A", "1"}});
    EXPECT_EQ(doc.root["move"]["to"], Json(748239));
    EXPECT_EQ(doc.root["move"]["title"], Json("a"));
    EXPECT_EQ(doc.root["ids"], Json({1, 1}));
    EXPECT_EQ(doc.root["nested"]["x"], Json("two words"));
    // Marks are unchanged by the protection: the error is at the real column.
    auto error = LoadError("a: { to: ${UNSET} }\n");
    EXPECT_EQ(error,
              "t.yaml:1:10: environment variable UNSET is not set (write ${UNSET:-} if it is optional)");
}
