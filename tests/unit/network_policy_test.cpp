// Tests of metahog::security::network_policy: every address MetaHog must never connect to (metadata services,
// link-local, multicast, its own port, their IPv6 disguises), the operator's allow/deny precedence, CIDR
// parsing, and the host strings refused before resolution.
#include "security/network_policy.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace metahog::security {
namespace {

using boost::asio::ip::address;
using boost::asio::ip::make_address;

constexpr std::uint16_t postgres_port = 5432;

network_policy policy_with(const std::vector<std::string>& allow, const std::vector<std::string>& deny) {
    auto made = network_policy::make(allow, deny);
    EXPECT_TRUE(made.has_value()) << (made ? "" : made.error().message);
    return *std::move(made);
}

network_policy default_policy() {
    return policy_with({}, {});
}

// The refusal for text:port, or a failure message when it was allowed.
::testing::AssertionResult refused(const network_policy& policy, const std::string& text,
                                   std::uint16_t port = postgres_port) {
    const auto verdict = policy.check(make_address(text), port);
    if (verdict) {
        return ::testing::AssertionFailure() << text << " port " << port << " was allowed";
    }
    if (verdict.error().code != error_code::forbidden) {
        return ::testing::AssertionFailure()
               << text << " refused with code " << to_string(verdict.error().code);
    }
    return ::testing::AssertionSuccess() << verdict.error().message;
}

::testing::AssertionResult allowed(const network_policy& policy, const std::string& text,
                                   std::uint16_t port = postgres_port) {
    const auto verdict = policy.check(make_address(text), port);
    if (!verdict) {
        return ::testing::AssertionFailure() << text << " was refused: " << verdict.error().message;
    }
    return ::testing::AssertionSuccess();
}

std::string refusal_message(const network_policy& policy, const std::string& text,
                            std::uint16_t port = postgres_port) {
    const auto verdict = policy.check(make_address(text), port);
    return verdict ? std::string("(allowed)") : verdict.error().message;
}

// Every IPv4 address the defaults refuse, one or more per refused range, including range edges.
const std::vector<std::string> refused_v4 = {
    "0.0.0.0",         "0.1.2.3",         "0.255.255.255",   "169.254.169.254", "169.254.0.1",
    "169.254.255.255", "169.254.170.2",   "100.100.100.200", "168.63.129.16",   "255.255.255.255",
    "224.0.0.1",       "239.255.255.250", "240.0.0.1",       "254.1.2.3",
};

// --- Defaults
// ------------------------------------------------------------------------------------------------

// The cloud metadata service is the classic SSRF target: its message must say what it is and that we refuse.
TEST(network_policy_defaults, refuses_cloud_metadata_with_the_documented_message) {
    EXPECT_EQ(
        refusal_message(default_policy(), "169.254.169.254"),
        "169.254.169.254 is a link-local address (cloud metadata services live there); MetaHog refuses to "
        "connect to it");
}

// Each refused IPv4 range, so a user can never point a source at them.
TEST(network_policy_defaults, refuses_every_default_ipv4_range) {
    const auto policy = default_policy();
    for (const auto& text : refused_v4) {
        EXPECT_TRUE(refused(policy, text)) << text;
    }
}

// The same addresses hidden in IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) IPv6 form: the
// kernel connects a mapped address over IPv4, so the disguise must not get past the guard.
TEST(network_policy_defaults, refuses_mapped_and_compatible_forms_of_every_refused_ipv4_address) {
    const auto policy = default_policy();
    for (const auto& text : refused_v4) {
        EXPECT_TRUE(refused(policy, "::ffff:" + text)) << text;
        EXPECT_TRUE(refused(policy, "::" + text)) << text;
    }
    EXPECT_NE(refusal_message(policy, "::ffff:169.254.169.254").find("the IPv4 address 169.254.169.254"),
              std::string::npos);
}

// Metadata and host-agent addresses that are not link-local: AWS over IPv6, Alibaba Cloud, Azure.
TEST(network_policy_defaults, refuses_metadata_addresses_outside_link_local) {
    const auto policy = default_policy();
    EXPECT_NE(refusal_message(policy, "fd00:ec2::254").find("AWS instance metadata"), std::string::npos);
    EXPECT_NE(refusal_message(policy, "100.100.100.200").find("Alibaba"), std::string::npos);
    EXPECT_NE(refusal_message(policy, "168.63.129.16").find("Azure"), std::string::npos);
    // Their neighbours are ordinary private or public addresses.
    EXPECT_TRUE(allowed(policy, "fd00:ec2::253"));
    EXPECT_TRUE(allowed(policy, "100.100.100.201"));
    EXPECT_TRUE(allowed(policy, "168.63.129.17"));
}

TEST(network_policy_defaults, refuses_ipv6_link_local_multicast_and_unspecified) {
    const auto policy = default_policy();
    for (const char* text :
         {"fe80::1", "fe80::a9fe:a9fe", "febf:ffff::1", "ff02::1", "ff05::2", "ff0e::1", "::"}) {
        EXPECT_TRUE(refused(policy, text)) << text;
    }
    EXPECT_NE(refusal_message(policy, "::").find("unspecified"), std::string::npos);
    EXPECT_NE(refusal_message(policy, "ff02::1").find("multicast"), std::string::npos);
}

TEST(network_policy_defaults, names_the_reason_for_each_kind_of_refusal) {
    const auto policy = default_policy();
    EXPECT_NE(refusal_message(policy, "255.255.255.255").find("broadcast"), std::string::npos);
    EXPECT_NE(refusal_message(policy, "239.1.1.1").find("multicast"), std::string::npos);
    EXPECT_NE(refusal_message(policy, "0.0.0.0").find("this network"), std::string::npos);
    EXPECT_NE(refusal_message(policy, "250.0.0.1").find("reserved"), std::string::npos);
    EXPECT_NE(refusal_message(policy, "fe80::1").find("link-local"), std::string::npos);
}

// Range edges: the guard must not swallow neighbouring, legitimate addresses.
TEST(network_policy_defaults, range_edges_are_exact) {
    const auto policy = default_policy();
    EXPECT_TRUE(allowed(policy, "169.253.255.255"));
    EXPECT_TRUE(allowed(policy, "169.255.0.0"));
    EXPECT_TRUE(allowed(policy, "1.0.0.0"));
    EXPECT_TRUE(allowed(policy, "223.255.255.255"));
    EXPECT_TRUE(allowed(policy, "fec0::1"));
    EXPECT_TRUE(refused(policy, "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
}

// Self-hosted users query databases on localhost and their own network: those stay allowed by default.
TEST(network_policy_defaults, allows_loopback_private_and_public_addresses) {
    const auto policy = default_policy();
    for (const char* text : {"127.0.0.1", "127.255.255.254", "::1", "::ffff:127.0.0.1", "10.1.2.3",
                             "172.16.0.1", "172.31.255.254", "192.168.1.10", "100.64.0.1", "fd12:3456::1",
                             "fc00::1", "8.8.8.8", "2606:4700::1111", "::ffff:10.0.0.5"}) {
        EXPECT_TRUE(allowed(policy, text)) << text;
    }
}

// --- Embedded IPv4 (NAT64, 6to4, Teredo, SIIT)
// ----------------------------------------------------------------

// IPv6-only networks reach IPv4 databases through NAT64 (64:ff9b::/96): a public embedded address must work.
TEST(network_policy_embedded, nat64_to_a_public_address_is_allowed) {
    EXPECT_TRUE(allowed(default_policy(), "64:ff9b::8.8.8.8"));
}

// A NAT64 address for metadata, loopback or a private network would land on the translator's side.
TEST(network_policy_embedded, nat64_to_a_non_public_address_is_refused) {
    const auto policy = default_policy();
    EXPECT_NE(refusal_message(policy, "64:ff9b::169.254.169.254").find("169.254.169.254"), std::string::npos);
    EXPECT_TRUE(refused(policy, "64:ff9b::127.0.0.1"));
    EXPECT_TRUE(refused(policy, "64:ff9b::10.0.0.1"));
    EXPECT_TRUE(refused(policy, "64:ff9b::192.168.0.1"));
    // Local-use NAT64: the embedding position is unknown, so the whole prefix is refused.
    EXPECT_TRUE(refused(policy, "64:ff9b:1::a00:1"));
}

// 6to4, Teredo and SIIT are obsolete tunnels to embedded IPv4 addresses: refused by default.
TEST(network_policy_embedded, obsolete_tunnel_prefixes_are_refused_by_default) {
    const auto policy = default_policy();
    EXPECT_NE(refusal_message(policy, "2002:a9fe:a9fe::1").find("6to4"), std::string::npos);
    EXPECT_TRUE(refused(policy, "2002:0808:0808::1"));
    EXPECT_NE(refusal_message(policy, "2001:0:4136:e378:8000:63bf:3fff:fdd2").find("Teredo"),
              std::string::npos);
    EXPECT_TRUE(refused(policy, "::ffff:0:169.254.169.254"));
    EXPECT_TRUE(refused(policy, "::ffff:0:8.8.8.8"));
    EXPECT_TRUE(refused(policy, "::8.8.8.8"));
}

// Allowing a tunnel range accepts its ordinary uses, yet metadata behind it stays refused.
TEST(network_policy_embedded, allowing_a_tunnel_range_still_judges_the_embedded_address) {
    const auto policy = policy_with({"2002::/16", "2001::/32", "64:ff9b::/96"}, {});
    EXPECT_TRUE(allowed(policy, "2002:0808:0808::1"));
    EXPECT_TRUE(allowed(policy, "2002:0a00:0001::1"));
    EXPECT_NE(refusal_message(policy, "2002:a9fe:a9fe::1").find("embeds the IPv4 address 169.254.169.254"),
              std::string::npos);
    // Teredo: server 65.54.227.120 and client stored inverted; ~169.254.169.254 = 86.1.86.1 (5601:5601).
    EXPECT_TRUE(allowed(policy, "2001:0:4136:e378:8000:63bf:3fff:fdd2"));
    EXPECT_TRUE(refused(policy, "2001:0:4136:e378:8000:63bf:5601:5601"));
    // Teredo whose server is the metadata address.
    EXPECT_TRUE(refused(policy, "2001:0:a9fe:a9fe::1"));
    // An explicitly allowed NAT64 prefix accepts private targets but still not metadata.
    EXPECT_TRUE(allowed(policy, "64:ff9b::10.0.0.1"));
    EXPECT_TRUE(refused(policy, "64:ff9b::169.254.169.254"));
}

// --- Allow and deny
// -------------------------------------------------------------------------------------------

TEST(network_policy_lists, deny_refuses_a_network_and_names_it) {
    const auto policy = policy_with({}, {"10.0.0.0/8"});
    EXPECT_EQ(refusal_message(policy, "10.1.2.3"),
              "10.1.2.3 is in 10.0.0.0/8, a network this server's configuration denies; MetaHog refuses to "
              "connect to it");
    EXPECT_TRUE(allowed(policy, "11.0.0.1"));
    EXPECT_TRUE(allowed(policy, "192.168.0.1"));
}

// An operator who denies an IPv4 network must not be bypassed through its IPv6 disguises.
TEST(network_policy_lists, deny_covers_mapped_and_embedded_forms) {
    const auto policy = policy_with({"2002::/16"}, {"10.0.0.0/8", "8.8.8.0/24"});
    EXPECT_TRUE(refused(policy, "::ffff:10.1.2.3"));
    EXPECT_TRUE(refused(policy, "::10.1.2.3"));
    EXPECT_TRUE(refused(policy, "2002:0a01:0203::1"));
    EXPECT_NE(refusal_message(policy, "64:ff9b::8.8.8.8").find("8.8.8.0/24"), std::string::npos);
}

// A deny list written in mapped form means the IPv4 network.
TEST(network_policy_lists, mapped_cidr_denies_the_ipv4_network) {
    const auto policy = policy_with({}, {"::ffff:10.0.0.0/104"});
    EXPECT_TRUE(refused(policy, "10.200.0.1"));
    EXPECT_TRUE(refused(policy, "::ffff:10.200.0.1"));
    EXPECT_TRUE(allowed(policy, "11.0.0.1"));
}

// Operators may forbid localhost or private networks that are allowed by default.
TEST(network_policy_lists, deny_overrides_default_allowances) {
    const auto policy = policy_with({}, {"127.0.0.0/8", "::1/128", "192.168.0.0/16"});
    EXPECT_TRUE(refused(policy, "127.0.0.1"));
    EXPECT_TRUE(refused(policy, "::ffff:127.0.0.1"));
    EXPECT_TRUE(refused(policy, "::1"));
    EXPECT_TRUE(refused(policy, "192.168.1.1"));
    EXPECT_TRUE(allowed(policy, "10.0.0.1"));
}

TEST(network_policy_lists, deny_everything_ipv4) {
    const auto policy = policy_with({}, {"0.0.0.0/0"});
    EXPECT_TRUE(refused(policy, "8.8.8.8"));
    EXPECT_TRUE(refused(policy, "::ffff:8.8.8.8"));
    EXPECT_TRUE(allowed(policy, "2606:4700::1111"));
}

// allow wins over the defaults: an operator who runs a database on a link-local address can say so.
TEST(network_policy_lists, allow_overrides_the_defaults) {
    const auto policy = policy_with({"169.254.10.0/24", "fe80::/10"}, {});
    EXPECT_TRUE(allowed(policy, "169.254.10.5"));
    EXPECT_TRUE(allowed(policy, "::ffff:169.254.10.5"));
    EXPECT_TRUE(allowed(policy, "fe80::1"));
    EXPECT_TRUE(refused(policy, "169.254.169.254"));
}

// ... but never over deny, whatever the order or overlap.
TEST(network_policy_lists, deny_wins_over_allow) {
    const auto overlapping = policy_with({"169.254.0.0/16"}, {"169.254.169.254/32"});
    EXPECT_TRUE(allowed(overlapping, "169.254.1.1"));
    EXPECT_TRUE(refused(overlapping, "169.254.169.254"));
    const auto identical = policy_with({"10.0.0.0/8"}, {"10.0.0.0/8"});
    EXPECT_TRUE(refused(identical, "10.0.0.1"));
    const auto narrower_allow = policy_with({"10.1.0.0/16"}, {"10.0.0.0/8"});
    EXPECT_TRUE(refused(narrower_allow, "10.1.0.1"));
}

TEST(network_policy_lists, bare_addresses_mean_single_hosts) {
    const auto policy = policy_with({"169.254.169.123"}, {"10.0.0.7", "fd00::7"});
    EXPECT_TRUE(allowed(policy, "169.254.169.123"));
    EXPECT_TRUE(refused(policy, "169.254.169.124"));
    EXPECT_TRUE(refused(policy, "10.0.0.7"));
    EXPECT_TRUE(allowed(policy, "10.0.0.8"));
    EXPECT_TRUE(refused(policy, "fd00::7"));
    EXPECT_TRUE(allowed(policy, "fd00::8"));
}

// --- Own endpoint
// ---------------------------------------------------------------------------------------------

// A source pointed at MetaHog's own HTTP port would make the server talk to itself.
TEST(network_policy_own_endpoint, refuses_the_exact_listening_address_and_port) {
    auto policy = default_policy();
    policy.add_own_endpoint(make_address("127.0.0.1"), 8000);
    EXPECT_EQ(refusal_message(policy, "127.0.0.1", 8000),
              "127.0.0.1 port 8000 is MetaHog's own listening address; MetaHog refuses to connect to itself");
    EXPECT_TRUE(refused(policy, "::ffff:127.0.0.1", 8000));
    EXPECT_TRUE(allowed(policy, "127.0.0.1", postgres_port));
    EXPECT_TRUE(allowed(policy, "127.0.0.2", 8000));
}

// Listening on 0.0.0.0 accepts connections on every local IPv4 address.
TEST(network_policy_own_endpoint, wildcard_ipv4_listen_covers_every_local_ipv4_address) {
    auto policy = default_policy();
    policy.add_own_endpoint(make_address("0.0.0.0"), 8000);
    EXPECT_TRUE(refused(policy, "127.0.0.1", 8000));
    EXPECT_TRUE(refused(policy, "127.8.9.10", 8000));
    EXPECT_TRUE(allowed(policy, "127.0.0.1", postgres_port));
    for (const address& local : network_policy::local_interface_addresses()) {
        if (local.is_v4()) {
            EXPECT_TRUE(refused(policy, local.to_string(), 8000)) << local.to_string();
        }
    }
}

// Listening on :: is dual-stack on Linux: it covers IPv6 and IPv4 local addresses.
TEST(network_policy_own_endpoint, wildcard_ipv6_listen_covers_ipv6_and_ipv4_local_addresses) {
    auto policy = default_policy();
    policy.add_own_endpoint(make_address("::"), 8080);
    EXPECT_TRUE(refused(policy, "::1", 8080));
    EXPECT_TRUE(refused(policy, "127.0.0.1", 8080));
    EXPECT_TRUE(refused(policy, "::ffff:127.0.0.1", 8080));
    EXPECT_TRUE(allowed(policy, "::1", postgres_port));
    for (const address& local : network_policy::local_interface_addresses()) {
        EXPECT_TRUE(refused(policy, local.to_string(), 8080)) << local.to_string();
    }
}

// allow names networks, not ports: allowing loopback must not open MetaHog's own port.
TEST(network_policy_own_endpoint, allow_does_not_open_the_own_endpoint) {
    auto policy = policy_with({"127.0.0.0/8", "0.0.0.0/0"}, {});
    policy.add_own_endpoint(make_address("127.0.0.1"), 8000);
    EXPECT_TRUE(refused(policy, "127.0.0.1", 8000));
}

// --- CIDR parsing
// ---------------------------------------------------------------------------------------------

TEST(network_policy_parse, accepts_well_formed_networks_in_canonical_form) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"10.0.0.0/8", "10.0.0.0/8"},
        {"::1/128", "::1/128"},
        {"0.0.0.0/0", "0.0.0.0/0"},
        {"::/0", "::/0"},
        {"192.168.1.7", "192.168.1.7/32"},
        {"2001:DB8::/32", "2001:db8::/32"},
        {"::ffff:10.0.0.0/104", "10.0.0.0/8"},
        {"fe80::/10", "fe80::/10"},
    };
    for (const auto& [text, canonical] : cases) {
        const auto parsed = ip_network::parse(text);
        ASSERT_TRUE(parsed) << text << ": " << parsed.error().message;
        EXPECT_EQ(parsed->to_string(), canonical);
    }
}

