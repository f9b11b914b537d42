// Serves the built workbench (web/dist): files by path, index.html for client-side routes, never a file
// outside the root.
#pragma once

#include <filesystem>
#include <optional>

#include "http/message.hpp"

namespace metahog::http {

class static_files {
public:
    explicit static_files(std::filesystem::path root);

    bool available() const { return available_; }
    // nullopt when the request should fall through to a 404.
    std::optional<outgoing> serve(std::string_view decoded_path) const;

private:
    std::filesystem::path root_;
    bool available_ = false;
};

// Headers every workbench page carries: a strict content security policy and friends.
void add_security_headers(outgoing& response);

}  // namespace metahog::http
