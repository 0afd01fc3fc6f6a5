#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace spacehook {

/// One IPv4 or IPv6 address. An IPv4-mapped IPv6 address (::ffff:10.0.0.1) is its IPv4 address.
struct IpAddress {
    bool v6 = false;
    std::array<std::uint8_t, 16> bytes{};  ///< IPv4 in the first 4

    /// "10.0.0.1", "::1", "[::1]"; nullopt for anything else (host names too).
    static std::optional<IpAddress> Parse(std::string_view text);
    [[nodiscard]] std::string ToString() const;
    friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

/// A listener of this process that requests it makes must never reach (the admin API, which trusts
/// loopback): the host it is bound to ("127.0.0.1", "0.0.0.0", "::") and its port.
struct OwnListener {
    std::string host;
    std::uint16_t port = 0;
};

/// Where requests whose target a rule (and so an event) may choose may go: `http` and `chat` steps.
struct OutboundPolicy {
    /// Refuse loopback, link-local, private (RFC 1918, CGNAT, unique-local), unspecified, multicast and
    /// reserved addresses unless `allow` names them.
    bool refuse_internal = true;
    /// `outbound.allow`: addresses ("127.0.0.1", "::1"), networks ("10.0.0.0/8", "fd00::/8") or host
    /// names ("intranet.example.com", the URL's host exactly, any case) reachable although internal.
    std::vector<std::string> allow;
    /// Never reached, whatever `allow` says.
    std::vector<OwnListener> own_listeners;
};

/// kConfig naming the entry when it is neither an address, a network nor a host name.
Status CheckOutboundAllowEntry(std::string_view entry);

/// Decides, for each address a request is about to connect to (after DNS, so a name that resolves to an
/// internal address is caught too), whether it may. Thread-safe; immutable once made.
class OutboundGuard {
public:
    /// kConfig for a bad `allow` entry. Reads the host's interface addresses once, for a listener bound
    /// to every interface.
    static Result<std::shared_ptr<const OutboundGuard>> Create(OutboundPolicy policy);

    /// Why connecting to `address`:`port` for a request to the URL host `host` must not happen (an
    /// operator's sentence), or nullopt when it may.
    [[nodiscard]] std::optional<std::string> Refusal(const IpAddress& address, std::uint16_t port,
                                                     std::string_view host) const;

private:
    struct Network {
        IpAddress base;
        int prefix = 0;
    };
    struct Listener {
        std::optional<IpAddress> address;  ///< nullopt: every interface
        std::uint16_t port = 0;
    };

    OutboundGuard() = default;
    [[nodiscard]] bool IsOwnListener(const IpAddress& address, std::uint16_t port) const;

    bool refuse_internal_ = true;
    std::vector<Network> allowed_networks_;
    std::vector<std::string> allowed_hosts_;  ///< lower case
    std::vector<Listener> listeners_;
    std::vector<IpAddress> local_addresses_;  ///< this host's interfaces
};

}  // namespace spacehook
