#include "rules/title_matcher.hpp"

#include <re2/re2.h>

namespace spacehook::rules {

TitleMatcher::TitleMatcher(Op op, std::string pattern, bool ignore_case)
    : op_(op), pattern_(std::move(pattern)), ignore_case_(ignore_case) {}

TitleMatcher::~TitleMatcher() = default;

std::optional<std::string> TitleMatcher::Prepare() {
    std::string regex;
    switch (op_) {
        case Op::kRegex:
            regex = pattern_;
            break;
        case Op::kGlob:
            regex = GlobToRegex(pattern_);
            break;
        case Op::kEquals:
            if (!ignore_case_) return std::nullopt;
            regex = RE2::QuoteMeta(pattern_);
            break;
        case Op::kStartsWith:
            if (!ignore_case_) return std::nullopt;
            regex = "^" + RE2::QuoteMeta(pattern_);
            break;
        case Op::kEndsWith:
            if (!ignore_case_) return std::nullopt;
            regex = RE2::QuoteMeta(pattern_) + "$";
            break;
        case Op::kContains:
            if (!ignore_case_) return std::nullopt;
            regex = RE2::QuoteMeta(pattern_);
            break;
    }
    RE2::Options options;
    options.set_log_errors(false);
    options.set_case_sensitive(!ignore_case_);
    options.set_dot_nl(true);
    re_ = std::make_unique<RE2>(regex, options);
    if (!re_->ok()) return re_->error();
    return std::nullopt;
}

bool TitleMatcher::Matches(std::string_view title) const {
    if (re_) {
        const bool full = op_ == Op::kEquals || op_ == Op::kGlob;
        return full ? RE2::FullMatch(title, *re_) : RE2::PartialMatch(title, *re_);
    }
    switch (op_) {
        case Op::kEquals:
            return title == pattern_;
        case Op::kStartsWith:
            return title.substr(0, pattern_.size()) == pattern_;
        case Op::kEndsWith:
            return title.size() >= pattern_.size() &&
                   title.substr(title.size() - pattern_.size()) == pattern_;
        case Op::kContains:
            return title.find(pattern_) != std::string_view::npos;
        default:
            return false;
    }
}

std::string TitleMatcher::GlobToRegex(std::string_view glob) {
    std::string out;
    for (std::size_t i = 0; i < glob.size(); ++i) {
        const char c = glob[i];
        if (c == '*') {
            out += ".*";
        } else if (c == '?') {
            out += ".";
        } else if (c == '[') {
            std::size_t j = i + 1;
            if (j < glob.size() && (glob[j] == '!' || glob[j] == '^')) ++j;
            if (j < glob.size() && glob[j] == ']') ++j;
            const auto close = glob.find(']', j);
            if (close == std::string_view::npos) {
                out += "\\[";
                continue;
            }
            out += '[';
            std::size_t k = i + 1;
            if (glob[k] == '!' || glob[k] == '^') {
                out += '^';
                ++k;
            }
            for (; k < close; ++k) {
                if (glob[k] == '\\' || glob[k] == '[' || (glob[k] == ']' && k > i + 1)) out += '\\';
                out += glob[k];
            }
            out += ']';
            i = close;
        } else {
            out += RE2::QuoteMeta(std::string(1, c));
        }
    }
    return out;
}

}  // namespace spacehook::rules