// A typo in a deny list must stop start-up with a message, not silently protect the wrong range.
TEST(network_policy_parse, refuses_malformed_networks_with_a_message) {
    for (const char* text :
         {"", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/8x",
          "10.0.0.0/8/8", "10.0.0.0/0008", "300.0.0.0/8", "10.0.0/8", "hello", " 10.0.0.0/8", "10.0.0.0/8 ",
          "fe80::1%eth0/64", "/8", "010.0.0.0/8", "10.0.0.0 /8"}) {
        const auto parsed = ip_network::parse(text);
        ASSERT_FALSE(parsed) << "accepted \"" << text << "\"";
        EXPECT_EQ(parsed.error().code, error_code::invalid_input) << text;
        EXPECT_FALSE(parsed.error().message.empty()) << text;
    }
}

// Host bits after the prefix usually mean a different range was intended: refuse, and show the right one.
TEST(network_policy_parse, host_bits_after_the_prefix_are_refused_with_a_suggestion) {
    const auto parsed = ip_network::parse("10.0.0.1/8");
    ASSERT_FALSE(parsed);
    EXPECT_NE(parsed.error().message.find("did you mean 10.0.0.0/8?"), std::string::npos)
        << parsed.error().message;
    const auto v6 = ip_network::parse("fe80::1/10");
    ASSERT_FALSE(v6);
    EXPECT_NE(v6.error().message.find("fe80::/10"), std::string::npos) << v6.error().message;
}

