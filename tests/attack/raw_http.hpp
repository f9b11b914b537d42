// Raw TCP access to a server under test, for what a well-behaved HTTP client cannot send: smuggling attempts,
// malformed request lines, oversized headers, slowloris. Blocking, with deadlines; tests only.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace metahog::test_support {

// A connected loopback socket; closed on destruction.
class raw_socket {
public:
    explicit raw_socket(unsigned short port);
    ~raw_socket();
    raw_socket(const raw_socket&) = delete;
    raw_socket& operator=(const raw_socket&) = delete;

    // False when the peer is gone (EPIPE, ECONNRESET).
    bool send(const std::string& bytes);
    void shutdown_write();
    // Reads until the peer closes or `timeout` passes; appends to received().
    void read_until_closed(std::chrono::milliseconds timeout);
    // Reads what arrives within `timeout`, stopping early once `enough` is in the buffer.
    void read_for(std::chrono::milliseconds timeout, const std::string& enough = {});
    // True when the peer has closed its side (a read returned 0 or an error).
    bool closed() const { return closed_; }
    const std::string& received() const { return received_; }

private:
    int fd_ = -1;
    bool closed_ = false;
    std::string received_;
};

// Sends `bytes` on a new connection and returns everything the server answers until it closes the connection
// or `timeout` passes.
std::string raw_exchange(unsigned short port, const std::string& bytes,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

// The status codes of the HTTP responses in a raw byte stream, in order ("HTTP/1.1 400 ..." → 400).
std::vector<unsigned> response_statuses(const std::string& raw);

}  // namespace metahog::test_support
