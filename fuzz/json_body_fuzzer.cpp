// Fuzz target: a JSON request body through what the API does with it — api::json_body (content type and the
// depth limit), parse_query_request (execute/explain/export), validate_prefix, and the sources service's
// config_from_body path (source_type → the real Postgres driver's parse_config) via sources_service::check,
// with a driver that validates for real but never connects. PATCH merging runs on the same job_inputs.
// Aborts when an accepted config breaks what the rest of the server relies on.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "api/request_support.hpp"
#include "drivers/postgres/connection_config.hpp"
#include "drivers/postgres/postgres_driver.hpp"
#include "security/master_key.hpp"
#include "security/secret_keys.hpp"
#include "services/query_service.hpp"
#include "services/sources_service.hpp"
#include "store/sqlite_store.hpp"

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace metahog;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
}

// What an accepted Postgres config must satisfy wherever it came from (fields or connection string).
void check_config(const drivers::source_config& config) {
    if (config.settings.contains("password")) {
        fail("the password is among the public settings");
    }
    auto reopened = drivers::postgres::from_source_config(config);
    if (!reopened) {
        fail("a stored config does not parse again");
    }
    const auto& host = reopened->host;
    if (host.empty() || host.front() == '/' || host.find(',') != std::string::npos) {
        fail("a socket path or host list was accepted");
    }
    if (reopened->database.empty() || reopened->user.empty() || reopened->port == 0) {
        fail("a required setting is empty");
    }
    const auto again = drivers::postgres::to_source_config(*reopened);
    if (json::serialize(again.settings) != json::serialize(config.settings) ||
        json::serialize(again.secrets) != json::serialize(config.secrets)) {
        fail("storing a config is not stable");
    }
}

// The real Postgres driver for validation; check_connection checks invariants instead of connecting.
class validating_driver final : public drivers::driver {
public:
    std::string_view source_type() const noexcept override { return real_.source_type(); }
    result<drivers::source_config> parse_config(const json::object& job_inputs) const override {
        return real_.parse_config(job_inputs);
    }
    result<drivers::source_config> merge_config(const drivers::source_config& current,
                                                const json::object& patch) const override {
        return real_.merge_config(current, patch);
    }
    json::object public_settings(const drivers::source_config& config) const override {
        return real_.public_settings(config);
    }
    asio::awaitable<result<drivers::connection_check>> check_connection(const drivers::source_config& config,
                                                                        std::chrono::milliseconds) override {
        check_config(config);
        co_return drivers::connection_check{};
    }
    std::shared_ptr<drivers::query_control> make_query_control() override { return nullptr; }
    asio::awaitable<result<drivers::execution_summary>> execute(std::string_view, const drivers::source_config&,
                                                                const drivers::execute_options&,
                                                                row_sink&) override {
        co_return unused();
    }
    asio::awaitable<result<drivers::execution_summary>> export_rows(std::string_view,
                                                                    const drivers::source_config&,
                                                                    const drivers::export_options&,
                                                                    row_sink&) override {
        co_return unused();
    }
    asio::awaitable<result<std::string>> explain(std::string_view, const drivers::source_config&,
                                                 const drivers::explain_options&) override {
        co_return unused();
    }
    asio::awaitable<result<drivers::schema_description>> describe_schema(std::string_view,
                                                                         const drivers::source_config&) override {
        co_return unused();
    }
    asio::awaitable<drivers::cancel_outcome> cancel(std::string_view, const drivers::source_config&,
                                                    std::shared_ptr<drivers::query_control>) override {
        co_return drivers::cancel_outcome{};
    }

private:
    static error unused() { return make_error(error_code::internal, "not used by the fuzz target"); }
    drivers::postgres::postgres_driver real_;
};

struct fixture {
    asio::io_context io;
    std::unique_ptr<store::metadata_store> store;
    // An in-memory keyring from the environment: nothing is read from or written to a key file.
    security::secret_keys keys{security::loaded_keyring{
        security::keyring({std::make_shared<const security::master_key>(security::master_key::generate())}),
        security::key_origin::environment, {}, std::nullopt}};
    drivers::driver_registry registry;
    std::optional<services::sources_service> sources;
    drivers::source_config stored;  // a source as PATCH finds it
    std::filesystem::path directory;

