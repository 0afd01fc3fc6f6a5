// What the rules tests share: compiling rule text and building events as the portal sends them.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <string_view>

#include "rules/compiled_rules.hpp"
#include "steps/catalog.hpp"

namespace spacehook::rules::testing {

inline const char* const kGuid = "66faa6e4-f133-11ea-b126-00ffeec8b4ef";

inline config::Document Doc(std::string_view text, const std::string& file = "rules.yaml",
                            std::map<std::string, std::string> env = {}) {
    auto doc = config::LoadYamlText(text, file, config::MapEnv(std::move(env)));
    EXPECT_TRUE(doc) << (doc ? "" : doc.error().message);
    return doc ? *doc : config::Document{};
}

inline CompiledRules CompileText(std::string_view text, std::map<std::string, std::string> env = {}) {
    auto compiled = Compile({Doc(text, "rules.yaml", std::move(env))}, steps::Kinds());
    EXPECT_TRUE(compiled) << (compiled ? "" : compiled.error().message);
    return compiled ? *compiled : CompiledRules{};
}

inline std::string CompileError(std::string_view text, const CompileOptions& options = {}) {
    auto compiled = Compile({Doc(text)}, steps::Kinds(), options);
    EXPECT_FALSE(compiled);
    if (compiled) return "";
    EXPECT_EQ(compiled.error().code, ErrorCode::kConfig);
    return compiled.error().message;
}

inline Event FileEvent(std::string trigger, Json payload, Json id = 4821) {
    Json event = {{"trigger", trigger}, {"createOn", "2026-06-30T10:15:42Z"}, {"createBy", kGuid}};
    if (!id.is_null()) event["id"] = id;
    auto parsed =
        ParseEvent(Json{{"event", event}, {"payload", std::move(payload)}, {"webhook", {{"id", 7}}}});
    EXPECT_TRUE(parsed);
    return parsed ? *parsed : Event{};
}

inline Json File(Json id, Json parent, std::string title) {
    return {{"id", std::move(id)},
            {"parentId", std::move(parent)},
            {"title", std::move(title)},
            {"fileEntryType", 2},
            {"modifiedOn", "2026-06-30T10:15:41Z"}};
}

}  // namespace spacehook::rules::testing
