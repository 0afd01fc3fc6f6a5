#include "steps/look.hpp"

namespace spacehook::steps {

bool SameTitle(std::string_view found, std::string_view wanted) {
    return found == wanted;
}

const docspace::Entry* FindByTitle(const std::vector<docspace::Entry>& pool, std::string_view title,
                                   bool numbered) {
    const docspace::Entry* found = nullptr;
    const std::string wanted(title);
    for (const auto& entry : pool) {
        if (SameTitle(entry.title, title)) return &entry;
        if (numbered && found == nullptr && docspace::TitleMatches(entry.title, wanted, true)) found = &entry;
    }
    return found;
}

}  // namespace spacehook::steps
