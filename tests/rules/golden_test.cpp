// Runs every golden case under tests/rules (see CMakeLists.txt there): one ctest entry per case.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/document.hpp"
#include "rules/compiled_rules.hpp"
#include "rules/event.hpp"
#include "rules/explain.hpp"
#include "rules/facts.hpp"
#include "steps/catalog.hpp"

namespace fs = std::filesystem;
using namespace spacehook;

namespace {

std::string ReadFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<std::string> Cases() {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(SPACEHOOK_RULES_CASES)) {
        if (entry.is_directory() && fs::exists(entry.path() / "rules.yaml"))
            names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

/// `env`: KEY=VALUE per line ('#' comments); the only environment the case's ${VAR}s see.
config::Env CaseEnv(const fs::path& dir) {
    std::map<std::string, std::string> values;
    if (fs::exists(dir / "env")) {
        std::istringstream lines(ReadFile(dir / "env"));
        std::string line;
        while (std::getline(lines, line)) {
            if (line.empty() || line[0] == '#') continue;
            const auto eq = line.find('=');
            if (eq != std::string::npos) values[line.substr(0, eq)] = line.substr(eq + 1);
        }
    }
    return config::MapEnv(std::move(values));
}

/// What the case produces: the located load error, or for each event file (sorted) the explanation
/// followed by what the dispatcher would plan.
std::string RunCase(const fs::path& dir) {
    auto doc = config::LoadYamlText(ReadFile(dir / "rules.yaml"), "rules.yaml", CaseEnv(dir));
    if (!doc) return doc.error().message + "\n";
    rules::CompileOptions options;
    if (fs::exists(dir / "channels")) {
        options.chat_channels.emplace();
        std::istringstream names(ReadFile(dir / "channels"));
        for (std::string name; names >> name;) options.chat_channels->insert(name);
    }
    auto compiled = rules::Compile({*doc}, steps::Kinds(), options);
    if (!compiled) return compiled.error().message + "\n";

    rules::Facts facts;
    if (fs::exists(dir / "facts.json")) {
        auto parsed = rules::Facts::FromJson(Json::parse(ReadFile(dir / "facts.json")));
        if (!parsed) return "facts.json: " + parsed.error().message + "\n";
        facts = std::move(*parsed);
    }
    std::vector<fs::path> events;
    for (const auto& entry : fs::directory_iterator(dir)) {
        const auto name = entry.path().filename().string();
        if (name.rfind("event", 0) == 0 && entry.path().extension() == ".json")
            events.push_back(entry.path());
    }
    std::sort(events.begin(), events.end());
    if (events.empty()) return "the case has no event*.json\n";
    std::string out;
    for (const auto& path : events) {
        if (!out.empty()) out += "\n";
        out += "## " + path.filename().string() + "\n";
        auto event = rules::ParseEventBody(ReadFile(path));
        if (!event) {
            out += "error: " + event.error().message + "\n";
            continue;
        }
        out += rules::ExplainEvent(*compiled, *event, facts);
        auto plan = compiled->Plan(*event, facts);
        if (!plan) {
            out += "plan: error: " + plan.error().message + "\n";
            continue;
        }
        out += "plan:";
        if (plan->empty()) out += " no runs";
        for (const auto& run : *plan) out += " " + run.run_key;
        out += "\n";
    }
    return out;
}

class Golden : public testing::TestWithParam<std::string> {};

TEST_P(Golden, MatchesExpected) {
    const fs::path dir = fs::path(SPACEHOOK_RULES_CASES) / GetParam();
    const std::string actual = RunCase(dir);
    const char* update = std::getenv("SPACEHOOK_UPDATE_GOLDEN");
    if (update != nullptr && std::string(update) == "1") {
        std::ofstream(dir / "expected", std::ios::binary) << actual;
        GTEST_SKIP() << "rewrote " << (dir / "expected").string();
    }
    ASSERT_TRUE(fs::exists(dir / "expected")) << "missing " << (dir / "expected").string();
    EXPECT_EQ(ReadFile(dir / "expected"), actual) << "case " << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Rules, Golden, testing::ValuesIn(Cases()),
                         [](const testing::TestParamInfo<std::string>& param_info) {
                             std::string name = param_info.param;
                             std::replace_if(
                                 name.begin(), name.end(),
                                 [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
                             return name;
                         });

}  // namespace
