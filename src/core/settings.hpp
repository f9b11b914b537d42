// Server settings: defaults, then a TOML file (docs/configuration.md), then METAHOG_* environment overrides,
// then command-line flags. Every value is validated once here so the rest of the server can trust it.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace metahog {

struct server_settings {
    std::string listen_host = "127.0.0.1";
    std::uint16_t listen_port = 8000;
    // 0 means one I/O thread per core.
    unsigned io_threads = 0;
    std::size_t max_body_bytes = 1024 * 1024;
    std::size_t max_header_bytes = 16 * 1024;
    std::chrono::seconds read_timeout{30};
    std::chrono::seconds idle_timeout{75};
    std::chrono::seconds shutdown_grace{10};
    // Where the built workbench lives; empty means "next to the binary or in web/dist".
    std::filesystem::path web_root;
    // Secure cookies; set when MetaHog is served over TLS (directly or behind a proxy). Forced on with TLS.
    bool secure_cookies = false;
    // HTTPS only when both are set: a PEM certificate (chain) and its PEM private key.
    std::filesystem::path tls_certificate;
    std::filesystem::path tls_private_key;
    std::chrono::hours session_lifetime{24 * 14};
};

struct query_settings {
    std::size_t default_max_rows = 1000;
    std::size_t max_rows_cap = 100000;
    std::size_t max_response_bytes = 64 * 1024 * 1024;
    std::chrono::milliseconds default_timeout{30000};
    std::chrono::milliseconds max_timeout{300000};
    std::chrono::milliseconds connect_timeout{5000};
    std::size_t export_max_rows = 10'000'000;
    std::size_t pool_size_per_source = 10;
};

// Where MetaHog may connect (security/network_policy): CIDR networks. `allow` lifts the built-in refusals
// (link-local, metadata services, multicast…) for the networks it names; `deny` always wins.
struct network_settings {
    std::vector<std::string> allow;
    std::vector<std::string> deny;
};

// Query rate and concurrency limits (services/rate_limits), keyed by user and team, never by connection or key.
struct rate_limit_settings {
    // Token buckets: the sustained rate, and the burst a user or team that has been quiet may spend at once
    // (the bucket's capacity). A rate of 0 turns that bucket off.
    std::uint32_t user_queries_per_minute = 120;
    std::uint32_t user_burst = 20;
    std::uint32_t team_queries_per_minute = 1200;
    std::uint32_t team_burst = 100;
    // Queries running at the same time; 0 turns the cap off.
    std::uint32_t max_running_per_user = 4;
    std::uint32_t max_running_per_source = 32;
};

// How strictly a source's database role is checked (on create, Test connection and PATCH).
struct source_settings {
    // Write grants, ownership, CREATE and risky functions are refused instead of shown as warnings.
    bool refuse_privilege_warnings = false;
};

struct settings {
    std::filesystem::path data_dir = "./metahog-data";
    std::string log_level = "info";
    server_settings server;
    query_settings query;
    network_settings network;
    rate_limit_settings limits;
    source_settings sources;
};

// Reads the TOML file when `config_file` is non-empty (a missing named file is an error), then applies
// METAHOG_* environment variables. Errors name the key and the file.
result<settings> load_settings(const std::filesystem::path& config_file);

// "HOST:PORT" or "[v6]:PORT" into the server settings.
result<void> apply_listen_address(server_settings& server, std::string_view host_port);

}  // namespace metahog
