#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "http/server.hpp"
#include "http/test_client.hpp"

namespace spacehook::http {
namespace {

using namespace std::chrono_literals;
using test::MakeRequest;
using test::TestClient;

// A self-signed certificate made with the openssl CLI once for the suite, in a fresh temp dir.
class TlsServerTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        std::string pattern = (std::filesystem::temp_directory_path() / "spacehook-http-tls-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        ASSERT_TRUE(MakeKeyPair("cert.pem", "key.pem"));
        ASSERT_TRUE(MakeKeyPair("other-cert.pem", "other-key.pem"));
    }
    static void TearDownTestSuite() {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    static bool MakeKeyPair(const std::string& cert, const std::string& key) {
        // `timeout` bounds the external process; EC keys generate in milliseconds.
        const std::string command =
            "timeout 30 openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
            "-nodes -days 2 -subj /CN=localhost "
            "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout '" +
            Path(key) + "' -out '" + Path(cert) + "' >/dev/null 2>&1";
        return std::system(command.c_str()) == 0 && std::filesystem::exists(Path(cert));
    }
    static std::string Path(const std::string& name) { return (dir_ / name).string(); }

    static ServerOptions Options(std::string cert, std::string key) {
        ServerOptions options;
        options.host = "127.0.0.1";
        options.port = 0;
        options.header_timeout = 500ms;
        options.body_timeout = 500ms;
        options.idle_timeout = 500ms;
        options.write_timeout = 500ms;
        options.handler_timeout = 500ms;
        options.threads = 2;
        options.tls = TlsOptions{std::move(cert), std::move(key)};
        return options;
    }

    // A client context that trusts exactly our self-signed certificate.
    static std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ClientContext() {
        std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> context(SSL_CTX_new(TLS_client_method()),
                                                                  &SSL_CTX_free);
        SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER, nullptr);
        SSL_CTX_load_verify_locations(context.get(), Path("cert.pem").c_str(), nullptr);
        return context;
    }

    static inline std::filesystem::path dir_;
};

TEST_F(TlsServerTest, RoundTripOverTlsWithKeepAlive) {
    std::mutex mu;
    std::optional<bool> secure;
    Router router;
    router.Add("POST", "/echo", [&](Request&& request, Responder respond) {
        {
            std::lock_guard lock(mu);
            secure = request.secure;
        }
        respond(Response::Text(200, request.body));
    });
    Server server(Options(Path("cert.pem"), Path("key.pem")), router.AsHandler());
    const Status started = server.Start();
    ASSERT_TRUE(started.has_value()) << started.error().message;

    auto context = ClientContext();
    TestClient client(server.port());
    ASSERT_TRUE(client.connected());
    ASSERT_TRUE(client.StartTls(context.get())) << client.last_error();
    for (const std::string body : {"first", "second"}) {
        ASSERT_TRUE(client.Send(MakeRequest("POST", "/echo", body)));
        auto response = client.ReadResponse();
        ASSERT_TRUE(response.has_value());
        EXPECT_EQ(response->status, 200);
        EXPECT_EQ(response->body, body);
    }
    {
        std::lock_guard lock(mu);
        ASSERT_TRUE(secure.has_value());
        EXPECT_TRUE(*secure);
    }
    EXPECT_EQ(server.Stats().connections_accepted, 1u);
    EXPECT_EQ(server.Stats().requests, 2u);
    server.Stop(500ms);
}

TEST_F(TlsServerTest, PlainTextClientThatNeverHandshakesIsClosedByTheHeaderDeadline) {
    Server server(Options(Path("cert.pem"), Path("key.pem")), Router().AsHandler());
    ASSERT_TRUE(server.Start().has_value());
    TestClient silent(server.port());
    ASSERT_TRUE(silent.connected());
    const auto opened = std::chrono::steady_clock::now();
    EXPECT_TRUE(silent.WaitForClose(3s));
    EXPECT_GE(std::chrono::steady_clock::now() - opened, 400ms);
    EXPECT_EQ(server.Stats().timeouts, 1u);
}

TEST_F(TlsServerTest, MissingFilesFailStartWithAConfigError) {
    Server server(Options(Path("absent.pem"), Path("key.pem")), Router().AsHandler());
    const Status started = server.Start();
    ASSERT_FALSE(started.has_value());
    EXPECT_EQ(started.error().code, ErrorCode::kConfig);
    EXPECT_EQ(started.error().message, "tls certificate " + Path("absent.pem") + ": not a readable file");
}

TEST_F(TlsServerTest, GarbageCertificateFailsStartWithAConfigError) {
    const std::string garbage = Path("garbage.pem");
    std::ofstream(garbage) << "not a certificate\n";
    Server server(Options(garbage, Path("key.pem")), Router().AsHandler());
    const Status started = server.Start();
    ASSERT_FALSE(started.has_value());
    EXPECT_EQ(started.error().code, ErrorCode::kConfig);
    EXPECT_EQ(started.error().message.rfind("tls certificate " + garbage + ": ", 0), 0u)
        << started.error().message;
}

TEST_F(TlsServerTest, KeyOfAnotherCertificateFailsStart) {
    Server server(Options(Path("cert.pem"), Path("other-key.pem")), Router().AsHandler());
    const Status started = server.Start();
    ASSERT_FALSE(started.has_value());
    EXPECT_EQ(started.error().code, ErrorCode::kConfig);
    EXPECT_NE(started.error().message.find("tls private key"), std::string::npos) << started.error().message;
}

}  // namespace
}  // namespace spacehook::http
