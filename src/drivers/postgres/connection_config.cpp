// Validation of Postgres job_inputs and connection strings: every accepted value is one MetaHog understands and
// passes on explicitly; everything libpq could use to read local files, run other auth or reroute is refused.
#include "drivers/postgres/connection_config.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <memory>
#include <string_view>

#include <boost/asio/ip/address.hpp>
#include <boost/json/value.hpp>

namespace metahog::drivers::postgres {
namespace {

constexpr std::string_view field_prefix = "job_inputs.";
constexpr std::array<std::string_view, 6> sslmodes = {"disable", "allow",     "prefer",
                                                      "require", "verify-ca", "verify-full"};
constexpr std::array<std::string_view, 9> field_names = {"host",   "port",    "database",        "user",
                                                         "password", "schema", "sslmode",        "connect_timeout",
                                                         "application_name"};
// What a connection string may carry. Everything else libpq understands (passfile, service, options, ssl* files,
// hostaddr, requirepeer, krbsrvname, gsslib, target_session_attrs, replication, ...) is refused by name.
constexpr std::array<std::string_view, 8> connection_string_keywords = {
    "host", "port", "dbname", "user", "password", "sslmode", "connect_timeout", "application_name"};
// Postgres truncates identifiers and application_name at NAMEDATALEN - 1 bytes.
constexpr std::size_t max_application_name_length = 63;
constexpr int max_connect_timeout_seconds = 300;

struct conninfo_deleter {
    void operator()(PQconninfoOption* options) const noexcept { PQconninfoFree(options); }
};
struct libpq_string_deleter {
    void operator()(char* text) const noexcept { PQfreemem(text); }
};

std::string field_name(std::string_view key) {
    std::string name(field_prefix);
    name += key;
    return name;
}

error invalid(std::string_view key, std::string_view what) {
    std::string name = field_name(key);
    return make_error(error_code::invalid_input, name + " " + std::string(what), name);
}

// A string value that may be passed to libpq: bounded, no NUL (libpq would silently cut it there), no other
// control characters except in a password.
result<std::string> checked_string(std::string_view key, std::string_view value, bool allow_controls,
                                   std::size_t max_length = max_field_length) {
    if (value.size() > max_length) {
        return invalid(key, "is too long (at most " + std::to_string(max_length) + " characters)");
    }
    if (value.find('\0') != std::string_view::npos) {
        return invalid(key, "must not contain NUL characters");
    }
    if (!allow_controls) {
        const bool has_control = std::any_of(value.begin(), value.end(), [](char c) {
            return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
        });
        if (has_control) {
            return invalid(key, "must not contain control characters");
        }
    }
    return std::string(value);
}

// Absent or null: nullopt. Any other JSON type than a string is refused.
result<std::optional<std::string>> optional_string(const boost::json::object& inputs, std::string_view key,
                                                   bool allow_controls = false) {
    const boost::json::value* value = inputs.if_contains(key);
    if (value == nullptr || value->is_null()) {
        return std::optional<std::string>();
    }
    if (!value->is_string()) {
        return invalid(key, "must be a string");
    }
    auto checked = checked_string(key, std::string_view(value->get_string()), allow_controls);
    if (!checked) {
        return std::move(checked).error();
    }
    return std::optional<std::string>(std::move(*checked));
}

result<std::string> required_string(const boost::json::object& inputs, std::string_view key) {
    auto value = optional_string(inputs, key);
    if (!value) {
        return std::move(value).error();
    }
    if (!value->has_value() || (*value)->empty()) {
        return invalid(key, "is required");
    }
    return std::move(**value);
}

bool is_host_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_';
}

// One DNS name or IP literal. Socket paths would reach the server's own local sockets; lists would let libpq
// pick hosts on its own, past the address check.
result<std::string> checked_host(std::string_view key, std::string value) {
    if (value.empty()) {
        return invalid(key, "is required");
    }
    if (value.front() == '/' || value.front() == '@') {
        return invalid(key, "must be a host name or IP address; Unix socket paths are not allowed");
    }
    if (value.find(',') != std::string::npos) {
        return invalid(key, "must be a single host; host lists are not allowed");
    }
    std::string_view literal = value;
    if (literal.size() > 2 && literal.front() == '[' && literal.back() == ']') {
        literal = literal.substr(1, literal.size() - 2);
    }
    boost::system::error_code parse_error;
    const auto address = boost::asio::ip::make_address(std::string(literal), parse_error);
    if (!parse_error) {
        if (address.is_v6() && address.to_v6().scope_id() != 0) {
            return invalid(key, "must not carry an IPv6 zone");
        }
        return address.to_string();
    }
    if (value.size() > 253 || !std::all_of(value.begin(), value.end(), is_host_name_char) ||
        value.front() == '.' || value.front() == '-') {
        return invalid(key, "must be a host name or IP address");
    }
    return value;
}

// An integer in [low, high] given as a JSON integer or a string of digits; `what` ends the message.
result<int> integer_in_range(std::string_view key, const boost::json::value& value, int low, int high,
                             std::string_view what) {
    const std::string message = "must be an integer from " + std::to_string(low) + " to " + std::to_string(high) +
                                std::string(what);
    std::int64_t number = 0;
    if (value.is_int64()) {
        number = value.get_int64();
    } else if (value.is_uint64()) {
        if (value.get_uint64() > static_cast<std::uint64_t>(high)) {
            return invalid(key, message);
        }
        number = static_cast<std::int64_t>(value.get_uint64());
    } else if (value.is_string()) {
        const std::string_view text = value.get_string();
        const auto* end = text.data() + text.size();
        const auto parsed = std::from_chars(text.data(), end, number);
        if (text.empty() || text.size() > 10 || parsed.ec != std::errc() || parsed.ptr != end ||
            !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            return invalid(key, message);
        }
    } else {
        return invalid(key, message);
    }
    if (number < low || number > high) {
        return invalid(key, message);
    }
    return static_cast<int>(number);
}

result<std::string> checked_sslmode(std::string_view key, std::string value) {
    if (std::find(sslmodes.begin(), sslmodes.end(), value) == sslmodes.end()) {
        return invalid(key, "must be one of disable, allow, prefer, require, verify-ca, verify-full");
    }
    return value;
}

result<std::string> checked_application_name(std::string_view key, std::string value) {
    const bool printable = std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
    if (value.empty() || value.size() > max_application_name_length || !printable) {
        return invalid(key, "must be 1 to 63 printable ASCII characters");
    }
    return value;
}

// The optional fields shared by both forms: schema, and the password given beside a connection string.
result<void> apply_schema(const boost::json::object& inputs, connection_config& config) {
    auto schema = optional_string(inputs, "schema");
    if (!schema) {
        return std::move(schema).error();
    }
    if (schema->has_value() && !(*schema)->empty()) {
        config.schema = std::move(**schema);
    }
    return {};
}

result<connection_config> parse_fields(const boost::json::object& inputs) {
    for (const auto& item : inputs) {
        if (std::find(field_names.begin(), field_names.end(), item.key()) == field_names.end()) {
            return invalid(item.key(), "is not a supported setting");
        }
    }
    connection_config config;
    auto host = required_string(inputs, "host");
    if (!host) {
        return std::move(host).error();
    }
    auto checked = checked_host("host", std::move(*host));
    if (!checked) {
        return std::move(checked).error();
    }
    config.host = std::move(*checked);

    if (const auto* port = inputs.if_contains("port"); port != nullptr && !port->is_null()) {
        auto number = integer_in_range("port", *port, 1, 65535, "");
        if (!number) {
            return std::move(number).error();
        }
        config.port = static_cast<std::uint16_t>(*number);
    }
    auto database = required_string(inputs, "database");
    if (!database) {
        return std::move(database).error();
    }
    config.database = std::move(*database);
    auto user = required_string(inputs, "user");
    if (!user) {
        return std::move(user).error();
    }
    config.user = std::move(*user);
    auto password = optional_string(inputs, "password", true);
    if (!password) {
        return std::move(password).error();
    }
    config.password = password->value_or("");
    if (auto schema = apply_schema(inputs, config); !schema) {
        return std::move(schema).error();
    }
    auto sslmode = optional_string(inputs, "sslmode");
    if (!sslmode) {
        return std::move(sslmode).error();
    }
    if (sslmode->has_value() && !(*sslmode)->empty()) {
        auto mode = checked_sslmode("sslmode", std::move(**sslmode));
        if (!mode) {
            return std::move(mode).error();
        }
        config.sslmode = std::move(*mode);
    }
    if (const auto* timeout = inputs.if_contains("connect_timeout"); timeout != nullptr && !timeout->is_null()) {
        auto seconds = integer_in_range("connect_timeout", *timeout, 1, max_connect_timeout_seconds, " (seconds)");
        if (!seconds) {
            return std::move(seconds).error();
        }
        config.connect_timeout = std::chrono::seconds(*seconds);
    }
    auto application_name = optional_string(inputs, "application_name");
    if (!application_name) {
        return std::move(application_name).error();
    }
    if (application_name->has_value()) {
        auto name = checked_application_name("application_name", std::move(**application_name));
        if (!name) {
            return std::move(name).error();
        }
        config.application_name = std::move(*name);
    }
    return config;
}

bool present(const boost::json::value* value) {
    return value != nullptr && !value->is_null() && !(value->is_string() && value->get_string().empty());
}

// libpq's parse errors quote pieces of the input, which may be the password: only unquoted ones are shown.
std::string describe_parse_error(const char* libpq_message) {
    std::string message = "job_inputs.connection_string is not a valid connection string";
    if (libpq_message != nullptr) {
        std::string reason(libpq_message);
        while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) {
            reason.pop_back();
        }
        if (!reason.empty() && reason.find('"') == std::string::npos && reason.find('\'') == std::string::npos) {
            message += ": " + reason;
        }
    }
    return message + " (expected postgresql://user:password@host:port/database or key=value pairs)";
}

