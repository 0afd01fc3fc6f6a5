#pragma once

// Look before create: how a step that makes something by title (a folder, a copy) finds what an
// earlier attempt of it made. Every such comparison goes through SameTitle, so the portal's way of
// comparing titles is decided in one place.

#include <string>
#include <string_view>
#include <vector>

#include "docspace/api.hpp"

namespace spacehook::steps {

/// Does the title of an entry found in the portal stand for the title a step asked for? The portal
/// stores its own form of every title (docs/docspace-api.md §2.5 "Titles": asked for "Q1: Plans", it
/// lists "Q1_ Plans"), so that form is what is compared.
bool SameTitle(std::string_view found, std::string_view wanted,
               docspace::TitleKind kind = docspace::TitleKind::kFile);

/// The entry of `pool` titled `title` (SameTitle). With `numbered`, an entry DocSpace numbered on a
/// conflict ("Report (2).docx" for "Report.docx", "v1.2 (1)" for the folder "v1.2", conflict duplicate)
/// counts when none has the title itself.
const docspace::Entry* FindByTitle(const std::vector<docspace::Entry>& pool, std::string_view title,
                                   bool numbered, docspace::TitleKind kind = docspace::TitleKind::kFile);

}  // namespace spacehook::steps
