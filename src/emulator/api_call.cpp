#include "emulator/api_call.hpp"

#include <algorithm>
#include <cctype>

#include "core/text.hpp"

namespace spacehook::emulator {

std::optional<std::string> ApiCall::Query(std::string_view name) const {
    auto it = query.find(ToLower(name));
    if (it == query.end() || it->second.empty()) return std::nullopt;
    return it->second.front();
}

std::vector<std::string> ApiCall::QueryAll(std::string_view name) const {
    auto it = query.find(ToLower(name));
    return it == query.end() ? std::vector<std::string>{} : it->second;
}

std::optional<Reply> ParseBody(const ApiCall& call, OJson& out) {
    if (call.body.empty()) {
        return call.Invalid(
            {{"", {"A non-empty request body is required."}}, {"inDto", {"The inDto field is required."}}});
    }
    out = OJson::parse(call.body, nullptr, false);
    if (out.is_discarded() || !out.is_object()) {
        return call.Invalid({{"$",
                              {"The JSON value could not be converted to the request model. Path: $ | "
                               "LineNumber: 0 | BytePositionInLine: 0."}},
                             {"inDto", {"The inDto field is required."}}});
    }
    return std::nullopt;
}

EntityId RouteId(const std::string& text) {
    return EntityId::Parse(text);
}

std::optional<EntityId> JsonId(const OJson& value) {
    if (value.is_number_integer()) return EntityId::Number(value.get<std::int64_t>());
    if (value.is_string() && !value.get_ref<const std::string&>().empty()) {
        return EntityId::Parse(value.get<std::string>());
    }
    return std::nullopt;
}

const OJson* Field(const OJson& body, std::string_view key) {
    if (!body.is_object()) return nullptr;
    const auto wanted = ToLower(key);
    for (auto it = body.begin(); it != body.end(); ++it) {
        if (ToLower(it.key()) == wanted) return &it.value();
    }
    return nullptr;
}

bool JsonBool(const OJson& body, const char* key, bool fallback) {
    const OJson* v = Field(body, key);
    if (v == nullptr || v->is_null()) return fallback;
    if (v->is_boolean()) return v->get<bool>();
    if (v->is_string()) return ToLower(v->get<std::string>()) == "true";
    return fallback;
}

}  // namespace spacehook::emulator