std::uint64_t fnv1a(std::uint64_t hash, std::string_view text) {
    for (const char c : text) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 0x100000001b3ULL;
    }
    hash ^= 0x1f;  // separator, so that ("ab", "c") and ("a", "bc") differ
    hash *= 0x100000001b3ULL;
    return hash;
}

}  // namespace

result<connection_config> parse_connection_string(std::string_view connection_string) {
    constexpr std::string_view key = "connection_string";
    auto checked = checked_string(key, connection_string, false, max_connection_string_length);
    if (!checked) {
        return std::move(checked).error();
    }
    char* raw_error = nullptr;
    std::unique_ptr<PQconninfoOption, conninfo_deleter> options(PQconninfoParse(checked->c_str(), &raw_error));
    std::unique_ptr<char, libpq_string_deleter> parse_error(raw_error);
    if (!options) {
        return make_error(error_code::invalid_input, describe_parse_error(parse_error.get()), field_name(key));
    }

    connection_config config;
    bool has_host = false;
    bool has_database = false;
    bool has_user = false;
    for (const PQconninfoOption* option = options.get(); option->keyword != nullptr; ++option) {
        if (option->val == nullptr) {
            continue;
        }
        const std::string_view keyword = option->keyword;
        const std::string_view value = option->val;
        if (std::find(connection_string_keywords.begin(), connection_string_keywords.end(), keyword) ==
            connection_string_keywords.end()) {
            return invalid(key, "must not set \"" + std::string(keyword) +
                                    "\"; allowed are host, port, dbname, user, password, sslmode, "
                                    "connect_timeout, application_name");
        }
        const bool is_password = keyword == "password";
        auto text = checked_string(key, value, is_password);
        if (!text) {
            return std::move(text).error();
        }
        if (keyword == "host") {
            auto host = checked_host(key, std::move(*text));
            if (!host) {
                return make_error(error_code::invalid_input,
                                  "job_inputs.connection_string: host " +
                                      host.error().message.substr(field_name(key).size() + 1),
                                  field_name(key));
            }
            config.host = std::move(*host);
            has_host = true;
        } else if (keyword == "port") {
            auto port = integer_in_range(key, boost::json::value(*text), 1, 65535, " (port)");
            if (!port) {
                return invalid(key, "must have a port that is an integer from 1 to 65535");
            }
            config.port = static_cast<std::uint16_t>(*port);
        } else if (keyword == "dbname") {
            config.database = std::move(*text);
            has_database = !config.database.empty();
        } else if (keyword == "user") {
            config.user = std::move(*text);
            has_user = !config.user.empty();
        } else if (is_password) {
            config.password = std::move(*text);
        } else if (keyword == "sslmode") {
            auto mode = checked_sslmode(key, std::move(*text));
            if (!mode) {
                return invalid(key, "must have an sslmode of disable, allow, prefer, require, verify-ca or "
                                    "verify-full");
            }
            config.sslmode = std::move(*mode);
        } else if (keyword == "connect_timeout") {
            auto seconds = integer_in_range(key, boost::json::value(*text), 1, max_connect_timeout_seconds, "");
            if (!seconds) {
                return invalid(key, "must have a connect_timeout from 1 to 300 seconds");
            }
            config.connect_timeout = std::chrono::seconds(*seconds);
        } else if (keyword == "application_name") {
            auto name = checked_application_name(key, std::move(*text));
            if (!name) {
                return invalid(key, "must have an application_name of 1 to 63 printable ASCII characters");
            }
            config.application_name = std::move(*name);
        }
    }
    if (!has_host) {
        return invalid(key, "must name a host");
    }
    if (!has_database) {
        return invalid(key, "must name a database");
    }
    if (!has_user) {
        return invalid(key, "must name a user");
    }
    return config;
}

