#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace spacehook::docspace {

// Titles as the portal stores and numbers them (docs/docspace-api.md §2.5 "Titles"). Anything that looks
// for an entry by the title it asked for must compare with the portal's form of that title, or a retry
// after a lost answer creates a second entry (duplicate titles are allowed).

/// Rooms and folders share one rule; files also get their extension lower-cased.
enum class TitleKind { kFolder, kFile };

/// The title DocSpace stores when asked to save `requested`: Global.ReplaceInvalidCharsAndTruncate
/// (trimmed of white space; cut to 170 UTF-16 units, keeping the extension when its dot is within the
/// last 20; tab and `* + : " < > ? | \ /` and every UTF-16 surrogate unit replaced with `_`, so a
/// character above U+FFFF becomes "__"), then for files FileDao's extension rewrite (name without
/// extension + "." + the extension trimmed and lower-cased: "Report.DOCX" -> "Report.docx", "README" ->
/// "README."). Invalid UTF-8 bytes count as lone surrogates. Applying it to a stored title changes
/// nothing.
std::string PortalTitle(std::string_view requested, TitleKind kind);

/// Length in UTF-16 units, as .NET counts it for [StringLength] and the 170-unit cut (invalid UTF-8
/// bytes count one each).
std::size_t Utf16Length(std::string_view text);

/// The n-th (n >= 1) title Global.GetAvailableTitleAsync gives a copy that collides with `title`: for a
/// file " (n)" goes before the last dot ("Report (2).docx"), for a folder at the end of the whole name
/// ("v1.2 (1)").
std::string NumberedTitle(std::string_view title, int n, TitleKind kind);

/// True when `candidate` (a title the portal lists) is `source` or, with `allow_numbered`, a numbered
/// copy of it (NumberedTitle for some n). How the client and the runner's steps recognise a copy already
/// in a destination.
bool TitleMatches(std::string_view candidate, std::string_view source, bool allow_numbered,
                  TitleKind kind = TitleKind::kFile);

}  // namespace spacehook::docspace
