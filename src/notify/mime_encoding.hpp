#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

// The MIME building blocks of mail composition (RFC 2045, 2047, 5322): transfer encodings for bodies,
// encoded-words for non-ASCII header text, and header folding. Pure functions over bytes.
namespace spacehook::notify {

/// Lines of a header containing encoded-words may not exceed 76 characters (RFC 2047 §2); we fold every
/// header to that, which also keeps under RFC 5322's 78.
inline constexpr std::size_t kMaxHeaderLine = 76;
/// An encoded-word is at most 75 characters (RFC 2047 §2).
inline constexpr std::size_t kMaxEncodedWord = 75;

/// CRLF for every line break: "\r\n", a lone "\n" and a lone "\r" all become "\r\n". SMTP and RFC 5322
/// know no other line end, and a bare CR or LF is how header injection and smuggling begin.
std::string NormalizeLineEndings(std::string_view text);

/// Standard base64 (RFC 4648 §4), one line, with padding.
std::string EncodeBase64(std::string_view bytes);

/// Quoted-printable (RFC 2045 §6.7) of text whose line breaks are CRLF (see NormalizeLineEndings).
/// Output lines are at most 76 characters; whitespace before a line end is encoded. A "." at the start
/// of any output line is written as "=2E": libcurl already dot-stuffs what it uploads, so this is not
/// needed for SMTP, but it keeps the body safe for any relay that does not.
std::string EncodeQuotedPrintable(std::string_view crlf_text);

/// Base64 in lines of 76 characters joined by CRLF, ending with CRLF (RFC 2045 §6.8).
std::string EncodeBase64Lines(std::string_view bytes);

/// A body ready to follow its part's headers.
struct EncodedBody {
    std::string transfer_encoding;  ///< "quoted-printable" or "base64"
    std::string text;               ///< CRLF lines
};

/// Picks the smaller of quoted-printable and base64 for UTF-8 text: quoted-printable keeps mostly-ASCII
/// text readable in the raw message; base64 costs a third less for Cyrillic or CJK text.
EncodedBody EncodeTextBody(std::string_view utf8_text);

/// True when `text` can stand in a header as it is: printable ASCII only and no "=?" that a reader
/// would take for the start of an encoded-word.
bool IsPlainHeaderText(std::string_view text);

/// RFC 2047 encoded-words ("=?UTF-8?B?...?=" or "=?UTF-8?Q?...?=") carrying `utf8_text`, split on
/// character boundaries. The first word is at most `first_word_max` characters (room left on the line
/// it starts), the others at most kMaxEncodedWord; whitespace between adjacent encoded-words is ignored
/// by readers, so the split is invisible. Q or B, whichever is shorter. The Q alphabet is the one that
/// is safe inside a phrase (RFC 2047 §5(3)), so the same words serve a Subject and a display name.
/// Invalid UTF-8 bytes are carried as they are (a reader shows a replacement character).
std::vector<std::string> EncodeWords(std::string_view utf8_text,
                                     std::size_t first_word_max = kMaxEncodedWord);

/// One piece of a header value. When `space_before` is set, the single space in front of it may become a
/// fold (CRLF SP); otherwise the text is glued to what precedes it.
struct HeaderToken {
    std::string text;
    bool space_before = true;
};

/// "Name: token token\r\n token\r\n": folds at the allowed spaces so that lines stay within
/// kMaxHeaderLine whenever the tokens allow it (a single token longer than a line stays unbroken).
std::string FoldHeader(std::string_view name, const std::vector<HeaderToken>& tokens);

}  // namespace spacehook::notify