result<connection_config> parse_job_inputs(const boost::json::object& job_inputs) {
    const boost::json::value* connection_string = job_inputs.if_contains("connection_string");
    if (connection_string == nullptr || connection_string->is_null()) {
        return parse_fields(job_inputs);
    }
    if (!connection_string->is_string()) {
        return invalid("connection_string", "must be a string");
    }
    // Beside a connection string only schema and a separate password make sense; anything else would be two
    // answers to one question.
    for (const auto& item : job_inputs) {
        const std::string_view name = item.key();
        if (name == "connection_string" || name == "schema" || name == "password") {
            continue;
        }
        if (std::find(field_names.begin(), field_names.end(), name) == field_names.end()) {
            return invalid(name, "is not a supported setting");
        }
        if (present(&item.value())) {
            return invalid(name, "cannot be combined with job_inputs.connection_string");
        }
    }
    auto config = parse_connection_string(std::string_view(connection_string->get_string()));
    if (!config) {
        return config;
    }
    auto password = optional_string(job_inputs, "password", true);
    if (!password) {
        return std::move(password).error();
    }
    if (password->has_value() && !(*password)->empty()) {
        if (!config->password.empty()) {
            return invalid("password", "cannot be given both here and in job_inputs.connection_string");
        }
        config->password = std::move(**password);
    }
    if (auto schema = apply_schema(job_inputs, *config); !schema) {
        return std::move(schema).error();
    }
    return config;
}