// The operator learns which list and which entry is wrong.
TEST(network_policy_parse, make_names_the_list_and_entry) {
    const auto bad_deny = network_policy::make({"10.0.0.0/8"}, {"192.168.0.0/16", "10.0.0.1/8"});
    ASSERT_FALSE(bad_deny);
    EXPECT_EQ(bad_deny.error().code, error_code::invalid_input);
    EXPECT_EQ(bad_deny.error().message.rfind("deny entry 2: ", 0), 0u) << bad_deny.error().message;
    const auto bad_allow = network_policy::make({"10.0.0.0/8", "nonsense"}, {});
    ASSERT_FALSE(bad_allow);
    EXPECT_EQ(bad_allow.error().message.rfind("allow entry 2: ", 0), 0u) << bad_allow.error().message;
}

// --- Host strings before resolution
// ---------------------------------------------------------------------------

TEST(network_policy_host, accepts_names_and_ip_literals) {
    for (const std::string& host :
         {std::string("db.example.com"), std::string("localhost"), std::string("db"), std::string("my_db"),
          std::string("postgres-primary.internal"), std::string("db.example.com."), std::string("127.0.0.1"),
          std::string("::1"), std::string("2001:db8::1"), std::string("::ffff:10.0.0.1"),
          std::string("3f2a9c1b2d4e"), std::string(63, 'a') + ".example",
          std::string("db1.2ndquadrant.com")}) {
        const auto checked = network_policy::check_host(host);
        EXPECT_TRUE(checked) << host << ": " << (checked ? "" : checked.error().message);
    }
    // The longest legal name: 253 characters.
    std::string longest;
    while (longest.size() + 64 <= 253) {
        longest += std::string(63, 'b') + ".";
    }
    longest += std::string(253 - longest.size(), 'c');
    ASSERT_EQ(longest.size(), 253u);
    EXPECT_TRUE(network_policy::check_host(longest));
}

