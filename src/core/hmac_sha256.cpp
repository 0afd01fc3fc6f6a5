#include "core/hmac_sha256.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace spacehook {

std::string ToHex(std::string_view bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const char ch : bytes) {
        const auto c = static_cast<unsigned char>(ch);
        out += kHex[c >> 4];
        out += kHex[c & 0xfU];
    }
    return out;
}

std::string HmacSha256Hex(std::string_view key, std::string_view message, bool upper_case) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &len);
    std::string hex = ToHex(std::string_view(reinterpret_cast<const char*>(digest), len));
    if (upper_case) {
        for (auto& c : hex) {
            if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
        }
    }
    return hex;
}

bool HexEqualsConstantTime(std::string_view a, std::string_view b) {
    if (a.size() != b.size() || a.empty()) return false;
    // Only hex digits take part: case folding below would otherwise map e.g. 0x10 onto '0'. Checking
    // the alphabet leaks nothing about the expected MAC, which is always valid hex.
    auto is_hex = [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    };
    bool all_hex = true;
    for (size_t i = 0; i < a.size(); ++i) all_hex = all_hex && is_hex(a[i]) && is_hex(b[i]);
    if (!all_hex) return false;
    // Fold ASCII letters to lower case without branching on the data; then a constant-time compare.
    std::string fa(a), fb(b);
    for (size_t i = 0; i < fa.size(); ++i) {
        fa[i] = static_cast<char>(static_cast<unsigned char>(fa[i]) | 0x20U);
        fb[i] = static_cast<char>(static_cast<unsigned char>(fb[i]) | 0x20U);
    }
    return CRYPTO_memcmp(fa.data(), fb.data(), fa.size()) == 0;
}

std::string Sha256Hex(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
    return ToHex(std::string_view(reinterpret_cast<const char*>(digest), len));
}

}  // namespace spacehook