boost::json::object public_settings(const connection_config& config) {
    boost::json::object settings;
    settings["host"] = config.host;
    settings["port"] = static_cast<std::int64_t>(config.port);
    settings["database"] = config.database;
    settings["user"] = config.user;
    settings["schema"] = config.schema;
    settings["sslmode"] = config.sslmode;
    if (config.connect_timeout) {
        settings["connect_timeout"] = config.connect_timeout->count();
    }
    if (config.application_name != connection_config{}.application_name) {
        settings["application_name"] = config.application_name;
    }
    return settings;
}

source_config to_source_config(const connection_config& config) {
    source_config stored;
    stored.settings = public_settings(config);
    if (!config.password.empty()) {
        stored.secrets["password"] = config.password;
    }
    return stored;
}

result<connection_config> from_source_config(const source_config& stored) {
    boost::json::object inputs = stored.settings;
    inputs.erase("password");
    if (const auto* password = stored.secrets.if_contains("password"); password != nullptr) {
        inputs["password"] = *password;
    }
    return parse_fields(inputs);
}

result<connection_config> merge_job_inputs(const connection_config& current, const boost::json::object& patch) {
    const bool keep_password = !present(patch.if_contains("password"));
    result<connection_config> merged = [&]() -> result<connection_config> {
        if (present(patch.if_contains("connection_string"))) {
            boost::json::object inputs = patch;
            if (!present(inputs.if_contains("schema"))) {
                inputs["schema"] = current.schema;
            }
            return parse_job_inputs(inputs);
        }
        boost::json::object inputs = public_settings(current);
        for (const auto& item : patch) {
            if (item.key() == "connection_string" || item.value().is_null()) {
                continue;  // null or empty connection_string: nothing to replace
            }
            inputs[item.key()] = item.value();
        }
        if (keep_password) {
            inputs.erase("password");
        }
        return parse_fields(inputs);
    }();
    if (merged && keep_password && merged->password.empty()) {
        // Whoever may edit a source must not be able to make MetaHog send its stored password to a server of
        // their choosing: a new address needs the password again.
        if (!current.password.empty() && (merged->host != current.host || merged->port != current.port)) {
            return make_error(error_code::invalid_input,
                              "job_inputs.password is required when the host or port changes: MetaHog never "
                              "sends a stored password to a different server",
                              "job_inputs.password");
        }
        merged->password = current.password;
    }
    return merged;
}

std::string config_fingerprint(const connection_config& config) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    hash = fnv1a(hash, config.host);
    hash = fnv1a(hash, std::to_string(config.port));
    hash = fnv1a(hash, config.database);
    hash = fnv1a(hash, config.user);
    hash = fnv1a(hash, config.password);
    hash = fnv1a(hash, config.schema);
    hash = fnv1a(hash, config.sslmode);
    hash = fnv1a(hash, config.application_name);
    hash = fnv1a(hash, config.connect_timeout ? std::to_string(config.connect_timeout->count()) : "");
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
    return text;
}

}  // namespace metahog::drivers::postgres