    fixture() {
        // The service needs a store to exist; check() never touches it.
        char pattern[] = "/tmp/metahog-fuzz-json-XXXXXX";
        if (mkdtemp(pattern) == nullptr) {
            std::abort();
        }
        directory = pattern;
        auto opened = store::open_sqlite_store(directory / "metahog.db");
        if (!opened || !registry.add(std::make_unique<validating_driver>())) {
            std::abort();
        }
        store = std::move(*opened);
        sources.emplace(*store, keys, registry, std::chrono::milliseconds(1000));
        json::object inputs{{"host", "db.example.com"}, {"port", 5432},          {"database", "app"},
                            {"user", "reader"},         {"password", "secret"}};
        auto parsed = registry.find("Postgres")->parse_config(inputs);
        if (!parsed) {
            std::abort();
        }
        stored = std::move(*parsed);
    }
    ~fixture() {
        sources.reset();
        store.reset();
        std::error_code ignored;
        std::filesystem::remove_all(directory, ignored);
    }
};

fixture& shared_fixture() {
    static fixture instance;
    return instance;
}

// co_spawn hands its handler a default-constructed value on failure: results have none, optionals do.
template <class T>
asio::awaitable<std::optional<T>> as_optional(asio::awaitable<T> work) {
    co_return co_await std::move(work);
}

template <class T>
T run(fixture& state, asio::awaitable<T> work) {
    std::optional<T> outcome;
    asio::co_spawn(state.io, as_optional(std::move(work)),
                   [&outcome](std::exception_ptr failure, std::optional<T> value) {
                       if (failure || !value) {
                           fail("an exception escaped the sources service");
                       }
                       outcome = std::move(value);
                   });
    state.io.restart();
    state.io.run();
    if (!outcome) {
        fail("the sources service did not finish");
    }
    return std::move(*outcome);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fixture& state = shared_fixture();
    http::request req{http::beast_http::verb::post, "/api/environments/1/direct_query/execute", 11};
    req.set(http::beast_http::field::content_type, "application/json");
    req.body().assign(reinterpret_cast<const char*>(data), size);
    const auto target = boost::urls::parse_origin_form("/api/environments/1/direct_query/execute");
    http::request_context context{req, *target, {}, "192.0.2.1", "fuzz", nullptr, 0};

    auto body = api::json_body(context);
    if (!body) {
        return 0;
    }

    if (auto request = services::parse_query_request(*body)) {
        if (request->source_id.empty() || (request->max_rows && *request->max_rows <= 0) ||
            (request->timeout_ms && *request->timeout_ms <= 0) || request->client_query_id.size() > 200) {
            fail("parse_query_request accepted an out-of-range field");
        }
    }

    if (auto prefix = services::validate_prefix(body->if_contains("prefix")); prefix && !prefix->empty()) {
        for (const char c : *prefix) {
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
                fail("validate_prefix accepted a character outside [a-z0-9_]");
            }
        }
    }

    // check() validates through config_from_body and then calls the driver's check_connection above.
    (void)run(state, state.sources->check(*body));

    // PATCH of a stored source with this job_inputs: merging must never drop the password silently onto a new
    // host, and what it accepts must be a config like any other.
    if (const auto* inputs = body->if_contains("job_inputs"); inputs != nullptr && inputs->is_object()) {
        const auto* engine = state.registry.find("Postgres");
        if (auto merged = engine->merge_config(state.stored, inputs->as_object())) {
            check_config(*merged);
            const auto before = drivers::postgres::from_source_config(state.stored);
            const auto after = drivers::postgres::from_source_config(*merged);
            const auto* sent = inputs->as_object().if_contains("password");
            bool password_sent = sent != nullptr && sent->is_string() && !sent->as_string().empty();
            if (const auto* text = inputs->as_object().if_contains("connection_string");
                text != nullptr && text->is_string()) {
                auto parsed = drivers::postgres::parse_connection_string(std::string_view(text->as_string()));
                password_sent = password_sent || (parsed && !parsed->password.empty());
            }
            if (after->password == before->password && !password_sent &&
                (after->host != before->host || after->port != before->port)) {
                fail("PATCH kept the stored password for a different server");
            }
        }
    }
    return 0;
}
