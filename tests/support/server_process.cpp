// Process management for HTTP tests (posix_spawn, pipes, signals).
#include "support/server_process.hpp"
#include "support/test_settings.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <boost/json/parse.hpp>

extern char** environ;

namespace metahog::test_support {
namespace {

std::vector<char*> c_strings(std::vector<std::string>& values) {
    std::vector<char*> pointers;
    for (auto& value : values) {
        pointers.push_back(value.data());
    }
    pointers.push_back(nullptr);
    return pointers;
}

std::vector<std::string> environment_with(const std::vector<std::string>& extra) {
    std::vector<std::string> result;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        result.emplace_back(*entry);
    }
    result.insert(result.end(), extra.begin(), extra.end());
    return result;
}

// Reads a pipe until EOF or the deadline.
std::string drain(int fd, std::chrono::steady_clock::time_point deadline, bool stop_at_newline = false) {
    std::string text;
    char buffer[4096];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            break;
        }
        pollfd descriptor{fd, POLLIN, 0};
        if (::poll(&descriptor, 1, static_cast<int>(left.count())) <= 0) {
            break;
        }
        const auto count = ::read(fd, buffer, sizeof buffer);
        if (count <= 0) {
            break;
        }
        text.append(buffer, static_cast<std::size_t>(count));
        if (stop_at_newline && text.find('\n') != std::string::npos) {
            break;
        }
    }
    return text;
}

}  // namespace

temp_dir::temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "metahog-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
}

temp_dir::~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

std::filesystem::path metahog_binary() {
    return std::filesystem::path(test_setting("METAHOG_BINARY_DIR")) / "metahog";
}

command_output run_metahog(const std::vector<std::string>& arguments,
                           const std::vector<std::string>& extra_environment, std::chrono::seconds timeout) {
    int out_pipe[2];
    int err_pipe[2];
    if (::pipe(out_pipe) != 0 || ::pipe(err_pipe) != 0) {
        throw std::runtime_error("pipe failed");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
    posix_spawn_file_actions_addclose(&actions, err_pipe[0]);
    std::vector<std::string> argv_strings{metahog_binary().string()};
    argv_strings.insert(argv_strings.end(), arguments.begin(), arguments.end());
    auto argv = c_strings(argv_strings);
    auto env_strings = environment_with(extra_environment);
    auto envp = c_strings(env_strings);
    pid_t pid = 0;
    const int spawned = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    if (spawned != 0) {
        throw std::runtime_error("cannot start " + argv_strings[0]);
    }
    command_output output;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    output.out = drain(out_pipe[0], deadline);
    output.err = drain(err_pipe[0], deadline);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    int status = 0;
    // Killed only past the deadline: a child that closed its pipes may be a moment away from exiting itself.
    if (std::chrono::steady_clock::now() >= deadline && ::waitpid(pid, &status, WNOHANG) == 0) {
        ::kill(pid, SIGKILL);
    }
    ::waitpid(pid, &status, 0);
    output.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return output;
}

server_process::server_process(std::filesystem::path data_dir, std::vector<std::string> extra_environment)
    : data_dir_(std::move(data_dir)), log_file_(data_dir_ / "server.log") {
    std::filesystem::create_directories(data_dir_);
    int out_pipe[2];
    if (::pipe(out_pipe) != 0) {
        throw std::runtime_error("pipe failed");
    }
    const int log_fd = ::open(log_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, log_fd, 2);
    posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
    std::vector<std::string> argv_strings{metahog_binary().string(), "serve", "--data-dir", data_dir_.string(),
                                          "--listen", "127.0.0.1:0"};
    auto argv = c_strings(argv_strings);
    // Spdlog writes to stdout by default; the server prints its URL there first. Keep logs in the file too.
    auto env_strings = environment_with(extra_environment);
    auto envp = c_strings(env_strings);
    pid_t pid = 0;
    const int spawned = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(out_pipe[1]);
    ::close(log_fd);
    if (spawned != 0) {
        ::close(out_pipe[0]);
        throw std::runtime_error("cannot start " + argv_strings[0]);
    }
    pid_ = pid;
    // The server prints "MetaHog is listening on http://127.0.0.1:PORT/" (https:// with TLS) once it accepts
    // connections.
    std::string seen;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (seen.find("listening on http") == std::string::npos || seen.find('\n') == std::string::npos) {
        std::string more = drain(out_pipe[0], deadline, true);
        if (more.empty()) {
            break;
        }
        seen += more;
    }
    const auto at = seen.find("://127.0.0.1:");
    if (at == std::string::npos) {
        ::close(out_pipe[0]);
        stop();
        throw std::runtime_error("metahog serve did not start: " + seen + "\n" + log());
    }
    port_ = static_cast<unsigned short>(std::stoi(seen.substr(at + 13)));
    // Keep draining stdout into the log file so the server never blocks on a full pipe.
    std::thread([fd = out_pipe[0], file = log_file_] {
        std::ofstream out(file, std::ios::app);
        char buffer[4096];
        for (;;) {
            const auto count = ::read(fd, buffer, sizeof buffer);
            if (count <= 0) {
                break;
            }
            out.write(buffer, count);
            out.flush();
        }
        ::close(fd);
    }).detach();
}

server_process::~server_process() {
    stop();
}

std::string server_process::log() const {
    std::ifstream in(log_file_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

int server_process::stop() {
    if (pid_ <= 0) {
        return 0;
    }
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

boost::json::object server_process::bootstrap(const std::string& email, const std::string& password,
                                              const std::string& team) {
    auto output = run_metahog({"bootstrap", "--data-dir", data_dir_.string(), "--email", email, "--password",
                               password, "--team", team});
    if (output.exit_code != 0) {
        throw std::runtime_error("bootstrap failed: " + output.err);
    }
    return boost::json::parse(output.out).as_object();
}

}  // namespace metahog::test_support
