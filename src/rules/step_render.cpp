// Step rendering, the generic half: each input of a compiled step rendered on its own by its
// InputType (step.hpp). A kind's own shape and checks come after, in its Render (src/steps).
#include <fmt/format.h>

#include "config/diagnostics.hpp"
#include "core/entity_id.hpp"
#include "core/text.hpp"
#include "rules/step.hpp"

namespace spacehook::rules {

namespace {

/// The pieces of a list written as one text, split at its separators (`,`; for mail addresses `;` too)
/// outside `{{ }}`, and for addresses outside quotes and `<>` as well ("Doe, Jane" <j@x>). Splitting the
/// written text, before any value is filled in, is what keeps a separator inside a value (a file title
/// with a comma) from ever adding an entry.
std::vector<std::string_view> SplitWritten(std::string_view text, bool addresses) {
    std::vector<std::string_view> pieces;
    std::size_t start = 0;
    bool quoted = false;
    bool in_angle = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (text.compare(i, 2, "{{") == 0) {
            const auto close = text.find("}}", i + 2);
            if (close == std::string_view::npos) break;
            i = close + 1;
            continue;
        }
        if (!addresses) {
            if (c == ',') {
                pieces.push_back(text.substr(start, i - start));
                start = i + 1;
            }
            continue;
        }
        if (quoted) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                quoted = false;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == '<') {
            in_angle = true;
        } else if (c == '>') {
            in_angle = false;
        } else if ((c == ',' || c == ';') && !in_angle) {
            pieces.push_back(text.substr(start, i - start));
            start = i + 1;
        }
    }
    pieces.push_back(text.substr(start));
    return pieces;
}

/// What stops `text`, a value a template filled in, from being one id of a user or group (their ids are
/// GUIDs or numbers): empty when it is one.
std::string_view NotOneId(std::string_view text) {
    if (text.find_first_of(",;") != std::string_view::npos) return "holds a list separator";
    if (text.find_first_of(kWhitespace) != std::string_view::npos) return "holds white space";
    return {};
}

/// What stops `text` from being one e-mail address: empty when it is one.
std::string_view NotOneAddress(std::string_view text) {
    if (text.find_first_of(",;") != std::string_view::npos) return "holds a list separator";
    if (text.find_first_of(kWhitespace) != std::string_view::npos) return "holds white space";
    if (text.find_first_of("<>\"") != std::string_view::npos) return "holds '<', '>' or '\"'";
    const auto at = text.find('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == text.size() ||
        text.find('@', at + 1) != std::string_view::npos) {
        return "is not local@domain";
    }
    return {};
}

