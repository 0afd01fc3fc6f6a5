// Step rendering, the generic half: each input of a compiled step rendered on its own by its
// InputType (step.hpp). A kind's own shape and checks come after, in its Render (src/steps).
#include <fmt/format.h>

#include "config/diagnostics.hpp"
#include "core/entity_id.hpp"
#include "core/text.hpp"
#include "rules/step.hpp"

namespace spacehook::rules {

namespace {

class StepRenderer {
public:
    StepRenderer(const Step& step, const TemplateContext& context, RenderMode mode)
        : step_(step), context_(context.values()), mode_(mode) {}

    Result<Json> Render() {
        // The written input holds `${VAR}` references: only their resolved form is rendered.
        if (step_.written && !step_.resolved) {
            return tl::unexpected(
                spacehook::Error{ErrorCode::kInternal,
                                 fmt::format("step {} ({}): its ${{VAR}} references are not resolved",
                                             step_.id, step_.kind->name()),
                                 0, std::nullopt});
        }
        const Json& input = step_.resolved ? *step_.resolved : step_.input;
        Json out = Json::object();
        for (const auto& spec : step_.kind->inputs()) {
            auto it = input.find(spec.key);
            if (it == input.end()) continue;
            auto rendered = RenderInput(spec, *it);
            if (!rendered) return rendered;
            if (rendered->is_null()) continue;
            out[std::string(spec.key)] = std::move(*rendered);
        }
        return out;
    }

private:
    tl::unexpected<spacehook::Error> Problem(std::string_view key, std::string_view message) const {
        return tl::unexpected(StepInputError(step_, key, message));
    }

    bool Unresolved(const Json& value) const {
        return mode_ == RenderMode::kKeepUnresolved && value.is_string() &&
               Template::HasExpressions(value.get_ref<const std::string&>());
    }

    Result<Json> Value(std::string_view key, const Json& input) const {
        auto rendered = RenderJson(input, context_, mode_);
        if (!rendered) return Problem(key, rendered.error().message);
        return rendered;
    }

    Result<Json> Text(std::string_view key, const Json& input) const {
        auto value = Value(key, input);
        if (!value) return value;
        if (value->is_structured())
            return Problem(key, fmt::format("expected text, got {}", config::KindName(*value)));
        return Json(TemplateText(*value));
    }

    /// One rendered value as an id: a number, a text id (numeric text becomes a number, as DocSpace's
    /// internal ids are), or an object with an `id` (a DTO from an earlier step).
    Result<Json> IdOf(std::string_view key, const Json& value) const {
        if (Unresolved(value)) return value;
        if (value.is_number_integer() || value.is_number_unsigned()) return value;
        if (value.is_string()) {
            auto text = std::string(Trim(value.get_ref<const std::string&>()));
            if (text.empty()) return Problem(key, "empty id");
            return EntityId::Parse(std::move(text)).ToJson();
        }
        if (value.is_object() && value.contains("id")) return IdOf(key, value["id"]);
        return Problem(key, fmt::format("expected an id, got {}",
                                        value.is_null() ? "nothing" : config::KindName(value)));
    }

    /// The items of a list input: a YAML list, or a text split on commas; arrays produced by templates
    /// are flattened; empty entries (an unset optional variable) are dropped.
    /// `split_entries`: literal entries of a YAML list are split too (ids from env lists); titles and
    /// tags keep theirs, so a title with a comma can still be written as a list entry.
    Result<std::vector<Json>> Items(std::string_view key, const Json& input, bool split_text,
                                    bool split_entries = false) const {
        std::vector<Json> out;
        auto add = [&](Json value, bool top_level_text) {
            if (value.is_null()) return;
            if (value.is_array()) {
                for (auto& item : value) {
                    if (!item.is_null() &&
                        !(item.is_string() && Trim(item.get_ref<const std::string&>()).empty())) {
                        out.push_back(std::move(item));
                    }
                }
                return;
            }
            if (value.is_string()) {
                const std::string& text = value.get_ref<const std::string&>();
                if (split_text && top_level_text && !Unresolved(value)) {
                    std::string_view rest = text;
                    while (true) {
                        const auto comma = rest.find(',');
                        const auto piece = Trim(rest.substr(0, comma));
                        if (!piece.empty()) out.emplace_back(std::string(piece));
                        if (comma == std::string_view::npos) break;
                        rest.remove_prefix(comma + 1);
                    }
                    return;
                }
                if (Trim(text).empty()) return;
            }
            out.push_back(std::move(value));
        };
        if (input.is_array()) {
            for (const auto& item : input) {
                auto value = Value(key, item);
                if (!value) return tl::unexpected(value.error());
                // A literal entry is split too (`users: [${MANAGER_ID}, ${EXTRA_IDS:-}]`); what a
                // template produced inside a list is taken as it is.
                const bool literal =
                    item.is_string() && !Template::HasExpressions(item.get_ref<const std::string&>());
                add(std::move(*value), split_entries && literal);
            }
        } else {
            auto value = Value(key, input);
            if (!value) return tl::unexpected(value.error());
            add(std::move(*value), true);
        }
        return out;
    }