// Each of these would make libpq connect somewhere other than one checked TCP address.
TEST(network_policy_host, refuses_socket_paths_host_lists_and_malformed_names) {
    const std::vector<std::string> hosts = {
        "",
        "/var/run/postgresql",
        "/tmp",
        "@abstract-socket",
        "db1,db2",
        "db example",
        "db\n",
        "db;rm -rf",
        "[::1]",
        "fe80::1%eth0",
        "-db",
        "db-",
        "a..b",
        ".db",
        std::string(64, 'a') + ".com",
        std::string(254, 'a'),
        "db:5432",
        "db/x",
        "db\\x",
        std::string("db\0x", 4),
        "\xc3\xa9xample.com",
        "127.1",
        "2130706433",
        "0x7f.1",
        "0x7f000001",
        "1.2.3.4.5",
        "1.2.3.04",
        "10.0.0.1.",
        "db..",
        "*.example.com",
    };
    for (const auto& host : hosts) {
        const auto checked = network_policy::check_host(host);
        ASSERT_FALSE(checked) << "accepted \"" << host << "\"";
        EXPECT_EQ(checked.error().code, error_code::invalid_input) << host;
        EXPECT_EQ(checked.error().field, "host") << host;
        EXPECT_FALSE(checked.error().message.empty()) << host;
    }
}

