// Static file serving for the workbench bundle.
#include "http/static_files.hpp"

#include <fstream>
#include <iterator>

namespace metahog::http {
namespace {

std::string_view content_type_for(const std::filesystem::path& file) {
    const std::string extension = file.extension().string();
    if (extension == ".html") return "text/html; charset=utf-8";
    if (extension == ".js" || extension == ".mjs") return "text/javascript; charset=utf-8";
    if (extension == ".css") return "text/css; charset=utf-8";
    if (extension == ".json" || extension == ".map") return "application/json";
    if (extension == ".svg") return "image/svg+xml";
    if (extension == ".png") return "image/png";
    if (extension == ".ico") return "image/x-icon";
    if (extension == ".woff2") return "font/woff2";
    if (extension == ".woff") return "font/woff";
    if (extension == ".txt") return "text/plain; charset=utf-8";
    return "application/octet-stream";
}

std::optional<std::string> read_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

static_files::static_files(std::filesystem::path root) : root_(std::move(root)) {
    std::error_code ec;
    available_ = !root_.empty() && std::filesystem::is_regular_file(root_ / "index.html", ec);
    if (available_) {
        root_ = std::filesystem::canonical(root_, ec);
        available_ = !ec;
    }
}

std::optional<outgoing> static_files::serve(std::string_view decoded_path) const {
    if (!available_) {
        return std::nullopt;
    }
    // Reject anything that could climb out of the root before touching the file system.
    if (decoded_path.find("..") != std::string_view::npos || decoded_path.find('\0') != std::string_view::npos ||
        decoded_path.find('\\') != std::string_view::npos) {
        return std::nullopt;
    }
    std::filesystem::path relative = std::filesystem::path(std::string(decoded_path)).relative_path();
    std::filesystem::path file = root_ / relative;
    std::error_code ec;
    const bool is_file = !relative.empty() && std::filesystem::is_regular_file(file, ec);
    bool is_index = false;
    if (!is_file) {
        // Client-side routes (/sql, /sources) get the app; a missing asset is a real 404.
        if (relative.has_extension()) {
            return std::nullopt;
        }
        file = root_ / "index.html";
        is_index = true;
    }
    auto body = read_file(file);
    if (!body) {
        return std::nullopt;
    }
    outgoing response;
    response.content_type = std::string(content_type_for(file));
    response.body = std::move(*body);
    is_index = is_index || file.filename() == "index.html";
    // Vite puts content hashes in asset names, so they can be cached for good; the page itself never.
    response.headers.emplace_back("Cache-Control",
                                  is_index ? "no-cache" : "public, max-age=31536000, immutable");
    add_security_headers(response);
    return response;
}

void add_security_headers(outgoing& response) {
    response.headers.emplace_back(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'self'");
    response.headers.emplace_back("X-Content-Type-Options", "nosniff");
    response.headers.emplace_back("X-Frame-Options", "DENY");
    response.headers.emplace_back("Referrer-Policy", "same-origin");
}

}  // namespace metahog::http