    Result<Json> IdList(std::string_view key, const Json& input) const {
        auto items = Items(key, input, true, true);
        if (!items) return tl::unexpected(items.error());
        Json out = Json::array();
        for (const auto& item : *items) {
            auto id = IdOf(key, item);
            if (!id) return id;
            out.push_back(std::move(*id));
        }
        return out;
    }

    Result<Json> TextList(std::string_view key, const Json& input, bool split) const {
        auto items = Items(key, input, split);
        if (!items) return tl::unexpected(items.error());
        Json out = Json::array();
        for (const auto& item : *items) {
            if (item.is_structured())
                return Problem(key, fmt::format("expected text, got {}", config::KindName(item)));
            out.push_back(TemplateText(item));
        }
        return out;
    }

    Result<Json> RenderInput(const InputSpec& spec, const Json& input) const {
        switch (spec.type) {
            case InputType::kText:
                return Text(spec.key, input);
            case InputType::kId: {
                auto value = Value(spec.key, input);
                if (!value) return value;
                return IdOf(spec.key, *value);
            }
            case InputType::kIdList:
                return IdList(spec.key, input);
            case InputType::kTextList:
                return TextList(spec.key, input, true);
            case InputType::kAddressList:
                return TextList(spec.key, input, false);
            case InputType::kItems:
                return PlacedItems(input);
            case InputType::kTextMap: {
                Json out = Json::object();
                for (const auto& [name, item] : input.items()) {
                    auto text = Text(spec.key, item);
                    if (!text) return text;
                    out[name] = std::move(*text);
                }
                return out;
            }
            case InputType::kAny:
                return Value(spec.key, input);
            case InputType::kEntries:
                return Invitations(input);
            case InputType::kBool:
            case InputType::kRoomType:
            case InputType::kChoice:
            case InputType::kMethod:
            case InputType::kChannel:
                return input;
        }
        return input;
    }

    /// set_access entries -> DocSpace invitations [{id, access}] / [{email, access}] (docs/docspace-api.md
    /// §2.5).
    Result<Json> Invitations(const Json& entries) const {
        Json out = Json::array();
        for (const auto& entry : entries) {
            const std::string kind = entry["kind"].get<std::string>();
            const std::string key = kind == "email" ? "emails" : kind + "s";
            auto items = Items(key, entry["value"], true, true);
            if (!items) return tl::unexpected(items.error());
            for (const auto& item : *items) {
                if (kind == "email") {
                    const Json address = item.is_object() && item.contains("email") ? item["email"] : item;
                    if (!address.is_string()) return Problem(key, "expected an e-mail address");
                    out.push_back({{"email", address.get<std::string>()}, {"access", entry["access"]}});
                } else {
                    auto id = IdOf(key, item);
                    if (!id) return id;
                    out.push_back({{"id", TemplateText(*id)}, {"access", entry["access"]}, {"kind", kind}});
                }
            }
        }
        return out;
    }

    /// `items` -> {"files": [id], "folders": [id]}: each item placed by what it says it is.
    Result<Json> PlacedItems(const Json& input) const {
        auto items = Items("items", input, false);
        if (!items) return tl::unexpected(items.error());
        Json files = Json::array();
        Json folders = Json::array();
        for (const auto& item : *items) {
            auto placed = PlaceItem(item, files, folders);
            if (!placed) return tl::unexpected(placed.error());
        }
        return Json{{"files", std::move(files)}, {"folders", std::move(folders)}};
    }

    /// An item is a file or folder object: `{{ entity }}` ({id, kind}) or a DTO from an earlier step
    /// ({id, fileEntryType}). Bare ids cannot say which they are; those go under files: or folders:.
    Status PlaceItem(const Json& item, Json& files, Json& folders) const {
        if (Unresolved(item)) {
            files.push_back(item);
            return Ok();
        }
        if (!item.is_object() || !item.contains("id")) {
            return Problem(
                "items",
                "expected files or folders as objects (like {{ entity }} or {{ steps.copy.files }}); "
                "write plain ids under files: or folders:");
        }
        std::string kind;
        if (item.contains("kind") && item["kind"].is_string()) kind = item["kind"].get<std::string>();
        if (item.contains("fileEntryType") && item["fileEntryType"].is_number_integer()) {
            kind = item["fileEntryType"].get<int>() == 2 ? "file" : "folder";
        }
        auto id = IdOf("items", item["id"]);
        if (!id) return tl::unexpected(id.error());
        if (kind == "file") {
            files.push_back(std::move(*id));
        } else if (kind == "folder") {
            folders.push_back(std::move(*id));
        } else {
            return Problem("items", fmt::format("a {} cannot be copied or moved",
                                                kind.empty() ? "thing of unknown kind" : kind));
        }
        return Ok();
    }

    const Step& step_;
    const Json& context_;
    RenderMode mode_;
};

}  // namespace

Result<Json> RenderInputs(const Step& step, const TemplateContext& context, RenderMode mode) {
    return StepRenderer(step, context, mode).Render();
}

Result<Json> RenderStepInput(const Step& step, const TemplateContext& context, RenderMode mode) {
    return step.kind->Render(step, context, mode);
}

}  // namespace spacehook::rules
