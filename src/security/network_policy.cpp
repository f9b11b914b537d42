// The SSRF guard: CIDR parsing, the default refusals, embedded-IPv4 forms, own endpoints and host strings.
#include "security/network_policy.hpp"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

namespace metahog::security {
namespace {

using boost::asio::ip::address;
using boost::asio::ip::address_v4;
using boost::asio::ip::address_v6;

constexpr std::size_t max_host_length = 253;
constexpr std::size_t max_label_length = 63;

// What the kernel actually connects to: an IPv4-mapped IPv6 address is an IPv4 connection.
address normalize(const address& original) {
    if (original.is_v6() && original.to_v6().is_v4_mapped()) {
        return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, original.to_v6());
    }
    return original;
}

// How an address is named in messages: a mapped address also shows the IPv4 address it is.
std::string describe(const address& original) {
    const address normalized = normalize(original);
    if (normalized == original) {
        return original.to_string();
    }
    return original.to_string() + " (the IPv4 address " + normalized.to_string() + ")";
}

bool prefix_equal(const std::uint8_t* left, const std::uint8_t* right, int prefix_length) noexcept {
    const int whole_bytes = prefix_length / 8;
    if (std::memcmp(left, right, static_cast<std::size_t>(whole_bytes)) != 0) {
        return false;
    }
    const int rest_bits = prefix_length % 8;
    if (rest_bits == 0) {
        return true;
    }
    const auto mask = static_cast<std::uint8_t>(0xFFu << (8 - rest_bits));
    return (left[whole_bytes] & mask) == (right[whole_bytes] & mask);
}

// A refusal that applies unless the operator allows the address.
struct default_rule {
    ip_network network;
    // Completes "<address> is ...".
    std::string_view reason;
};

ip_network must_parse(std::string_view text) {
    auto parsed = ip_network::parse(text);
    if (!parsed) {
        throw std::logic_error("built-in network does not parse: " + std::string(text));
    }
    return *std::move(parsed);
}

// Order matters: the first match names the reason, so specific addresses come before their ranges.
const std::vector<default_rule>& default_rules() {
    static const std::vector<default_rule> rules = [] {
        const std::pair<std::string_view, std::string_view> table[] = {
            {"0.0.0.0/8", "in 0.0.0.0/8 (\"this network\"), which reaches this machine"},
            {"169.254.0.0/16", "a link-local address (cloud metadata services live there)"},
            {"100.100.100.200/32", "the Alibaba Cloud instance metadata address"},
            {"168.63.129.16/32", "the Azure host agent address (it serves instance configuration)"},
            {"255.255.255.255/32", "the broadcast address"},
            {"224.0.0.0/4", "a multicast address"},
            {"240.0.0.0/4", "a reserved address (240.0.0.0/4)"},
            {"::/128", "the unspecified address, which reaches this machine"},
            {"fd00:ec2::254/128", "the AWS instance metadata address (IPv6)"},
            {"fe80::/10", "a link-local address"},
            {"ff00::/8", "a multicast address"},
            {"64:ff9b:1::/48",
             "in the local-use NAT64 prefix 64:ff9b:1::/48, where MetaHog cannot tell which IPv4 address is "
             "behind it"},
            {"2002::/16", "a 6to4 address (deprecated tunnelling to the IPv4 address it embeds)"},
            {"2001::/32", "a Teredo address (deprecated tunnelling to the IPv4 addresses it embeds)"},
            {"::ffff:0:0:0/96", "an IPv4-translated (SIIT) address"},
            // ::1 is loopback and allowed; :: matched above. The rest of ::/96 is the deprecated form.
            {"::/96", "a deprecated IPv4-compatible IPv6 address"},
        };
        std::vector<default_rule> built;
        for (const auto& [text, reason] : table) {
            built.push_back(default_rule{must_parse(text), reason});
        }
        return built;
    }();
    return rules;
}

// RFC 6052 §3.1: the well-known NAT64 prefix must not carry these (RFC 1918, RFC 6890 special-purpose).
const std::vector<ip_network>& non_global_v4() {
    static const std::vector<ip_network> networks = [] {
        std::vector<ip_network> built;
        for (std::string_view text :
             {"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
              "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
              "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4"}) {
            built.push_back(must_parse(text));
        }
        return built;
    }();
    return networks;
}

const ip_network& nat64_well_known() {
    static const ip_network network = must_parse("64:ff9b::/96");
    return network;
}

const ip_network* first_match(const std::vector<ip_network>& networks, const address& candidate) {
    const auto found = std::find_if(networks.begin(), networks.end(),
                                    [&](const ip_network& network) { return network.contains(candidate); });
    return found == networks.end() ? nullptr : &*found;
}

std::optional<std::string_view> default_refusal(const address& candidate) {
    if (candidate.is_v6() && candidate.to_v6().is_loopback()) {
        return std::nullopt;
    }
    for (const default_rule& rule : default_rules()) {
        if (rule.network.contains(candidate)) {
            return rule.reason;
        }
    }
    return std::nullopt;
}

address_v4 v4_from(const address_v6::bytes_type& bytes, std::size_t offset, bool inverted = false) {
    address_v4::bytes_type v4{};
    for (std::size_t index = 0; index < 4; ++index) {
        v4[index] = inverted ? static_cast<std::uint8_t>(~bytes[offset + index]) : bytes[offset + index];
    }
    return address_v4(v4);
}

// The IPv4 addresses an IPv6 address forwards to, where the embedding is fixed by its prefix.
std::vector<address_v4> embedded_v4(const address& candidate) {
    std::vector<address_v4> found;
    if (!candidate.is_v6()) {
        return found;
    }
    const address_v6 v6 = candidate.to_v6();
    const address_v6::bytes_type bytes = v6.to_bytes();
    const auto zero_until = [&](std::size_t end) {
        return std::all_of(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(end),
                           [](std::uint8_t byte) { return byte == 0; });
    };
    if (bytes[0] == 0x20 && bytes[1] == 0x02) {
        found.push_back(v4_from(bytes, 2));  // 6to4: 2002:AABB:CCDD::/48
    } else if (bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0 && bytes[3] == 0) {
        found.push_back(v4_from(bytes, 4));         // Teredo server
        found.push_back(v4_from(bytes, 12, true));  // Teredo client, stored inverted (RFC 4380)
    } else if (nat64_well_known().contains(candidate)) {
        found.push_back(v4_from(bytes, 12));
    } else if (zero_until(8) && bytes[8] == 0xFF && bytes[9] == 0xFF && bytes[10] == 0 && bytes[11] == 0) {
        found.push_back(v4_from(bytes, 12));  // SIIT ::ffff:0:a.b.c.d
    } else if (zero_until(12) && !v6.is_unspecified() && !v6.is_loopback()) {
        found.push_back(v4_from(bytes, 12));  // deprecated IPv4-compatible ::a.b.c.d
    }
    return found;
}

error refusal(std::string message) {
    return make_error(error_code::forbidden, std::move(message));
}

error invalid_host(std::string message) {
    return make_error(error_code::invalid_input, std::move(message), "host");
}

std::string describe_byte(char byte) {
    const auto value = static_cast<unsigned char>(byte);
    if (value == 0x20) {
        return "a space";
    }
    if (value >= 0x21 && value < 0x7F) {
        return std::string("'") + byte + "'";
    }
    static constexpr char hex[] = "0123456789abcdef";
    return std::string("a control or non-ASCII byte (0x") + hex[value >> 4] + hex[value & 0x0F] + ")";
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// "127", "0x7f", "0X7F": what inet_aton and getaddrinfo read as a part of a numeric address.
bool is_numeric_label(std::string_view label) {
    if (label.size() > 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X')) {
        return std::all_of(label.begin() + 2, label.end(), is_hex);
    }
    return !label.empty() && std::all_of(label.begin(), label.end(), is_digit);
}

struct ifaddrs_deleter {
    void operator()(ifaddrs* list) const noexcept { ::freeifaddrs(list); }
};
using ifaddrs_handle = std::unique_ptr<ifaddrs, ifaddrs_deleter>;

}  // namespace

result<ip_network> ip_network::parse(std::string_view text) {
    const std::string shown(text.substr(0, 64));
    if (text.empty()) {
        return make_error(error_code::invalid_input, "empty network; write a CIDR such as 10.0.0.0/8");
    }
    const std::size_t slash = text.find('/');
    const std::string_view address_text = text.substr(0, slash);
    if (address_text.find('%') != std::string_view::npos) {
        return make_error(error_code::invalid_input,
                          "network \"" + shown + "\" has a zone id ('%'); write the network without it");
    }
    boost::system::error_code parse_error;
    const address parsed = boost::asio::ip::make_address(std::string(address_text), parse_error);
    if (parse_error) {
        return make_error(error_code::invalid_input,
                          "network \"" + shown + "\" does not start with an IPv4 or IPv6 address");
    }
    const int width = parsed.is_v4() ? 32 : 128;
    int prefix_length = width;
    if (slash != std::string_view::npos) {
        const std::string_view digits = text.substr(slash + 1);
        const bool plain_digits =
            !digits.empty() && digits.size() <= 3 && std::all_of(digits.begin(), digits.end(), is_digit);
        if (!plain_digits) {
            return make_error(error_code::invalid_input,
                              "network \"" + shown + "\" needs a prefix length of plain digits after '/'");
        }
        std::from_chars(digits.data(), digits.data() + digits.size(), prefix_length);
        if (prefix_length > width) {
            return make_error(error_code::invalid_input,
                              "network \"" + shown + "\" has a prefix length over " + std::to_string(width));
        }
    }

    ip_network network;
    network.v4_ = parsed.is_v4();
    network.prefix_length_ = prefix_length;
    if (parsed.is_v4()) {
        const auto bytes = parsed.to_v4().to_bytes();
        std::copy(bytes.begin(), bytes.end(), network.bytes_.begin());
    } else {
        const auto bytes = parsed.to_v6().to_bytes();
        std::copy(bytes.begin(), bytes.end(), network.bytes_.begin());
        // ::ffff:a.b.c.d/n denotes IPv4 addresses, which is how check() sees them.
        if (parsed.to_v6().is_v4_mapped() && prefix_length >= 96) {
            network.v4_ = true;
            network.prefix_length_ = prefix_length - 96;
            std::copy(bytes.begin() + 12, bytes.end(), network.bytes_.begin());
            std::fill(network.bytes_.begin() + 4, network.bytes_.end(), std::uint8_t{0});
        }
    }

    ip_network masked = network;
    const int total_bytes = masked.v4_ ? 4 : 16;
    for (int bit = masked.prefix_length_; bit < total_bytes * 8; ++bit) {
        masked.bytes_[static_cast<std::size_t>(bit / 8)] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
    }
    if (masked.bytes_ != network.bytes_) {
        return make_error(error_code::invalid_input, "network \"" + shown +
                                                         "\" has bits set after its prefix; did you mean " +
                                                         masked.to_string() + "?");
    }
    return network;
}

ip_network ip_network::host(const address& original) {
    const address normalized = normalize(original);
    ip_network network;
    network.v4_ = normalized.is_v4();
    network.prefix_length_ = network.v4_ ? 32 : 128;
    if (network.v4_) {
        const auto bytes = normalized.to_v4().to_bytes();
        std::copy(bytes.begin(), bytes.end(), network.bytes_.begin());
    } else {
        const auto bytes = normalized.to_v6().to_bytes();
        std::copy(bytes.begin(), bytes.end(), network.bytes_.begin());
    }
    return network;
}

bool ip_network::contains(const address& candidate) const noexcept {
    const address normalized = normalize(candidate);
    if (normalized.is_v4() != v4_) {
        return false;
    }
    if (v4_) {
        const auto bytes = normalized.to_v4().to_bytes();
        return prefix_equal(bytes.data(), bytes_.data(), prefix_length_);
    }
    const auto bytes = normalized.to_v6().to_bytes();
    return prefix_equal(bytes.data(), bytes_.data(), prefix_length_);
}

std::string ip_network::to_string() const {
    std::string text;
    if (v4_) {
        address_v4::bytes_type bytes{};
        std::copy(bytes_.begin(), bytes_.begin() + 4, bytes.begin());
        text = address_v4(bytes).to_string();
    } else {
        text = address_v6(bytes_).to_string();
    }
    return text + "/" + std::to_string(prefix_length_);
}

result<network_policy> network_policy::make(const std::vector<std::string>& allow,
                                            const std::vector<std::string>& deny) {
    network_policy policy;
    const auto parse_list = [](const std::vector<std::string>& texts, std::string_view list_name,
                               std::vector<ip_network>& into) -> result<void> {
        for (std::size_t index = 0; index < texts.size(); ++index) {
            auto parsed = ip_network::parse(texts[index]);
            if (!parsed) {
                error failure = std::move(parsed).error();
                failure.message =
                    std::string(list_name) + " entry " + std::to_string(index + 1) + ": " + failure.message;
                return failure;
            }
            into.push_back(*std::move(parsed));
        }
        return {};
    };
    if (auto parsed = parse_list(allow, "allow", policy.allow_); !parsed) {
        return std::move(parsed).error();
    }
    if (auto parsed = parse_list(deny, "deny", policy.deny_); !parsed) {
        return std::move(parsed).error();
    }
    return policy;
}

void network_policy::add_own_endpoint(const address& listen_address, std::uint16_t port) {
    const address normalized = normalize(listen_address);
    if (!normalized.is_unspecified()) {
        own_endpoints_.push_back(own_endpoint{ip_network::host(normalized), port});
        return;
    }
    // Every wildcard covers IPv4: Linux listens dual-stack on :: unless IPV6_V6ONLY is set. Connecting to
    // 0.0.0.0 or :: reaches the local machine, so those count as local too.
    const bool covers_v6 = normalized.is_v6();
    own_endpoints_.push_back(own_endpoint{must_parse("127.0.0.0/8"), port});
    own_endpoints_.push_back(own_endpoint{must_parse("0.0.0.0/32"), port});
    if (covers_v6) {
        own_endpoints_.push_back(own_endpoint{must_parse("::1/128"), port});
        own_endpoints_.push_back(own_endpoint{must_parse("::/128"), port});
    }
    for (const address& local : local_interface_addresses()) {
        if (local.is_v4() || covers_v6) {
            own_endpoints_.push_back(own_endpoint{ip_network::host(local), port});
        }
    }
}

bool network_policy::is_own_endpoint(const address& candidate, std::uint16_t port) const {
    return std::any_of(own_endpoints_.begin(), own_endpoints_.end(), [&](const own_endpoint& own) {
        return own.port == port && own.network.contains(candidate);
    });
}

result<void> network_policy::check(const address& original, std::uint16_t port) const {
    const address candidate = normalize(original);
    // Messages are built only for refusals: allowed connections pay for no strings.
    const auto subject = [&] { return describe(original); };
    constexpr std::string_view refuses = "; MetaHog refuses to connect to it";

    if (is_own_endpoint(candidate, port)) {
        return refusal(subject() + " port " + std::to_string(port) +
                       " is MetaHog's own listening address; MetaHog refuses to connect to itself");
    }

    const std::vector<address_v4> embedded = embedded_v4(candidate);
    if (const ip_network* denied = first_match(deny_, candidate)) {
        return refusal(subject() + " is in " + denied->to_string() +
                       ", a network this server's configuration denies" + std::string(refuses));
    }
    for (const address_v4& inner : embedded) {
        if (const ip_network* denied = first_match(deny_, address(inner))) {
            return refusal(subject() + " embeds the IPv4 address " + inner.to_string() + ", which is in " +
                           denied->to_string() + ", a network this server's configuration denies" +
                           std::string(refuses));
        }
    }

    const bool allowed = first_match(allow_, candidate) != nullptr;
    if (!allowed) {
        if (const auto reason = default_refusal(candidate)) {
            return refusal(subject() + " is " + std::string(*reason) + std::string(refuses));
        }
        if (nat64_well_known().contains(candidate) &&
            first_match(non_global_v4(), address(embedded.front()))) {
            return refusal(subject() + " is a NAT64 address for the non-public IPv4 address " +
                           embedded.front().to_string() + ", which would reach the translator's own network" +
                           std::string(refuses));
        }
    }
    for (const address_v4& inner : embedded) {
        if (first_match(allow_, address(inner)) != nullptr) {
            continue;
        }
        if (const auto reason = default_refusal(address(inner))) {
            return refusal(subject() + " embeds the IPv4 address " + inner.to_string() + ", which is " +
                           std::string(*reason) + std::string(refuses));
        }
    }
    return {};
}

result<void> network_policy::check_host(std::string_view host) {
    if (host.empty()) {
        return invalid_host("host is empty; give a host name or an IP address");
    }
    if (host.size() > max_host_length) {
        return invalid_host("host is longer than " + std::to_string(max_host_length) + " characters");
    }
    if (host.front() == '/' || host.front() == '@') {
        return invalid_host("host is a unix-socket path; MetaHog connects to databases over TCP only");
    }
    if (host.find(',') != std::string_view::npos) {
        return invalid_host("host lists several hosts; give exactly one");
    }
    // Host text is not echoed: people paste "user:password@host" into this field.
    if (host.find(':') != std::string_view::npos) {
        boost::system::error_code parse_error;
        if (host.find('%') == std::string_view::npos) {
            boost::asio::ip::make_address_v6(std::string(host), parse_error);
        }
        if (host.find('%') != std::string_view::npos || parse_error) {
            return invalid_host(
                "host contains ':' but is not a valid IPv6 address (write it without brackets, "
                "zone id or port)");
        }
        return {};
    }
    for (std::size_t index = 0; index < host.size(); ++index) {
        const char c = host[index];
        if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '.' && c != '_') {
            return invalid_host("host contains " + describe_byte(c) + " at position " +
                                std::to_string(index + 1) +
                                ", which a host name may not contain (letters, digits, '-', '_' and '.')");
        }
    }
    boost::system::error_code parse_error;
    boost::asio::ip::make_address_v4(std::string(host), parse_error);
    if (!parse_error) {
        return {};
    }
    std::string_view name = host;
    if (name.back() == '.') {
        name.remove_suffix(1);
    }
    std::string_view last_label;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = name.find('.', start);
        const std::string_view label =
            name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (label.empty()) {
            return invalid_host("host has an empty label (two dots in a row, or a dot at the start)");
        }
        if (label.size() > max_label_length) {
            return invalid_host("host has a label longer than " + std::to_string(max_label_length) +
                                " characters");
        }
        if (label.front() == '-' || label.back() == '-') {
            return invalid_host("host has a label that starts or ends with '-'");
        }
        last_label = label;
        if (dot == std::string_view::npos) {
            break;
        }
        start = dot + 1;
    }
    if (is_numeric_label(last_label)) {
        return invalid_host("host looks like an IP address in a legacy notation; write it as a.b.c.d");
    }
    return {};
}

std::vector<address> network_policy::local_interface_addresses() {
    std::vector<address> found;
    ifaddrs* raw = nullptr;
    if (::getifaddrs(&raw) != 0) {
        return found;
    }
    const ifaddrs_handle list(raw);
    for (const ifaddrs* entry = list.get(); entry != nullptr; entry = entry->ifa_next) {
        if (entry->ifa_addr == nullptr) {
            continue;
        }
        if (entry->ifa_addr->sa_family == AF_INET) {
            sockaddr_in v4{};
            std::memcpy(&v4, entry->ifa_addr, sizeof v4);
            address_v4::bytes_type bytes{};
            std::memcpy(bytes.data(), &v4.sin_addr, bytes.size());
            found.emplace_back(address_v4(bytes));
        } else if (entry->ifa_addr->sa_family == AF_INET6) {
            sockaddr_in6 v6{};
            std::memcpy(&v6, entry->ifa_addr, sizeof v6);
            address_v6::bytes_type bytes{};
            std::memcpy(bytes.data(), &v6.sin6_addr, bytes.size());
            found.emplace_back(address_v6(bytes, v6.sin6_scope_id));
        }
    }
    return found;
}

}  // namespace metahog::security
