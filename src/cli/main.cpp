// The `metahog` command: serve, bootstrap, rotate-key, audit verify. Every subcommand has --help.
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <cstdio>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include "api/application.hpp"
#include "cli/audit_command.hpp"
#include "core/settings.hpp"
#include "drivers/postgres/pg_connection.hpp"
#include "http/server.hpp"
#include "security/master_key.hpp"
#include "services/key_rotation.hpp"
#include "store/sqlite_store.hpp"

namespace {

using metahog::result;

struct common_options {
    std::string config_file;
    std::string data_dir;
};

result<metahog::settings> settings_from(const common_options& options) {
    auto loaded = metahog::load_settings(options.config_file);
    if (!loaded) {
        return loaded;
    }
    if (!options.data_dir.empty()) {
        loaded->data_dir = options.data_dir;
    }
    return loaded;
}

void configure_logging(const std::string& level) {
    // One line per event, key=value pairs after the level: easy for people and for log shippers.
    spdlog::set_pattern("ts=%Y-%m-%dT%H:%M:%S.%eZ level=%l %v", spdlog::pattern_time_type::utc);
    spdlog::set_level(spdlog::level::from_str(level));
}

int fail(const metahog::error& failure) {
    std::cerr << "metahog: " << failure.message << "\n";
    return 1;
}

int serve(const common_options& options, const std::string& listen) {
    // libpq reads PG* variables as defaults for every connection: MetaHog's sources must never inherit them.
    metahog::drivers::postgres::prepare_process_environment();
    auto config = settings_from(options);
    if (!config) {
        return fail(config.error());
    }
    if (!listen.empty()) {
        if (auto applied = metahog::apply_listen_address(config->server, listen); !applied) {
            return fail(applied.error());
        }
    }
    configure_logging(config->log_level);
    auto app = metahog::api::make_application(*config);
    if (!app) {
        return fail(app.error());
    }
    const unsigned threads =
        config->server.io_threads != 0 ? config->server.io_threads : std::max(1u, std::thread::hardware_concurrency());
    boost::asio::io_context io(static_cast<int>(threads));
    metahog::http::server server(io, config->server, (*app)->routes, (*app)->metrics, (*app)->files);
    auto endpoint = server.listen();
    if (!endpoint) {
        return fail(endpoint.error());
    }
    // MetaHog must never be pointed at itself: its own address and port are refused as a source.
    (*app)->network->add_own_endpoint(endpoint->address(), endpoint->port());
    server.start();
    const std::string host = endpoint->address().is_v6() ? "[" + endpoint->address().to_string() + "]"
                                                         : endpoint->address().to_string();
    const char* scheme = server.serves_tls() ? "https" : "http";
    spdlog::info("msg=listening url={}://{}:{}/ data_dir={} threads={} workbench={}", scheme, host, endpoint->port(),
                 config->data_dir.string(), threads, (*app)->files.available() ? "yes" : "not built");
    std::printf("MetaHog is listening on %s://%s:%u/\n", scheme, host.c_str(), endpoint->port());
    std::fflush(stdout);

    // Idle connections to sources are closed by the drivers' housekeeping, not only when a pool is next used.
    boost::asio::steady_timer housekeeping(io);
    std::function<void()> schedule_housekeeping = [&] {
        housekeeping.expires_after(std::chrono::seconds(10));
        housekeeping.async_wait([&](const boost::system::error_code& ec) {
            if (ec) {
                return;
            }
            for (const auto& type : (*app)->registry.list()) {
                (*app)->registry.find(type)->maintain();
            }
            schedule_housekeeping();
        });
    };
    schedule_housekeeping();

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    boost::asio::steady_timer grace(io);
    signals.async_wait([&](const boost::system::error_code& ec, int signal_number) {
        if (ec) {
            return;
        }
        spdlog::info("msg=shutting_down signal={}", signal_number);
        housekeeping.cancel();
        server.shutdown([&io] { io.stop(); });
        grace.expires_after(config->server.shutdown_grace);
        grace.async_wait([&io](const boost::system::error_code& timer_error) {
            if (!timer_error) {
                spdlog::warn("msg=shutdown_grace_expired");
                io.stop();
            }
        });
        // A second signal stops at once.
        signals.async_wait([&io](const boost::system::error_code& again, int) {
            if (!again) {
                io.stop();
            }
        });
    });

    std::vector<std::thread> workers;
    for (unsigned index = 1; index < threads; ++index) {
        workers.emplace_back([&io] { io.run(); });
    }
    io.run();
    for (auto& worker : workers) {
        worker.join();
    }
    spdlog::info("msg=stopped");
    return 0;
}

int bootstrap(const common_options& options, const std::string& email, const std::string& password,
              const std::string& team) {
    auto config = settings_from(options);
    if (!config) {
        return fail(config.error());
    }
    auto app = metahog::api::open_data_dir(*config);
    if (!app) {
        return fail(app.error());
    }
    auto created = (*app)->identity.bootstrap(email, password, team);
    if (!created) {
        return fail(created.error());
    }
    const boost::json::object line{
        {"team_id", created->team_id}, {"user_id", created->user_id}, {"api_key", created->api_key}};
    std::cout << boost::json::serialize(line) << std::endl;
    return 0;
}

std::string key_list(const std::vector<std::string>& ids) {
    std::string text;
    for (const auto& id : ids) {
        text += (text.empty() ? "" : ", ") + id;
    }
    return text;
}

// Explains rotation with METAHOG_SECRET_KEY: the command cannot change a server's environment, so it never
// writes a key file that the servers would not read.
int explain_environment_rotation(const metahog::security::keyring& keys) {
    std::cerr << "metahog: " << metahog::security::master_key_env_var << " is set and holds one key ("
              << keys.primary().id() << "), which already seals every stored secret; the command cannot change "
              << "your servers' environment. To rotate: make a new key (e.g. `head -c 32 /dev/urandom | base64`), "
              << "set " << metahog::security::master_key_env_var
              << "=\"NEW,OLD\" on every server and restart them, run `metahog rotate-key` with that "
              << "variable to re-seal every secret under NEW, then set it to NEW alone.\n";
    return 1;
}

// Prints what rotate-key did: counts and key ids, never a key.
void print_rotation(const metahog::services::rotation_report& report) {
    std::cout << "rotate-key: " << (report.resumed ? "finished the rotation to key " : "rotated to new key ")
              << report.new_key_id << "; re-sealed " << report.resealed << " of " << report.secrets
              << " stored secrets\n";
}

int rotate_key(const common_options& options, const std::string& new_key_file) {
    namespace security = metahog::security;
    auto config = settings_from(options);
    if (!config) {
        return fail(config.error());
    }
    std::shared_ptr<const security::master_key> new_key;
    if (!new_key_file.empty()) {
        auto contents = security::read_keyring_file(new_key_file);
        if (!contents) {
            return fail(contents.error());
        }
        if (!contents->has_value() || (*contents)->keys.size() != 1) {
            return fail(metahog::make_error(metahog::error_code::invalid_input,
                                            "--new-key-file " + new_key_file +
                                                (contents->has_value() ? " must hold exactly one key"
                                                                       : " does not exist")));
        }
        new_key = (*contents)->keys.primary_shared();
    }
    // The store is opened only for a data directory that exists: rotate-key never creates one.
    const auto database = config->data_dir / "metahog.db";
    if (std::error_code ec; !std::filesystem::is_regular_file(database, ec)) {
        return fail(metahog::make_error(metahog::error_code::invalid_input,
                                        "no MetaHog data directory at " + config->data_dir.string() + " (" +
                                            database.string() + " is missing)"));
    }
    auto store = metahog::store::open_sqlite_store(database);
    if (!store) {
        return fail(store.error());
    }

    if (std::getenv(security::master_key_env_var) != nullptr) {
        auto loaded = security::load_keyring(config->data_dir);
        if (!loaded) {
            return fail(loaded.error());
        }
        const auto& keys = loaded->keys;
        if (new_key && new_key->id() != keys.primary().id()) {
            std::cerr << "metahog: " << security::master_key_env_var << " is set, so the keys live in your "
                      << "servers' environment, not in a file this command can rewrite. Put the key of "
                      << new_key_file << " first in " << security::master_key_env_var
                      << " (\"NEW,OLD\") on every server, restart them, then run `metahog rotate-key` with that "
                      << "variable.\n";
            return 1;
        }
        auto report = metahog::services::reseal_for_environment(**store, keys);
        if (!report) {
            return fail(report.error());
        }
        if (keys.size() == 1 && report->resealed == 0) {
            return explain_environment_rotation(keys);
        }
        print_rotation(*report);
        if (!report->retired_key_ids.empty()) {
            std::cout << "rotate-key: no stored secret needs key " << key_list(report->retired_key_ids)
                      << " any more; once every server runs with the new key, remove "
                      << (report->retired_key_ids.size() == 1 ? "it" : "them") << " from "
                      << security::master_key_env_var << "\n";
        }
        return 0;
    }

    auto report = metahog::services::rotate_key_file(config->data_dir, **store, new_key);
    if (!report) {
        return fail(report.error());
    }
    print_rotation(*report);
    const auto key_file = security::key_file_path(config->data_dir).string();
    if (!report->retired_key_ids.empty()) {
        std::cout << "rotate-key: retired key " << key_list(report->retired_key_ids) << "; " << key_file
                  << " now holds key " << report->new_key_id << " only\n";
    } else {
        std::cout << "rotate-key: " << key_file << " holds key " << report->new_key_id << " only\n";
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"MetaHog: query live databases safely from a browser."};
    cli.require_subcommand(1);
    common_options options;

    auto* serve_command = cli.add_subcommand("serve", "Run the HTTP server and the workbench.");
    std::string listen;
    serve_command->add_option("--config", options.config_file, "TOML settings file (see docs/configuration.md)");
    serve_command->add_option("--data-dir", options.data_dir, "Data directory (default ./metahog-data)");
    serve_command->add_option("--listen", listen, "HOST:PORT to listen on (default 127.0.0.1:8000)");

    auto* bootstrap_command =
        cli.add_subcommand("bootstrap", "Create a team and its admin user when missing; print a new API key.");
    std::string email;
    std::string password;
    std::string team;
    bootstrap_command->add_option("--config", options.config_file, "TOML settings file");
    bootstrap_command->add_option("--data-dir", options.data_dir, "Data directory (default ./metahog-data)");
    bootstrap_command->add_option("--email", email, "The admin's e-mail")->required();
    bootstrap_command->add_option("--password", password, "The admin's password (at least 8 characters)")
        ->required();
    bootstrap_command->add_option("--team", team, "The team's name")->required();

    auto* rotate_command = cli.add_subcommand(
        "rotate-key", "Re-seal every stored secret under a new master key; servers may keep running.");
    std::string new_key_file;
    rotate_command->add_option("--config", options.config_file, "TOML settings file");
    rotate_command->add_option("--data-dir", options.data_dir, "Data directory (default ./metahog-data)");
    rotate_command->add_option("--new-key-file", new_key_file,
                               "Rotate to the key in this file (mode 0600) instead of a new random one");

    auto* audit_command = cli.add_subcommand("audit", "Check the audit log.");
    audit_command->require_subcommand(1);
    auto* verify_command = audit_command->add_subcommand(
        "verify", "Walk the audit log's hash chain and report the first altered or missing record. Exit status: 0 "
                  "intact, 1 broken, 2 usage or I/O error. Safe while a server runs.");
    verify_command->add_option("--config", options.config_file, "TOML settings file");
    verify_command->add_option("--data-dir", options.data_dir, "Data directory (default ./metahog-data)");

    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& problem) {
        const int code = cli.exit(problem);
        // audit verify keeps 1 for "broken": scripts must tell a broken log from a mistyped command.
        return code != 0 && audit_command->parsed() ? metahog::cli::audit_unreadable : code;
    }
    if (verify_command->parsed()) {
        auto config = settings_from(options);
        if (!config) {
            std::cerr << "metahog: " << config.error().message << "\n";
            return metahog::cli::audit_unreadable;
        }
        return metahog::cli::verify_audit_log(config->data_dir, std::cout, std::cerr);
    }
    if (serve_command->parsed()) {
        return serve(options, listen);
    }
    if (bootstrap_command->parsed()) {
        return bootstrap(options, email, password, team);
    }
    if (rotate_command->parsed()) {
        return rotate_key(options, new_key_file);
    }
    return 1;
}
