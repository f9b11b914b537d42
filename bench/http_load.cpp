// http_load: the HTTP load generator of bench/run. N keep-alive connections each send one request after
// another (closed loop) for a fixed time after a warm-up, or for a fixed number of requests; latencies go into
// a log-linear histogram; one JSON line reports count, rps, percentiles, errors and the status codes seen.
//
//   http_load --url http://127.0.0.1:8000/api/… [--method POST] [--body JSON | --body-file F]
//             [--header "Name: value"]… [--connections N] [--threads T]
//             [--warmup S] [--duration S] | [--warmup-requests W] [--requests R]
//
// A response that is not 2xx counts as an error (its latency is still recorded, so that a server shedding load
// does not look fast without the errors saying so); a broken connection counts as an error and is reopened.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

// Latencies in microseconds: exact below 2^sub_bits, then 2^sub_bits buckets per power of two (relative error
// under 0.1 % with 10 bits), up to about 2^40 µs. Fixed size, so recording never allocates.
class histogram {
public:
    static constexpr int sub_bits = 10;
    static constexpr int groups = 32;

    histogram() : counts_(static_cast<std::size_t>(groups + 1) << sub_bits, 0) {}

    void record(std::uint64_t micros) {
        ++counts_[index_of(micros)];
        ++total_;
        max_ = std::max(max_, micros);
    }

    void merge(const histogram& other) {
        for (std::size_t i = 0; i < counts_.size(); ++i) {
            counts_[i] += other.counts_[i];
        }
        total_ += other.total_;
        max_ = std::max(max_, other.max_);
    }

    std::uint64_t total() const { return total_; }
    std::uint64_t max() const { return max_; }

    // The smallest recorded value v such that at least `quantile` of all values are <= v (bucket midpoint).
    double percentile(double quantile) const {
        if (total_ == 0) {
            return 0;
        }
        const auto rank = static_cast<std::uint64_t>(std::ceil(quantile * static_cast<double>(total_)));
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < counts_.size(); ++i) {
            seen += counts_[i];
            if (seen >= std::max<std::uint64_t>(rank, 1)) {
                return std::min(midpoint_of(i), static_cast<double>(max_));
            }
        }
        return static_cast<double>(max_);
    }

private:
    static std::size_t index_of(std::uint64_t value) {
        constexpr std::uint64_t exact = std::uint64_t{1} << sub_bits;
        if (value < exact) {
            return static_cast<std::size_t>(value);
        }
        const int top_bit = 63 - __builtin_clzll(value);
        const int group = std::min(top_bit - sub_bits + 1, groups);
        const int shift = group - 1;
        const auto sub = static_cast<std::size_t>((value >> shift) & (exact - 1));
        return (static_cast<std::size_t>(group) << sub_bits) + sub;
    }

    static double midpoint_of(std::size_t index) {
        constexpr std::size_t exact = std::size_t{1} << sub_bits;
        if (index < exact) {
            return static_cast<double>(index);
        }
        const auto group = static_cast<int>(index >> sub_bits);
        const int shift = group - 1;
        const double low = static_cast<double>((exact + (index & (exact - 1))) << shift);
        return low + static_cast<double>((std::uint64_t{1} << shift) - 1) / 2.0;
    }

    std::vector<std::uint64_t> counts_;
    std::uint64_t total_ = 0;
    std::uint64_t max_ = 0;
};

struct options {
    std::string host;
    std::string port;
    std::string target;
    http::verb method = http::verb::get;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    int connections = 1;
    int threads = 0;
    double warmup_seconds = 1;
    double duration_seconds = 5;
    // A request without its whole answer after this long counts as an error and its connection is reopened.
    double timeout_seconds = 30;
    // Count mode when requests > 0: each connection's share of requests after its share of warm-up ones.
    long warmup_requests = 0;
    long requests = 0;
};

// What one connection measured; merged at the end, so recording needs no lock.
struct connection_stats {
    histogram latencies;
    std::uint64_t errors = 0;
    std::uint64_t bytes = 0;
    std::map<unsigned, std::uint64_t> statuses;
    std::map<std::string, std::uint64_t> failures;  // transport errors by message
    std::string first_error_body;
};

struct run_state {
    options opts;
    tcp::endpoint endpoint;
    clock_type::time_point measure_from;
    clock_type::time_point stop_at;
    std::vector<connection_stats> stats;
};

[[noreturn]] void usage(const std::string& problem) {
    std::cerr << "http_load: " << problem << "\n"
              << "usage: http_load --url URL [--method M] [--body TEXT | --body-file F] [--header 'N: V']...\n"
              << "                 [--connections N] [--threads T] [--timeout S] [--warmup S] [--duration S]\n"
              << "                 [--warmup-requests W --requests R]\n";
    std::exit(2);
}

