#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace re2 {
class RE2;
}

namespace spacehook::rules {

/// A title test. Case-sensitive equals/starts_with/ends_with/contains are plain string operations;
/// everything else is one RE2 (linear time, so a rule author cannot write a catastrophic pattern),
/// which also gives Unicode case folding for ignore_case ("ОТЧЁТ" matches "отчёт").
class TitleMatcher {
public:
    enum class Op { kEquals, kStartsWith, kEndsWith, kContains, kGlob, kRegex };

    TitleMatcher(Op op, std::string pattern, bool ignore_case);
    ~TitleMatcher();
    TitleMatcher(const TitleMatcher&) = delete;
    TitleMatcher& operator=(const TitleMatcher&) = delete;

    /// Compiles the RE2 when one is needed; the RE2 error text otherwise.
    std::optional<std::string> Prepare();
    [[nodiscard]] bool Matches(std::string_view title) const;

private:
    // `*` any run, `?` one character, `[abc]` / `[a-z]` / `[!abc]` classes; everything else literal.
    static std::string GlobToRegex(std::string_view glob);

    Op op_;
    std::string pattern_;
    bool ignore_case_;
    std::unique_ptr<re2::RE2> re_;
};

}  // namespace spacehook::rules
