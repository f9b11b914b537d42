// Loading and validating server settings from TOML and the environment.
#include "core/settings.hpp"

#include <charconv>
#include <cstdlib>
#include <string_view>

#include <toml++/toml.h>

namespace metahog {
namespace {

error bad_setting(std::string_view key, std::string_view why) {
    return make_error(error_code::invalid_input, std::string(key) + ": " + std::string(why), std::string(key));
}

template <class Integer>
result<Integer> parse_integer(std::string_view key, std::string_view text, Integer min, Integer max) {
    Integer value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
        return bad_setting(key, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
    }
    return value;
}

// One setting: its TOML path, its environment variable, and how to store a validated value.
struct integer_setting {
    std::string_view toml_path;
    std::string_view env_var;
    std::int64_t min;
    std::int64_t max;
    void (*store)(settings&, std::int64_t);
};

const integer_setting integer_settings[] = {
    {"server.io_threads", "METAHOG_IO_THREADS", 0, 256,
     [](settings& s, std::int64_t v) { s.server.io_threads = static_cast<unsigned>(v); }},
    {"server.max_body_bytes", "METAHOG_MAX_BODY_BYTES", 1024, 1LL << 30,
     [](settings& s, std::int64_t v) { s.server.max_body_bytes = static_cast<std::size_t>(v); }},
    {"server.max_header_bytes", "METAHOG_MAX_HEADER_BYTES", 1024, 1 << 20,
     [](settings& s, std::int64_t v) { s.server.max_header_bytes = static_cast<std::size_t>(v); }},
    {"server.read_timeout_seconds", "METAHOG_READ_TIMEOUT_SECONDS", 1, 3600,
     [](settings& s, std::int64_t v) { s.server.read_timeout = std::chrono::seconds(v); }},
    {"server.idle_timeout_seconds", "METAHOG_IDLE_TIMEOUT_SECONDS", 1, 3600,
     [](settings& s, std::int64_t v) { s.server.idle_timeout = std::chrono::seconds(v); }},
    {"server.shutdown_grace_seconds", "METAHOG_SHUTDOWN_GRACE_SECONDS", 0, 600,
     [](settings& s, std::int64_t v) { s.server.shutdown_grace = std::chrono::seconds(v); }},
    {"server.session_lifetime_hours", "METAHOG_SESSION_LIFETIME_HOURS", 1, 24 * 365,
     [](settings& s, std::int64_t v) { s.server.session_lifetime = std::chrono::hours(v); }},
    {"query.default_max_rows", "METAHOG_DEFAULT_MAX_ROWS", 1, 10'000'000,
     [](settings& s, std::int64_t v) { s.query.default_max_rows = static_cast<std::size_t>(v); }},
    {"query.max_rows_cap", "METAHOG_MAX_ROWS_CAP", 1, 10'000'000,
     [](settings& s, std::int64_t v) { s.query.max_rows_cap = static_cast<std::size_t>(v); }},
    {"query.max_response_bytes", "METAHOG_MAX_RESPONSE_BYTES", 1024, 1LL << 32,
     [](settings& s, std::int64_t v) { s.query.max_response_bytes = static_cast<std::size_t>(v); }},
    {"query.default_timeout_ms", "METAHOG_DEFAULT_TIMEOUT_MS", 1, 24LL * 3600 * 1000,
     [](settings& s, std::int64_t v) { s.query.default_timeout = std::chrono::milliseconds(v); }},
    {"query.max_timeout_ms", "METAHOG_MAX_TIMEOUT_MS", 1, 24LL * 3600 * 1000,
     [](settings& s, std::int64_t v) { s.query.max_timeout = std::chrono::milliseconds(v); }},
    {"query.connect_timeout_ms", "METAHOG_CONNECT_TIMEOUT_MS", 100, 600'000,
     [](settings& s, std::int64_t v) { s.query.connect_timeout = std::chrono::milliseconds(v); }},
    {"query.export_max_rows", "METAHOG_EXPORT_MAX_ROWS", 1, 1'000'000'000,
     [](settings& s, std::int64_t v) { s.query.export_max_rows = static_cast<std::size_t>(v); }},
    {"query.pool_size_per_source", "METAHOG_POOL_SIZE_PER_SOURCE", 1, 1000,
     [](settings& s, std::int64_t v) { s.query.pool_size_per_source = static_cast<std::size_t>(v); }},
    {"limits.user_queries_per_minute", "METAHOG_USER_QUERIES_PER_MINUTE", 0, 1'000'000,
     [](settings& s, std::int64_t v) { s.limits.user_queries_per_minute = static_cast<std::uint32_t>(v); }},
    {"limits.user_burst", "METAHOG_USER_BURST", 0, 1'000'000,
     [](settings& s, std::int64_t v) { s.limits.user_burst = static_cast<std::uint32_t>(v); }},
    {"limits.team_queries_per_minute", "METAHOG_TEAM_QUERIES_PER_MINUTE", 0, 10'000'000,
     [](settings& s, std::int64_t v) { s.limits.team_queries_per_minute = static_cast<std::uint32_t>(v); }},
    {"limits.team_burst", "METAHOG_TEAM_BURST", 0, 10'000'000,
     [](settings& s, std::int64_t v) { s.limits.team_burst = static_cast<std::uint32_t>(v); }},
    {"limits.max_running_per_user", "METAHOG_MAX_RUNNING_PER_USER", 0, 10'000,
     [](settings& s, std::int64_t v) { s.limits.max_running_per_user = static_cast<std::uint32_t>(v); }},
    {"limits.max_running_per_source", "METAHOG_MAX_RUNNING_PER_SOURCE", 0, 100'000,
     [](settings& s, std::int64_t v) { s.limits.max_running_per_source = static_cast<std::uint32_t>(v); }},
};

// Lists of strings: a TOML array, or a comma-separated environment variable.
struct list_setting {
    std::string_view toml_path;
    std::string_view env_var;
    std::vector<std::string>& (*target)(settings&);
};

const list_setting list_settings[] = {
    {"network.allow", "METAHOG_NETWORK_ALLOW", [](settings& s) -> std::vector<std::string>& {
         return s.network.allow;
     }},
    {"network.deny", "METAHOG_NETWORK_DENY", [](settings& s) -> std::vector<std::string>& {
         return s.network.deny;
     }},
};

std::vector<std::string> split_list(std::string_view text) {
    std::vector<std::string> items;
    while (!text.empty()) {
        const auto comma = text.find(',');
        std::string_view item = text.substr(0, comma);
        while (!item.empty() && item.front() == ' ') {
            item.remove_prefix(1);
        }
        while (!item.empty() && item.back() == ' ') {
            item.remove_suffix(1);
        }
        if (!item.empty()) {
            items.emplace_back(item);
        }
        if (comma == std::string_view::npos) {
            break;
        }
        text.remove_prefix(comma + 1);
    }
    return items;
}

struct text_setting {
    std::string_view toml_path;
    std::string_view env_var;
    result<void> (*store)(settings&, std::string_view);
};

const text_setting text_settings[] = {
    {"data_dir", "METAHOG_DATA_DIR",
     [](settings& s, std::string_view v) -> result<void> {
         if (v.empty()) {
             return bad_setting("data_dir", "must not be empty");
         }
         s.data_dir = std::filesystem::path(v);
         return {};
     }},
    {"log_level", "METAHOG_LOG_LEVEL",
     [](settings& s, std::string_view v) -> result<void> {
         for (std::string_view level : {"trace", "debug", "info", "warn", "error", "critical", "off"}) {
             if (v == level) {
                 s.log_level = std::string(v);
                 return {};
             }
         }
         return bad_setting("log_level", "must be one of trace, debug, info, warn, error, critical, off");
     }},
    {"server.listen", "METAHOG_LISTEN",
     [](settings& s, std::string_view v) { return apply_listen_address(s.server, v); }},
    {"server.web_root", "METAHOG_WEB_ROOT",
     [](settings& s, std::string_view v) -> result<void> {
         s.server.web_root = std::filesystem::path(v);
         return {};
     }},
    {"server.tls_certificate", "METAHOG_TLS_CERTIFICATE",
     [](settings& s, std::string_view v) -> result<void> {
         s.server.tls_certificate = std::filesystem::path(v);
         return {};
     }},
    {"server.tls_private_key", "METAHOG_TLS_PRIVATE_KEY",
     [](settings& s, std::string_view v) -> result<void> {
         s.server.tls_private_key = std::filesystem::path(v);
         return {};
     }},
    {"server.secure_cookies", "METAHOG_SECURE_COOKIES",
     [](settings& s, std::string_view v) -> result<void> {
         if (v == "true" || v == "1") {
             s.server.secure_cookies = true;
         } else if (v == "false" || v == "0") {
             s.server.secure_cookies = false;
         } else {
             return bad_setting("server.secure_cookies", "must be true or false");
         }
         return {};
     }},
    {"sources.refuse_privilege_warnings", "METAHOG_REFUSE_PRIVILEGE_WARNINGS",
     [](settings& s, std::string_view v) -> result<void> {
         if (v == "true" || v == "1") {
             s.sources.refuse_privilege_warnings = true;
         } else if (v == "false" || v == "0") {
             s.sources.refuse_privilege_warnings = false;
         } else {
             return bad_setting("sources.refuse_privilege_warnings", "must be true or false");
         }
         return {};
     }},
};

result<void> apply_toml(settings& out, const toml::table& root, const std::string& file) {
    for (const auto& setting : integer_settings) {
        const toml::node_view node = root.at_path(setting.toml_path);
        if (!node) {
            continue;
        }
        const auto value = node.value<std::int64_t>();
        if (!value || !node.is_integer() || *value < setting.min || *value > setting.max) {
            return bad_setting(setting.toml_path, "in " + file + " must be an integer from " +
                                                      std::to_string(setting.min) + " to " +
                                                      std::to_string(setting.max));
        }
        setting.store(out, *value);
    }
    for (const auto& setting : list_settings) {
        const toml::node_view node = root.at_path(setting.toml_path);
        if (!node) {
            continue;
        }
        const toml::array* items = node.as_array();
        if (items == nullptr) {
            return bad_setting(setting.toml_path, "in " + file + " must be an array of strings");
        }
        auto& target = setting.target(out);
        target.clear();
        for (const auto& item : *items) {
            if (!item.is_string()) {
                return bad_setting(setting.toml_path, "in " + file + " must be an array of strings");
            }
            target.push_back(*item.value<std::string>());
        }
    }
    for (const auto& setting : text_settings) {
        const toml::node_view node = root.at_path(setting.toml_path);
        if (!node) {
            continue;
        }
        std::string text;
        if (node.is_string()) {
            text = *node.value<std::string>();
        } else if (node.is_boolean()) {
            text = *node.value<bool>() ? "true" : "false";
        } else {
            return bad_setting(setting.toml_path, "in " + file + " has the wrong type");
        }
        if (auto applied = setting.store(out, text); !applied) {
            return applied;
        }
    }
    return {};
}

result<void> apply_environment(settings& out) {
    for (const auto& setting : integer_settings) {
        if (const char* value = std::getenv(std::string(setting.env_var).c_str())) {
            auto parsed = parse_integer<std::int64_t>(setting.env_var, value, setting.min, setting.max);
            if (!parsed) {
                return std::move(parsed).error();
            }
            setting.store(out, *parsed);
        }
    }
    for (const auto& setting : list_settings) {
        if (const char* value = std::getenv(std::string(setting.env_var).c_str())) {
            setting.target(out) = split_list(value);
        }
    }
    for (const auto& setting : text_settings) {
        if (const char* value = std::getenv(std::string(setting.env_var).c_str())) {
            if (auto applied = setting.store(out, value); !applied) {
                auto failure = std::move(applied).error();
                failure.message = std::string(setting.env_var) + failure.message.substr(setting.toml_path.size());
                return failure;
            }
        }
    }
    return {};
}

}  // namespace

result<void> apply_listen_address(server_settings& server, std::string_view host_port) {
    const auto colon = host_port.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
        return bad_setting("listen", "must be HOST:PORT, e.g. 127.0.0.1:8000");
    }
    std::string_view host = host_port.substr(0, colon);
    if (host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    auto port = parse_integer<std::uint16_t>("listen", host_port.substr(colon + 1), 0, 65535);
    if (!port || host.empty()) {
        return bad_setting("listen", "must be HOST:PORT with a port from 0 to 65535");
    }
    server.listen_host = std::string(host);
    server.listen_port = *port;
    return {};
}

result<settings> load_settings(const std::filesystem::path& config_file) {
    settings loaded;
    if (!config_file.empty()) {
        toml::table parsed;
        try {
            parsed = toml::parse_file(config_file.string());
        } catch (const toml::parse_error& failure) {
            return make_error(error_code::invalid_input,
                              config_file.string() + ":" + std::to_string(failure.source().begin.line) + ": " +
                                  std::string(failure.description()));
        }
        if (auto applied = apply_toml(loaded, parsed, config_file.string()); !applied) {
            return std::move(applied).error();
        }
    }
    if (auto applied = apply_environment(loaded); !applied) {
        return std::move(applied).error();
    }
    if (loaded.query.default_max_rows > loaded.query.max_rows_cap) {
        return bad_setting("query.default_max_rows", "must not exceed query.max_rows_cap");
    }
    if (loaded.query.default_timeout > loaded.query.max_timeout) {
        return bad_setting("query.default_timeout_ms", "must not exceed query.max_timeout_ms");
    }
    if (loaded.server.tls_certificate.empty() != loaded.server.tls_private_key.empty()) {
        return bad_setting(loaded.server.tls_certificate.empty() ? "server.tls_certificate" : "server.tls_private_key",
                           "server.tls_certificate and server.tls_private_key must be set together");
    }
    // A cookie sent over HTTPS must never be sent back over plain HTTP.
    if (!loaded.server.tls_certificate.empty()) {
        loaded.server.secure_cookies = true;
    }
    return loaded;
}

}  // namespace metahog