options parse_options(int argc, char** argv) {
    options opts;
    std::string url;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (i + 1 >= argc) {
            usage("missing value after " + flag);
        }
        const std::string value = argv[++i];
        if (flag == "--url") {
            url = value;
        } else if (flag == "--method") {
            opts.method = http::string_to_verb(value);
            if (opts.method == http::verb::unknown) {
                usage("unknown method " + value);
            }
        } else if (flag == "--body") {
            opts.body = value;
        } else if (flag == "--body-file") {
            std::ifstream file(value, std::ios::binary);
            if (!file) {
                usage("cannot read " + value);
            }
            opts.body.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
        } else if (flag == "--header") {
            const auto colon = value.find(':');
            if (colon == std::string::npos) {
                usage("a header is 'Name: value', got " + value);
            }
            const auto start = value.find_first_not_of(' ', colon + 1);
            opts.headers.emplace_back(value.substr(0, colon),
                                      start == std::string::npos ? std::string() : value.substr(start));
        } else if (flag == "--connections") {
            opts.connections = std::atoi(value.c_str());
        } else if (flag == "--threads") {
            opts.threads = std::atoi(value.c_str());
        } else if (flag == "--warmup") {
            opts.warmup_seconds = std::atof(value.c_str());
        } else if (flag == "--timeout") {
            opts.timeout_seconds = std::atof(value.c_str());
        } else if (flag == "--duration") {
            opts.duration_seconds = std::atof(value.c_str());
        } else if (flag == "--warmup-requests") {
            opts.warmup_requests = std::atol(value.c_str());
        } else if (flag == "--requests") {
            opts.requests = std::atol(value.c_str());
        } else {
            usage("unknown option " + flag);
        }
    }
    // Only plain http://HOST:PORT/PATH: the benchmark talks to a loopback server.
    constexpr std::string_view scheme = "http://";
    if (!url.starts_with(scheme)) {
        usage("--url must start with http://");
    }
    const auto authority_end = url.find('/', scheme.size());
    const std::string authority = url.substr(scheme.size(), authority_end - scheme.size());
    opts.target = authority_end == std::string::npos ? "/" : url.substr(authority_end);
    const auto colon = authority.rfind(':');
    if (colon == std::string::npos) {
        usage("--url needs an explicit port");
    }
    opts.host = authority.substr(0, colon);
    opts.port = authority.substr(colon + 1);
    if (opts.connections < 1 || opts.duration_seconds <= 0 || opts.warmup_seconds < 0 ||
        opts.requests < 0 || opts.warmup_requests < 0 || opts.timeout_seconds <= 0) {
        usage("counts and durations must be positive");
    }
    if (opts.threads <= 0) {
        opts.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    }
    opts.threads = std::min(opts.threads, opts.connections);
    return opts;
}

http::request<http::string_body> make_request(const options& opts) {
    http::request<http::string_body> request{opts.method, opts.target, 11};
    request.set(http::field::host, opts.host + ":" + opts.port);
    request.set(http::field::user_agent, "metahog-http_load");
    request.keep_alive(true);
    for (const auto& [name, value] : opts.headers) {
        request.set(name, value);
    }
    if (!opts.body.empty() || opts.method == http::verb::post) {
        request.body() = opts.body;
        if (request[http::field::content_type].empty()) {
            request.set(http::field::content_type, "application/json");
        }
        request.prepare_payload();
    }
    return request;
}

// How many requests connection `index` sends in count mode: the total spread as evenly as possible.
long share_of(long total, int connections, int index) {
    return total / connections + (index < total % connections ? 1 : 0);
}

