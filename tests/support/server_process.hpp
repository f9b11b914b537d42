// Runs the real `metahog` binary for HTTP tests: a temp data dir, `serve` on a free loopback port, its log
// captured to a file, stopped with SIGTERM at the end. `bootstrap` runs the same binary.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include <boost/json/object.hpp>

namespace metahog::test_support {

// The directory is removed with everything in it when the object goes away.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// build/metahog of the tree under test.
std::filesystem::path metahog_binary();

struct command_output {
    int exit_code = -1;
    std::string out;
    std::string err;
};
// Runs build/metahog with the arguments, environment inherited plus `extra_environment` ("NAME=value").
// A command still running after `timeout` (a `serve` that was expected to refuse to start) is killed.
command_output run_metahog(const std::vector<std::string>& arguments,
                           const std::vector<std::string>& extra_environment = {},
                           std::chrono::seconds timeout = std::chrono::seconds(60));

class server_process {
public:
    explicit server_process(std::filesystem::path data_dir, std::vector<std::string> extra_environment = {});
    ~server_process();
    server_process(const server_process&) = delete;
    server_process& operator=(const server_process&) = delete;

    unsigned short port() const { return port_; }
    const std::filesystem::path& data_dir() const { return data_dir_; }
    // Everything the server logged so far.
    std::string log() const;
    // SIGTERM and wait; the exit code (0 for a clean stop).
    int stop();
    bool running() const { return pid_ > 0; }

    // bootstrap on this server's data dir: {"team_id", "user_id", "api_key"}.
    boost::json::object bootstrap(const std::string& email, const std::string& password, const std::string& team);

private:
    std::filesystem::path data_dir_;
    std::filesystem::path log_file_;
    int pid_ = -1;
    unsigned short port_ = 0;
};

}  // namespace metahog::test_support
