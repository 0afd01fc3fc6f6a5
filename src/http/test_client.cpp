#include "http/test_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include "core/text.hpp"

namespace spacehook::http::test {
namespace {

void SetTimeouts(int fd, std::chrono::milliseconds timeout) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

}  // namespace

const std::string* WireResponse::Find(std::string_view lower_name) const {
    for (const Header& header : headers) {
        if (header.name == lower_name) return &header.value;
    }
    return nullptr;
}

TestClient::TestClient(std::uint16_t port, std::chrono::milliseconds io_timeout, int receive_buffer,
                       const char* source_address)
    : io_timeout_(io_timeout) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) {
        last_error_ = std::strerror(errno);
        return;
    }
    if (receive_buffer > 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
    const int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    SetTimeouts(fd_, io_timeout_);
    if (source_address != nullptr) {
        sockaddr_in source{};
        source.sin_family = AF_INET;
        if (inet_pton(AF_INET, source_address, &source.sin_addr) != 1 ||
            ::bind(fd_, reinterpret_cast<const sockaddr*>(&source), sizeof(source)) != 0) {
            last_error_ = std::string("bind ") + source_address + ": " + std::strerror(errno);
            ::close(fd_);
            fd_ = -1;
            return;
        }
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
        last_error_ = std::strerror(errno);
        ::close(fd_);
        fd_ = -1;
    }
}

TestClient::~TestClient() {
    Close();
}

void TestClient::Close() {
    if (ssl_ != nullptr) {
        SSL_free(ssl_);
        ssl_ = nullptr;
    }
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

bool TestClient::StartTls(ssl_ctx_st* context) {
    ssl_ = SSL_new(context);
    if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) {
        last_error_ = "SSL_new/SSL_set_fd failed";
        return false;
    }
    if (SSL_connect(ssl_) != 1) {
        std::array<char, 256> text{};
        ERR_error_string_n(ERR_get_error(), text.data(), text.size());
        last_error_ = text.data();
        return false;
    }
    return true;
}

bool TestClient::Send(std::string_view bytes) {
    while (!bytes.empty()) {
        long n = 0;
        if (ssl_ != nullptr) {
            n = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
        } else {
            n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        }
        if (n <= 0) {
            last_error_ = "send failed";
            return false;
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

long TestClient::ReadSome(char* data, std::size_t size) {
    if (ssl_ != nullptr) {
        const int n = SSL_read(ssl_, data, static_cast<int>(size));
        if (n > 0) return n;
        return SSL_get_error(ssl_, n) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
    }
    const ssize_t n = ::recv(fd_, data, size, 0);
    return n < 0 ? -1 : static_cast<long>(n);
}

bool TestClient::Fill() {
    std::array<char, std::size_t{16} * 1024> chunk{};
    const long n = ReadSome(chunk.data(), chunk.size());
    if (n <= 0) return false;
    pending_.append(chunk.data(), static_cast<std::size_t>(n));
    return true;
}

std::optional<WireResponse> TestClient::ReadResponse(bool head) {
    if (fd_ < 0) return std::nullopt;
    std::size_t end = 0;
    // Each Fill() is bounded by SO_RCVTIMEO and the response size by the test, so this ends.
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos) {
        if (!Fill()) return std::nullopt;
    }
    const std::string block = pending_.substr(0, end);
    pending_.erase(0, end + 4);

    WireResponse response;
    std::size_t line_end = block.find("\r\n");
    const std::string status_line = block.substr(0, line_end);
    if (status_line.rfind("HTTP/1.1 ", 0) != 0 || status_line.size() < 12) return std::nullopt;
    response.status = std::stoi(status_line.substr(9, 3));
    while (line_end != std::string::npos) {
        const std::size_t start = line_end + 2;
        line_end = block.find("\r\n", start);
        const std::string line =
            block.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
        const std::size_t colon = line.find(':');
        if (colon == std::string::npos) return std::nullopt;
        std::size_t value_start = colon + 1;
        while (value_start < line.size() && line[value_start] == ' ') ++value_start;
        response.headers.push_back(Header{ToLower(line.substr(0, colon)), line.substr(value_start)});
    }
    if (response.status == 100) return response;
    const std::string* length = response.Find("content-length");
    if (head || length == nullptr) return response;
    const std::size_t size = std::stoul(*length);
    while (pending_.size() < size) {
        if (!Fill()) return std::nullopt;
    }
    response.body = pending_.substr(0, size);
    pending_.erase(0, size);
    return response;
}

bool TestClient::WaitForClose(std::chrono::milliseconds bound, std::string* rest) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    if (rest != nullptr) *rest = pending_;
    pending_.clear();
    std::array<char, std::size_t{16} * 1024> chunk{};
    while (std::chrono::steady_clock::now() < deadline) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (ssl_ == nullptr || SSL_pending(ssl_) == 0) {
            pollfd pfd{fd_, POLLIN, 0};
            const int ready = ::poll(&pfd, 1, static_cast<int>(std::max<long>(1, left.count())));
            if (ready <= 0) continue;
        }
        const long n = ReadSome(chunk.data(), chunk.size());
        if (n == 0) return true;
        if (n < 0) {
            // A reset is a close too (the server may drop a client that is still sending).
            return ssl_ != nullptr || errno == ECONNRESET || errno == EPIPE;
        }
        if (rest != nullptr) rest->append(chunk.data(), static_cast<std::size_t>(n));
    }
    return false;
}

bool TestClient::StaysOpen(std::chrono::milliseconds quiet) {
    pollfd pfd{fd_, POLLIN, 0};
    return ::poll(&pfd, 1, static_cast<int>(quiet.count())) == 0;
}

std::string MakeRequest(std::string_view method, std::string_view target, std::string_view body,
                        std::string_view extra_headers) {
    std::string request;
    request.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: test\r\n");
    request.append(extra_headers);
    if (!body.empty() || method == "POST" || method == "PUT") {
        request.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    }
    request.append("\r\n").append(body);
    return request;
}

}  // namespace spacehook::http::test
