#include "steps/look.hpp"

namespace spacehook::steps {

bool SameTitle(std::string_view found, std::string_view wanted, docspace::TitleKind kind) {
    return found == docspace::PortalTitle(wanted, kind);
}

const docspace::Entry* FindByTitle(const std::vector<docspace::Entry>& pool, std::string_view title,
                                   bool numbered, docspace::TitleKind kind) {
    const docspace::Entry* found = nullptr;
    const std::string wanted = docspace::PortalTitle(title, kind);
    for (const auto& entry : pool) {
        if (entry.title == wanted) return &entry;
        if (numbered && found == nullptr && docspace::TitleMatches(entry.title, wanted, true, kind)) {
            found = &entry;
        }
    }
    return found;
}

}  // namespace spacehook::steps
