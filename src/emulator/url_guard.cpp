#include "emulator/url_guard.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <vector>

#include "core/text.hpp"

namespace spacehook::emulator {

std::optional<ParsedUrl> ParseHttpUrl(std::string_view url) {
    const auto sep = url.find("://");
    if (sep == std::string_view::npos) return std::nullopt;
    ParsedUrl out;
    out.scheme = ToLower(url.substr(0, sep));
    if (out.scheme != "http" && out.scheme != "https") return std::nullopt;
    auto rest = url.substr(sep + 3);
    const auto end = rest.find_first_of("/?#");
    auto authority = rest.substr(0, end);
    if (const auto at = authority.rfind('@'); at != std::string_view::npos)
        authority = authority.substr(at + 1);
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        out.host = std::string(authority.substr(1, close - 1));
        if (close + 1 < authority.size() && authority[close + 1] == ':')
            port_text = authority.substr(close + 2);
    } else {
        const auto colon = authority.rfind(':');
        out.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    }
    if (out.host.empty()) return std::nullopt;
    if (!port_text.empty()) {
        unsigned value = 0;
        for (char c : port_text) {
            if (c < '0' || c > '9') return std::nullopt;
            value = value * 10 + static_cast<unsigned>(c - '0');
            if (value > 65535) return std::nullopt;
        }
        out.port = static_cast<std::uint16_t>(value);
    } else {
        out.port = out.scheme == "https" ? 443 : 80;
    }
    return out;
}

namespace {

struct Cidr {
    int family;
    std::array<unsigned char, 16> prefix;
    int bits;
};

Cidr MakeCidr(const char* text, int bits) {
    Cidr c{};
    c.bits = bits;
    if (inet_pton(AF_INET, text, c.prefix.data()) == 1) {
        c.family = AF_INET;
    } else {
        inet_pton(AF_INET6, text, c.prefix.data());
        c.family = AF_INET6;
    }
    return c;
}

bool Matches(const Cidr& c, const unsigned char* addr) {
    const int full = c.bits / 8;
    if (std::memcmp(c.prefix.data(), addr, static_cast<std::size_t>(full)) != 0) return false;
    const int rem = c.bits % 8;
    if (rem == 0) return true;
    const auto mask = static_cast<unsigned char>(0xFF << (8 - rem));
    return (c.prefix[static_cast<std::size_t>(full)] & mask) == (addr[full] & mask);
}

const std::vector<Cidr>& Blacklist() {
    static const std::vector<Cidr> kList = {
        MakeCidr("0.0.0.0", 8),      MakeCidr("10.0.0.0", 8),     MakeCidr("100.64.0.0", 10),
        MakeCidr("127.0.0.0", 8),    MakeCidr("169.254.0.0", 16), MakeCidr("172.16.0.0", 12),
        MakeCidr("192.168.0.0", 16), MakeCidr("::", 128),         MakeCidr("::1", 128),
        MakeCidr("fc00::", 8),       MakeCidr("fd00::", 8),       MakeCidr("fe80::", 10),
    };
    return kList;
}

}  // namespace

bool IsBlacklistedAddress(std::string_view ip) {
    const std::string text(ip);
    unsigned char buf[16] = {};
    int family = 0;
    if (inet_pton(AF_INET, text.c_str(), buf) == 1) {
        family = AF_INET;
    } else if (inet_pton(AF_INET6, text.c_str(), buf) == 1) {
        family = AF_INET6;
        // IPv4-mapped (::ffff:a.b.c.d): judge the IPv4 address.
        static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
        if (std::memcmp(buf, kMapped, 12) == 0) {
            family = AF_INET;
            std::memmove(buf, buf + 12, 4);
        }
    } else {
        return false;
    }
    for (const auto& c : Blacklist()) {
        if (c.family == family && Matches(c, buf)) return true;
    }
    return false;
}

std::optional<std::string> ValidateWebhookUrl(std::string_view url, bool require_https, bool use_blacklist,
                                              bool& blacklisted) {
    blacklisted = false;
    if (Trim(url).empty()) return "URL is null or empty";
    // Uri.TryCreate(url, UriKind.Absolute): a scheme, "://" and a host.
    const auto sep = url.find("://");
    const auto scheme_ok =
        sep != std::string_view::npos && sep > 0 &&
        std::all_of(url.begin(), url.begin() + static_cast<std::ptrdiff_t>(sep), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.';
        });
    if (!scheme_ok) return "Invalid URL format";
    const std::string scheme = ToLower(url.substr(0, sep));
    if (scheme != "http" && scheme != "https") {
        return "Invalid URL scheme: " + scheme + ". Only http and https are allowed";
    }
    const auto parsed = ParseHttpUrl(url);
    if (!parsed) return "Invalid URL format";
    if (require_https && parsed->scheme != "https") return "HTTPS is required";
    unsigned char literal[16] = {};
    const bool is_ip = inet_pton(AF_INET, parsed->host.c_str(), literal) == 1 ||
                       inet_pton(AF_INET6, parsed->host.c_str(), literal) == 1;
    if (is_ip) {
        if (use_blacklist && IsBlacklistedAddress(parsed->host)) {
            blacklisted = true;
            return "URL host is in the blacklist";
        }
        return std::nullopt;
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* result = nullptr;
    if (getaddrinfo(parsed->host.c_str(), nullptr, &hints, &result) != 0 || result == nullptr) {
        return "DNS resolution failed for " + parsed->host;
    }
    bool bad = false;
    for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
        char text[INET6_ADDRSTRLEN] = {};
        const void* addr = nullptr;
        if (ai->ai_family == AF_INET) {
            addr = &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr;
        } else if (ai->ai_family == AF_INET6) {
            addr = &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr;
        }
        if (addr != nullptr && inet_ntop(ai->ai_family, addr, text, sizeof(text)) != nullptr &&
            IsBlacklistedAddress(text)) {
            bad = true;
        }
    }
    freeaddrinfo(result);
    if (use_blacklist && bad) {
        blacklisted = true;
        return "URL resolves to a blacklisted IP address";
    }
    return std::nullopt;
}

}  // namespace spacehook::emulator
