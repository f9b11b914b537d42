// Raw TCP helpers for hostile HTTP tests (POSIX sockets, poll).
#include "attack/raw_http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

namespace metahog::test_support {

raw_socket::raw_socket(unsigned short port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
        throw std::runtime_error("socket() failed");
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd_);
        fd_ = -1;
        throw std::runtime_error("connect() to 127.0.0.1:" + std::to_string(port) + " failed");
    }
}

raw_socket::~raw_socket() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

bool raw_socket::send(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        const auto count = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (count < 0) {
            if (errno == EINTR) {
                continue;
            }
            closed_ = true;
            return false;
        }
        sent += static_cast<std::size_t>(count);
    }
    return true;
}

void raw_socket::shutdown_write() {
    ::shutdown(fd_, SHUT_WR);
}

void raw_socket::read_for(std::chrono::milliseconds timeout, const std::string& enough) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buffer[16384];
    while (!closed_) {
        if (!enough.empty() && received_.find(enough) != std::string::npos) {
            return;
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return;
        }
        pollfd descriptor{fd_, POLLIN, 0};
        const int ready = ::poll(&descriptor, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready <= 0) {
            return;
        }
        const auto count = ::recv(fd_, buffer, sizeof buffer, 0);
        if (count <= 0) {
            closed_ = true;
            return;
        }
        received_.append(buffer, static_cast<std::size_t>(count));
    }
}

void raw_socket::read_until_closed(std::chrono::milliseconds timeout) {
    read_for(timeout);
}

std::string raw_exchange(unsigned short port, const std::string& bytes, std::chrono::milliseconds timeout) {
    raw_socket socket(port);
    socket.send(bytes);
    socket.read_until_closed(timeout);
    return socket.received();
}

std::vector<unsigned> response_statuses(const std::string& raw) {
    std::vector<unsigned> statuses;
    std::size_t at = 0;
    while ((at = raw.find("HTTP/1.", at)) != std::string::npos) {
        // Only at the start of the stream or of a line.
        if ((at == 0 || raw[at - 1] == '\n') && at + 12 <= raw.size()) {
            statuses.push_back(static_cast<unsigned>(std::stoul(raw.substr(at + 9, 3))));
        }
        at += 7;
    }
    return statuses;
}

}  // namespace metahog::test_support
