// The `metahog` command: serve, bootstrap, audit verify. Every subcommand has --help.
#include <csignal>
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
    spdlog::info("msg=listening url=http://{}:{}/ data_dir={} threads={} workbench={}", host, endpoint->port(),
                 config->data_dir.string(), threads, (*app)->files.available() ? "yes" : "not built");
    std::printf("MetaHog is listening on http://%s:%u/\n", host.c_str(), endpoint->port());
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
    return 1;
}
