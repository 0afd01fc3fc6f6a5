#include "core/outbound_guard.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "core/text.hpp"

namespace spacehook {

namespace {

struct Range {
    std::array<std::uint8_t, 16> base;
    int prefix;
    std::string_view what;
};

bool InPrefix(const std::array<std::uint8_t, 16>& address, const std::array<std::uint8_t, 16>& base,
              int prefix) {
    for (int bit = 0; bit < prefix; ++bit) {
        const int byte = bit / 8;
        const int mask = 0x80 >> (bit % 8);
        if ((address[byte] & mask) != (base[byte] & mask)) return false;
    }
    return true;
}

/// What kind of internal address this is ("a loopback address"), or empty for a public one.
std::string_view InternalKind(const IpAddress& address) {
    static const Range kV4[] = {
        {{0}, 8, "an unspecified (0.0.0.0/8) address"},
        {{10}, 8, "a private (RFC 1918) address"},
        {{100, 64}, 10, "a shared (carrier-grade NAT) address"},
        {{127}, 8, "a loopback address"},
        {{169, 254}, 16, "a link-local address"},
        {{172, 16}, 12, "a private (RFC 1918) address"},
        {{192, 0, 0}, 24, "a reserved (IETF protocol) address"},
        {{192, 168}, 16, "a private (RFC 1918) address"},
        {{198, 18}, 15, "a reserved (benchmarking) address"},
        {{224}, 4, "a multicast address"},
        {{240}, 4, "a reserved address"},
    };
    static const Range kV6[] = {
        {{}, 128, "an unspecified (::) address"},
        {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, "a loopback address"},
        {{0xfe, 0x80}, 10, "a link-local address"},
        {{0xfc}, 7, "a private (unique-local) address"},
        {{0xfe, 0xc0}, 10, "a private (site-local) address"},
        {{0xff}, 8, "a multicast address"},
        {{0x01}, 64, "a reserved (discard) address"},
    };
    if (!address.v6) {
        for (const auto& range : kV4) {
            if (InPrefix(address.bytes, range.base, range.prefix)) return range.what;
        }
        return {};
    }
    for (const auto& range : kV6) {
        if (InPrefix(address.bytes, range.base, range.prefix)) return range.what;
    }
    // NAT64 (64:ff9b::/96) carries an IPv4 address: it is as internal as that one.
    static const std::array<std::uint8_t, 16> kNat64 = {0, 0x64, 0xff, 0x9b};
    if (InPrefix(address.bytes, kNat64, 96)) {
        IpAddress v4;
        std::copy(address.bytes.begin() + 12, address.bytes.end(), v4.bytes.begin());
        return InternalKind(v4);
    }
    return {};
}

bool IsLoopback(const IpAddress& address) {
    static const std::array<std::uint8_t, 16> kV6Loopback = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return address.v6 ? address.bytes == kV6Loopback : address.bytes[0] == 127;
}

bool IsUnspecified(const IpAddress& address) {
    return std::all_of(address.bytes.begin(), address.bytes.end(), [](std::uint8_t b) { return b == 0; });
}

struct ParsedEntry {
    std::optional<IpAddress> base;
    int prefix = 0;
    std::string host;  ///< lower case, when the entry is a host name
};

bool IsHostName(std::string_view text) {
    if (text.empty() || text.size() > 253) return false;
    return std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
               c == '.';
    });
}

Result<ParsedEntry> ParseEntry(std::string_view raw) {
    const std::string_view entry = Trim(raw);
    ParsedEntry parsed;
    const auto slash = entry.find('/');
    if (auto address = IpAddress::Parse(entry.substr(0, slash))) {
        parsed.base = *address;
        parsed.prefix = address->v6 ? 128 : 32;
        if (slash != std::string_view::npos) {
            const std::string_view bits = entry.substr(slash + 1);
            int prefix = -1;
            const auto [end, error] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
            if (error != std::errc() || end != bits.data() + bits.size() || prefix < 0 ||
                prefix > parsed.prefix) {
                return Fail(ErrorCode::kConfig,
                            fmt::format("outbound.allow: '{}' has a bad prefix length (0..{})", entry,
                                        parsed.prefix));
            }
            parsed.prefix = prefix;
        }
        return parsed;
    }
    if (slash == std::string_view::npos && IsHostName(entry) &&
        entry.find_first_not_of("0123456789.") != std::string_view::npos) {
        parsed.host = ToLower(entry);
        return parsed;
    }
    return Fail(ErrorCode::kConfig,
                fmt::format("outbound.allow: '{}' is not an address (127.0.0.1, ::1), a network "
                            "(10.0.0.0/8) or a host name",
                            entry));
}