TEST(network_policy_host, messages_explain_the_refusal) {
    EXPECT_NE(network_policy::check_host("/var/run/postgresql").error().message.find("unix-socket"),
              std::string::npos);
    EXPECT_NE(network_policy::check_host("@sock").error().message.find("unix-socket"), std::string::npos);
    EXPECT_NE(network_policy::check_host("a,b").error().message.find("several hosts"), std::string::npos);
    EXPECT_NE(network_policy::check_host("db host").error().message.find("a space at position 3"),
              std::string::npos);
    EXPECT_NE(network_policy::check_host("db\n").error().message.find("0x0a"), std::string::npos);
    EXPECT_NE(network_policy::check_host("127.1").error().message.find("legacy notation"), std::string::npos);
}

// People paste "user:password@host" into the host field; the password must not come back in the error.
TEST(network_policy_host, messages_never_echo_the_host_text) {
    for (const char* host : {"alice:s3cr3t-pw@db.example.com", "alice@s3cr3t-pw", "s3cr3t-pw db"}) {
        const auto checked = network_policy::check_host(host);
        ASSERT_FALSE(checked) << host;
        EXPECT_EQ(checked.error().message.find("s3cr3t"), std::string::npos) << checked.error().message;
    }
}

}  // namespace
}  // namespace metahog::security
