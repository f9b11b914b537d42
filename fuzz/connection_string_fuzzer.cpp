// Fuzz target: a Postgres connection string (URI or key=value) through connection_config's parser and
// allowlist, alone and as job_inputs.connection_string. Checks that what is accepted names one host that is
// not a socket path or a list, carries only allowlisted keywords as libpq itself reads them (a second check
// on PQconninfoParse's own answer), survives storing and reopening unchanged, never shows the password in the
// public settings, and that no error message repeats the password.
#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "drivers/postgres/connection_config.hpp"

namespace {

namespace json = boost::json;
namespace postgres = metahog::drivers::postgres;

[[noreturn]] void fail(const char* what, std::string_view input) {
    std::fprintf(stderr, "invariant broken: %s\ninput: %.*s\n", what, static_cast<int>(input.size()),
                 input.data());
    std::abort();
}

constexpr std::array<std::string_view, 8> allowed = {"host",     "port",    "dbname",          "user",
                                                     "password", "sslmode", "connect_timeout", "application_name"};

struct conninfo_deleter {
    void operator()(PQconninfoOption* options) const noexcept { PQconninfoFree(options); }
};

// What libpq reads from the text: whether any keyword beyond the allowlist is set, and the password.
struct libpq_view {
    bool parsed = false;
    bool only_allowed = true;
    std::string password;
};

libpq_view read_with_libpq(const std::string& text) {
    libpq_view view;
    char* message = nullptr;
    std::unique_ptr<PQconninfoOption, conninfo_deleter> options(PQconninfoParse(text.c_str(), &message));
    PQfreemem(message);
    if (!options) {
        return view;
    }
    view.parsed = true;
    for (const PQconninfoOption* option = options.get(); option->keyword != nullptr; ++option) {
        if (option->val == nullptr) {
            continue;
        }
        if (std::find(allowed.begin(), allowed.end(), std::string_view(option->keyword)) == allowed.end()) {
            view.only_allowed = false;
        }
        if (std::string_view(option->keyword) == "password") {
            view.password = option->val;
        }
    }
    return view;
}

// A password worth looking for in a message: one with a character no message of ours uses, so that finding it
// means the input was echoed (a password "1 to 300" would match "from 1 to 300 seconds").
bool distinctive(std::string_view password) {
    return password.size() >= 4 && password.find_first_of("#~^!$*|{}<>`") != std::string_view::npos;
}

void check_accepted(const postgres::connection_config& config, std::string_view input) {
    if (config.host.empty() || config.host.front() == '/' || config.host.front() == '@' ||
        config.host.find(',') != std::string::npos) {
        fail("a socket path or host list was accepted", input);
    }
    if (config.port == 0 || config.database.empty() || config.user.empty()) {
        fail("an accepted config lacks a port, database or user", input);
    }
    for (const std::string* field : {&config.host, &config.database, &config.user, &config.application_name}) {
        if (std::any_of(field->begin(), field->end(), [](char c) {
                return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
            })) {
            fail("a control character passed into a setting", input);
        }
    }
    const auto stored = postgres::to_source_config(config);
    if (stored.settings.contains("password") || postgres::public_settings(config).contains("password")) {
        fail("the password is among the public settings", input);
    }
    auto reopened = postgres::from_source_config(stored);
    if (!reopened) {
        fail("an accepted config does not reopen from storage", input);
    }
    if (postgres::config_fingerprint(*reopened) != postgres::config_fingerprint(config)) {
        fail("storing and reopening changed the config", input);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    const auto direct = postgres::parse_connection_string(input);
    const bool has_nul = input.find('\0') != std::string::npos;
    const libpq_view libpq = has_nul ? libpq_view{} : read_with_libpq(input);

    if (direct) {
        if (!libpq.parsed || !libpq.only_allowed) {
            fail("accepted a string libpq reads with a keyword beyond the allowlist", input);
        }
        if (direct->password != libpq.password) {
            fail("the password differs from the one libpq reads", input);
        }
        check_accepted(*direct, input);
    } else if (distinctive(libpq.password) && direct.error().message.find(libpq.password) != std::string::npos) {
        fail("an error message repeats the password", input);
    }

    // The same text as job_inputs on create, where a separate password and schema may join it.
    json::object inputs{{"connection_string", input}, {"schema", "reporting"}};
    const auto via_inputs = postgres::parse_job_inputs(inputs);
    if (static_cast<bool>(via_inputs) != static_cast<bool>(direct)) {
        fail("job_inputs.connection_string and the bare string disagree", input);
    }
    if (via_inputs) {
        if (via_inputs->schema != "reporting") {
            fail("the schema beside the connection string was lost", input);
        }
        check_accepted(*via_inputs, input);
    } else if (distinctive(libpq.password) && via_inputs.error().message.find(libpq.password) != std::string::npos) {
        fail("an error message repeats the password", input);
    }
    return 0;
}