// One closed-loop client. A free function with parameters (no capturing lambda): GCC 12 miscompiles
// lambda coroutines with captures handed to co_spawn.
asio::awaitable<void> run_connection(run_state& state, int index) {
    const options& opts = state.opts;
    connection_stats& stats = state.stats[static_cast<std::size_t>(index)];
    const auto request = make_request(opts);
    const bool count_mode = opts.requests > 0;
    const long warmups = count_mode ? share_of(opts.warmup_requests, opts.connections, index) : 0;
    const long measured = count_mode ? share_of(opts.requests, opts.connections, index) : 0;
    long sent = 0;

    beast::tcp_stream stream(co_await asio::this_coro::executor);
    bool connected = false;
    beast::flat_buffer buffer;
    while (true) {
        if (count_mode ? sent >= warmups + measured : clock_type::now() >= state.stop_at) {
            break;
        }
        boost::system::error_code ec;
        if (!connected) {
            buffer.clear();
            stream.expires_after(std::chrono::seconds(10));
            co_await stream.async_connect(state.endpoint, asio::redirect_error(asio::use_awaitable, ec));
            if (ec) {
                // Counted as a request in count mode, so that a server that is down ends the run.
                ++sent;
                ++stats.errors;
                ++stats.failures["connect: " + ec.message()];
                stream.close();
                continue;
            }
            stream.socket().set_option(tcp::no_delay(true), ec);
            connected = true;
        }
        const auto started = clock_type::now();
        stream.expires_after(std::chrono::duration_cast<clock_type::duration>(
            std::chrono::duration<double>(opts.timeout_seconds)));
        co_await http::async_write(stream, request, asio::redirect_error(asio::use_awaitable, ec));
        http::response_parser<http::string_body> parser;
        parser.body_limit(boost::none);
        if (!ec) {
            co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
        }
        const auto finished = clock_type::now();
        const bool counted = count_mode ? sent >= warmups : (started >= state.measure_from && finished <= state.stop_at);
        ++sent;
        // A request of the window that failed or timed out is an error even when it ended after the window:
        // otherwise a server that stalls looks merely idle.
        const bool failed_in_window = !count_mode && started >= state.measure_from && started < state.stop_at;
        if (ec) {
            if (!counted && failed_in_window) {
                ++stats.errors;
                ++stats.failures[ec.message()];
            }
            if (counted) {
                ++stats.errors;
                ++stats.failures[ec.message()];
            }
            stream.close();
            connected = false;
            continue;
        }
        const auto& response = parser.get();
        if (counted) {
            const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(finished - started).count();
            stats.latencies.record(static_cast<std::uint64_t>(std::max<std::int64_t>(micros, 0)));
            const unsigned status = response.result_int();
            ++stats.statuses[status];
            stats.bytes += response.body().size();
            if (status < 200 || status >= 300) {
                ++stats.errors;
                if (stats.first_error_body.empty()) {
                    stats.first_error_body = response.body().substr(0, 300);
                }
            }
        }
        if (!response.keep_alive()) {
            stream.close();
            connected = false;
        }
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.close();
}

std::string json_escape(const std::string& text) {
    std::string out;
    for (const char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char escaped[8];
                    std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
                    out += escaped;
                } else {
                    out += c;
                }
        }
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    run_state state;
    state.opts = parse_options(argc, argv);
    const options& opts = state.opts;

    asio::io_context io(opts.threads);
    {
        boost::system::error_code ec;
        tcp::resolver resolver(io);
        const auto found = resolver.resolve(opts.host, opts.port, ec);
        if (ec || found.empty()) {
            std::cerr << "http_load: cannot resolve " << opts.host << ":" << opts.port << ": " << ec.message()
                      << "\n";
            return 1;
        }
        state.endpoint = *found.begin();
    }
    state.stats.resize(static_cast<std::size_t>(opts.connections));
    const auto begin = clock_type::now();
    const auto to_duration = [](double seconds) {
        return std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds));
    };
    state.measure_from = begin + to_duration(opts.warmup_seconds);
    state.stop_at = state.measure_from + to_duration(opts.duration_seconds);
    for (int index = 0; index < opts.connections; ++index) {
        // Each connection on its own strand: its coroutine never runs on two threads at once.
        asio::co_spawn(asio::make_strand(io), run_connection(state, index), asio::detached);
    }
    std::vector<std::thread> workers;
    for (int t = 1; t < opts.threads; ++t) {
        workers.emplace_back([&io] { io.run(); });
    }
    io.run();
    for (auto& worker : workers) {
        worker.join();
    }
    const auto end = clock_type::now();

    connection_stats total;
    for (const auto& stats : state.stats) {
        total.latencies.merge(stats.latencies);
        total.errors += stats.errors;
        total.bytes += stats.bytes;
        for (const auto& [status, count] : stats.statuses) {
            total.statuses[status] += count;
        }
        for (const auto& [failure, count] : stats.failures) {
            total.failures[failure] += count;
        }
        if (total.first_error_body.empty()) {
            total.first_error_body = stats.first_error_body;
        }
    }
    // Duration mode measures the fixed window; count mode the whole run (warm-up requests included in time
    // but not in count would overstate nothing: rps is not the figure count mode is used for).
    const double seconds = opts.requests > 0 ? std::chrono::duration<double>(end - begin).count()
                                             : opts.duration_seconds;
    const auto ms = [&](double quantile) { return total.latencies.percentile(quantile) / 1000.0; };
    std::ostringstream out;
    out.setf(std::ios::fixed);
    out.precision(3);
    out << "{\"connections\":" << opts.connections << ",\"threads\":" << opts.threads
        << ",\"seconds\":" << seconds << ",\"count\":" << total.latencies.total()
        << ",\"rps\":" << static_cast<double>(total.latencies.total()) / seconds << ",\"p50_ms\":" << ms(0.50)
        << ",\"p90_ms\":" << ms(0.90) << ",\"p99_ms\":" << ms(0.99)
        << ",\"max_ms\":" << static_cast<double>(total.latencies.max()) / 1000.0 << ",\"errors\":" << total.errors
        << ",\"bytes\":" << total.bytes << ",\"status\":{";
    bool first = true;
    for (const auto& [status, count] : total.statuses) {
        out << (first ? "" : ",") << "\"" << status << "\":" << count;
        first = false;
    }
    out << "},\"failures\":{";
    first = true;
    for (const auto& [failure, count] : total.failures) {
        out << (first ? "" : ",") << "\"" << json_escape(failure) << "\":" << count;
        first = false;
    }
    out << "}";
    if (!total.first_error_body.empty()) {
        out << ",\"first_error_body\":\"" << json_escape(total.first_error_body) << "\"";
    }
    out << "}\n";
    std::cout << out.str();
    return 0;
}
