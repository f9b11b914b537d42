// The SSRF guard: decides whether MetaHog may open a connection to a resolved address, and whether a host
// string may even be resolved. Pure and allocation-light, so it can run on every connect.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "core/result.hpp"

namespace metahog::security {

// One CIDR network, IPv4 or IPv6. IPv4-mapped IPv6 networks (::ffff:10.0.0.0/104) are stored as the IPv4
// network they denote, because the kernel connects to a mapped address over IPv4.
class ip_network {
public:
    // "10.0.0.0/8", "fd00::/8", or a bare address meaning just that host ("10.1.2.3", "::1").
    // Refused with invalid_input and a message: empty text, a zone id, a prefix out of range or not plain
    // digits, and bits set after the prefix ("10.0.0.1/8": the message suggests 10.0.0.0/8), because a
    // network written with host bits is almost always a typo for a different range than the one intended.
    static result<ip_network> parse(std::string_view text);
    // The network holding exactly this address (/32 or /128; a mapped address becomes IPv4).
    static ip_network host(const boost::asio::ip::address& address);

    bool contains(const boost::asio::ip::address& address) const noexcept;
    bool is_v4() const noexcept { return v4_; }
    int prefix_length() const noexcept { return prefix_length_; }
    // Canonical text, "10.0.0.0/8" or "fe80::/10".
    std::string to_string() const;

private:
    ip_network() = default;
    bool v4_ = true;
    // Network bytes, IPv4 in the first 4; bits after the prefix are zero.
    std::array<std::uint8_t, 16> bytes_{};
    int prefix_length_ = 0;
};

// Which addresses MetaHog may connect to.
//
// The verdict for an address, in order:
//  1. The server's own listening endpoints (address and port) are refused, always: no database lives on
//     MetaHog's HTTP port, and `allow` names networks, not ports, so allowing 127.0.0.0/8 must not open it.
//  2. An address in `deny` is refused. So is an IPv6 address that embeds an IPv4 address in `deny` (NAT64,
//     6to4, Teredo, IPv4-compatible forms): the packets end up at that IPv4 host.
//  3. An address refused by default is refused unless it is in `allow`. The defaults refuse 0.0.0.0/8, ::,
//     link-local (169.254.0.0/16 with the cloud metadata service 169.254.169.254, fe80::/10), known
//     metadata and host-agent addresses outside link-local (fd00:ec2::254 on AWS, 100.100.100.200 on
//     Alibaba Cloud, 168.63.129.16 on Azure), multicast, broadcast and the reserved 240.0.0.0/4.
//  4. An embedded IPv4 address is judged like the address itself (mapped ::ffff:a.b.c.d addresses *are*
//     IPv4 and are judged only as such). Where the embedding lives (decided here, see network_policy.cpp):
//     - 64:ff9b::/96 (NAT64, RFC 6052) is allowed when the embedded IPv4 address is public, because IPv6-only
//       networks with DNS64 reach IPv4 databases that way; an embedded non-public address is refused, since
//       RFC 6052 forbids it and it would land on the translator's own networks.
//     - 64:ff9b:1::/48 (local NAT64), 2002::/16 (6to4), 2001::/32 (Teredo), ::/96 (deprecated
//       IPv4-compatible) and ::ffff:0:0:0/96 (SIIT) are refused by default: obsolete or with an embedding we
//       cannot locate, and no database should need them. Allowing one of these ranges still leaves its
//       embedded IPv4 address to be judged (metadata stays refused unless its IPv4 address is allowed too).
//  Loopback, private (RFC 1918, fc00::/7) and shared (100.64.0.0/10) ranges are allowed by default:
//  self-hosted users query databases on their own network and on localhost.
//
// Thread safety: check() is const and may run on many threads at once; add_own_endpoint() must happen
// before the policy is shared (at start-up, after the listening socket is bound).
class network_policy {
public:
    // Every entry is parsed by ip_network::parse; the first bad one fails the whole policy with a message
    // naming the list and the entry ("deny entry 2 \"10.0.0.1/8\": ...").
    static result<network_policy> make(const std::vector<std::string>& allow,
                                       const std::vector<std::string>& deny);

    // Registers an address and port the server listens on; use the port actually bound (not 0). A wildcard
    // address (0.0.0.0 or ::) stands for every local address: the loopback ranges and the addresses of the
    // machine's interfaces at the time of the call; :: also covers IPv4, since Linux listens dual-stack.
    void add_own_endpoint(const boost::asio::ip::address& address, std::uint16_t port);

    // ok, or forbidden with a message that names the address and why it is refused
    // ("169.254.169.254 is a link-local address (cloud metadata services live there); MetaHog refuses to
    // connect to it").
    result<void> check(const boost::asio::ip::address& address, std::uint16_t port) const;

    // The host string of a source, before it is resolved. Refused with invalid_input (field "host"): empty;
    // longer than 253 characters; a unix-socket path or abstract socket ('/' or '@' first, which libpq would
    // open locally); a host list (','), which would let libpq try hosts we never checked; and anything that
    // is neither an IP literal nor a host name (letters, digits, '-', '_' and '.', labels of 1 to 63
    // characters not starting or ending with '-'). A name whose last label is numeric ("127.1", "0x7f.1",
    // "2130706433") is refused too: resolvers read those as IP addresses in legacy notations.
    // '_' is accepted although RFC 1123 does not list it: DNS carries it and Docker Compose service names
    // commonly use it; it cannot change what the name resolves to.
    static result<void> check_host(std::string_view host);

    // The addresses of this machine's network interfaces (getifaddrs), for the wildcard-listen case.
    static std::vector<boost::asio::ip::address> local_interface_addresses();

private:
    // A wildcard listen is expanded into one entry per local network when it is added.
    struct own_endpoint {
        ip_network network;
        std::uint16_t port = 0;
    };

    network_policy() = default;
    bool is_own_endpoint(const boost::asio::ip::address& address, std::uint16_t port) const;

    std::vector<ip_network> allow_;
    std::vector<ip_network> deny_;
    std::vector<own_endpoint> own_endpoints_;
};

}  // namespace metahog::security