std::vector<IpAddress> InterfaceAddresses() {
    std::vector<IpAddress> out;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return out;
    for (const ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
        if (it->ifa_addr == nullptr) continue;
        IpAddress address;
        if (it->ifa_addr->sa_family == AF_INET) {
            const auto* in = reinterpret_cast<const sockaddr_in*>(it->ifa_addr);
            std::memcpy(address.bytes.data(), &in->sin_addr, 4);
        } else if (it->ifa_addr->sa_family == AF_INET6) {
            const auto* in6 = reinterpret_cast<const sockaddr_in6*>(it->ifa_addr);
            address.v6 = true;
            std::memcpy(address.bytes.data(), &in6->sin6_addr, 16);
        } else {
            continue;
        }
        out.push_back(address);
    }
    ::freeifaddrs(list);
    return out;
}

}  // namespace

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
    const std::string copy(text);
    IpAddress address;
    if (::inet_pton(AF_INET, copy.c_str(), address.bytes.data()) == 1) return address;
    in6_addr v6{};
    if (::inet_pton(AF_INET6, copy.c_str(), &v6) != 1) return std::nullopt;
    std::memcpy(address.bytes.data(), &v6, 16);
    static const std::array<std::uint8_t, 12> kMapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(kMapped.begin(), kMapped.end(), address.bytes.begin())) {
        std::array<std::uint8_t, 16> v4{};
        std::copy(address.bytes.begin() + 12, address.bytes.end(), v4.begin());
        address.bytes = v4;
        return address;
    }
    address.v6 = true;
    return address;
}

std::string IpAddress::ToString() const {
    char text[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), text, sizeof(text));
    return text;
}

Status CheckOutboundAllowEntry(std::string_view entry) {
    auto parsed = ParseEntry(entry);
    if (!parsed) return Fail(parsed.error());
    return Ok();
}

Result<std::shared_ptr<const OutboundGuard>> OutboundGuard::Create(OutboundPolicy policy) {
    std::shared_ptr<OutboundGuard> guard(new OutboundGuard());
    guard->refuse_internal_ = policy.refuse_internal;
    for (const auto& entry : policy.allow) {
        auto parsed = ParseEntry(entry);
        if (!parsed) return Fail(parsed.error());
        if (parsed->base) {
            guard->allowed_networks_.push_back({*parsed->base, parsed->prefix});
        } else {
            guard->allowed_hosts_.push_back(std::move(parsed->host));
        }
    }
    bool any_wildcard = false;
    for (const auto& listener : policy.own_listeners) {
        Listener own;
        own.port = listener.port;
        auto address = IpAddress::Parse(listener.host);
        // A host name ("localhost") or an unspecified address: the listener may answer on any local one.
        if (address && !IsUnspecified(*address)) {
            own.address = address;
        } else {
            any_wildcard = true;
        }
        guard->listeners_.push_back(own);
    }
    if (any_wildcard) guard->local_addresses_ = InterfaceAddresses();
    return std::shared_ptr<const OutboundGuard>(std::move(guard));
}

bool OutboundGuard::IsOwnListener(const IpAddress& address, std::uint16_t port) const {
    const bool loopback = IsLoopback(address);
    for (const auto& listener : listeners_) {
        if (listener.port != port) continue;
        if (listener.address) {
            if (*listener.address == address) return true;
            // Every loopback address is this host: any of them with the port is refused.
            if (loopback && IsLoopback(*listener.address)) return true;
            continue;
        }
        if (loopback) return true;
        if (std::find(local_addresses_.begin(), local_addresses_.end(), address) != local_addresses_.end())
            return true;
    }
    return false;
}

std::optional<std::string> OutboundGuard::Refusal(const IpAddress& address, std::uint16_t port,
                                                  std::string_view host) const {
    if (IsOwnListener(address, port)) {
        return fmt::format("{} port {} is spacehook's own admin listener, which its requests never reach",
                           address.ToString(), port);
    }
    if (!refuse_internal_) return std::nullopt;
    const std::string_view kind = InternalKind(address);
    if (kind.empty()) return std::nullopt;
    for (const auto& network : allowed_networks_) {
        if (network.base.v6 == address.v6 && InPrefix(address.bytes, network.base.bytes, network.prefix))
            return std::nullopt;
    }
    const std::string name = ToLower(Trim(host, "[]"));
    if (std::find(allowed_hosts_.begin(), allowed_hosts_.end(), name) != allowed_hosts_.end())
        return std::nullopt;
    return fmt::format(
        "{} is {}; http and chat steps reach such addresses only when outbound.allow names "
        "them",
        address.ToString(), kind);
}

}  // namespace spacehook