/// True when a URL whose text so far is `before` has reached its path, query or fragment ("https://h/",
/// "https://h?"): a value written there cannot change the scheme or host.
bool IsInUrlPathOrQuery(std::string_view before) {
    const auto scheme = before.find("://");
    if (scheme == std::string_view::npos) return false;
    return before.find_first_of("/?#", scheme + 3) != std::string_view::npos;
}

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

    /// A URL with each template value percent-encoded where it falls in the path or the query, so a value
    /// stays data: "a/../admin?x" cannot add path segments or parameters. A value already encoded with
    /// `| urlencode` is written as it is, and so is one that makes the scheme or host (`{{ steps.x.url }}`):
    /// where such a URL may lead is the outbound guard's business (docs/configuration.md "outbound").
    Result<Json> Url(std::string_view key, const Json& input) const {
        if (!input.is_string() || !Template::HasExpressions(input.get_ref<const std::string&>()))
            return Text(key, input);
        auto parsed = Template::Parse(input.get_ref<const std::string&>());
        if (!parsed) return Problem(key, parsed.error().message);
        const ValueWriter write = [&](const TemplateExpression& expression, std::string_view before,
                                      std::string value) -> Result<std::string> {
            if (!IsInUrlPathOrQuery(before)) return value;  // the URL itself, or its host: structure
            if (!expression.filters.empty() && expression.filters.back().name == "urlencode") return value;
            return PercentEncode(value);
        };
        auto rendered = parsed->RenderText(context_, mode_, write);
        if (!rendered) return Problem(key, rendered.error().message);
        return Json(std::move(*rendered));
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

    /// The items of a list input: a YAML list, or a text split on commas (SplitWritten); arrays produced by
    /// templates are flattened; empty entries (an unset optional variable) are dropped. What a template
    /// fills in is never split: a value holding a comma is one entry, and only a list-valued template
    /// gives several. `split_entries`: literal entries of a YAML list are split too (ids from env lists);
    /// titles and tags keep theirs, so a title with a comma can still be written as a list entry.
    /// `addresses`: literal text is left whole for the mailer to parse ("Doe, Jane" <j@x>); a text with
    /// templates is split where it is written, and each value a template filled in must be one address.
    Result<std::vector<Json>> Items(std::string_view key, const Json& input, bool split_text,
                                    bool split_entries = false, bool addresses = false) const {
        std::vector<Json> out;
        auto add = [&](Json value, bool from_template) -> Status {
            if (value.is_null()) return Ok();
            std::vector<Json> values;
            if (value.is_array()) {
                for (auto& item : value) values.push_back(std::move(item));
            } else {
                values.push_back(std::move(value));
            }
            for (auto& item : values) {
                if (item.is_null()) continue;
                if (item.is_string()) {
                    const auto& text = item.get_ref<const std::string&>();
                    if (Trim(text).empty()) continue;
                    if (addresses && from_template && !Unresolved(item)) {
                        if (auto st = OneAddress(key, text); !st) return st;
                    }
                }
                out.push_back(std::move(item));
            }
            return Ok();
        };
        auto add_written = [&](const Json& written, bool split) -> Status {
            const bool text = written.is_string();
            const bool templated = text && Template::HasExpressions(written.get_ref<const std::string&>());
            if (!text || !(split || (addresses && templated))) {
                auto value = Value(key, written);
                if (!value) return tl::unexpected(value.error());
                return add(std::move(*value), templated);
            }
            for (const auto piece : SplitWritten(written.get_ref<const std::string&>(), addresses)) {
                const auto trimmed = Trim(piece);
                if (trimmed.empty()) continue;
                auto value = Value(key, Json(std::string(trimmed)));
                if (!value) return tl::unexpected(value.error());
                if (auto st = add(std::move(*value), Template::HasExpressions(trimmed)); !st) return st;
            }
            return Ok();
        };
        if (input.is_array()) {
            for (const auto& item : input) {
                // A literal entry is split too (`users: [${MANAGER_ID}, ${EXTRA_IDS:-}]`); what a
                // template produced inside a list is taken as it is.
                const bool literal =
                    item.is_string() && !Template::HasExpressions(item.get_ref<const std::string&>());
                if (auto st = add_written(item, split_entries && literal); !st)
                    return tl::unexpected(st.error());
            }
        } else if (auto st = add_written(input, split_text); !st) {
            return tl::unexpected(st.error());
        }
        return out;
    }

    /// A mail address a template filled in: one recipient, never a list ("x@evil.example, boss@corp" from a
    /// file title must not add a recipient; the mailer would split it).
    Status OneAddress(std::string_view key, const std::string& text) const {
        std::size_t count = 0;
        for (const auto piece : SplitWritten(text, true)) count += Trim(piece).empty() ? 0 : 1;
        if (count <= 1) return Ok();
        return Problem(key, fmt::format("\"{}\" holds {} addresses, and a value a template fills in is one "
                                        "recipient (several are a list: a YAML list, or a template whose "
                                        "value is a list)",
                                        text, count));
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

    Result<Json> TextList(std::string_view key, const Json& input, bool split, bool addresses = false) const {
        auto items = Items(key, input, split, false, addresses);
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
            case InputType::kUrl:
                return Url(spec.key, input);
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
                return TextList(spec.key, input, false, true);
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
            // Each item is one grant: a value a template filled in is never split (Items), so one that
            // holds several (a title "a@x.com, b@y.com") fails here rather than granting access to each.
            for (const auto& item : *items) {
                if (kind == "email") {
                    const Json address = item.is_object() && item.contains("email") ? item["email"] : item;
                    if (!address.is_string()) return Problem(key, "expected an e-mail address");
                    const auto& text = address.get_ref<const std::string&>();
                    const auto trimmed = Trim(text);
                    if (!Unresolved(address)) {
                        if (auto why = NotOneAddress(trimmed); !why.empty()) {
                            return Problem(key,
                                           fmt::format("\"{}\" is not one e-mail address: it {} (a value "
                                                       "is never split; several people are a list)",
                                                       text, why));
                        }
                    }
                    out.push_back({{"email", std::string(trimmed)}, {"access", entry["access"]}});
                } else {
                    auto id = IdOf(key, item);
                    if (!id) return id;
                    const std::string text = TemplateText(*id);
                    if (!Unresolved(*id)) {
                        if (auto why = NotOneId(text); !why.empty()) {
                            return Problem(key,
                                           fmt::format("\"{}\" is not one {} id: it {} (a value is never "
                                                       "split; several are a list)",
                                                       text, kind, why));
                        }
                    }
                    out.push_back({{"id", text}, {"access", entry["access"]}, {"kind", kind}});
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
