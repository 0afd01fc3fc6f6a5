#include "steps/entry_json.hpp"

namespace spacehook::steps {

Json EntryJson(const docspace::Entry& entry) {
    Json out = entry.raw.is_object() ? entry.raw : Json::object();
    if (!out.contains("id")) out["id"] = entry.id.ToJson();
    if (!out.contains("title")) out["title"] = entry.title;
    if ((!out.contains("webUrl") || out["webUrl"].is_null()) && !entry.web_url.empty())
        out["webUrl"] = entry.web_url;
    return out;
}

Json UserJson(const docspace::User& user) {
    Json out = user.raw.is_object() ? user.raw : Json::object();
    if (!out.contains("id")) out["id"] = user.id;
    if (!out.contains("displayName") && !user.display_name.empty()) out["displayName"] = user.display_name;
    if (!out.contains("email") && !user.email.empty()) out["email"] = user.email;
    return out;
}

}  // namespace spacehook::steps
