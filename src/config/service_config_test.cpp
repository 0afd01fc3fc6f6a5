#include "config/service_config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

using namespace spacehook;
using namespace spacehook::config;
using std::chrono::milliseconds;

namespace {

/// A temp directory holding config files, removed at the end of the test.
class ConfigFiles {
public:
    ConfigFiles() {
        static std::atomic<int> counter{0};
        dir_ = std::filesystem::temp_directory_path() /
               ("spacehook_config_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        std::filesystem::create_directories(dir_);
    }
    ~ConfigFiles() { std::filesystem::remove_all(dir_); }

    std::string Write(const std::string& name, const std::string& text) {
        const auto path = dir_ / name;
        std::ofstream(path) << text;
        return path.string();
    }

private:
    std::filesystem::path dir_;
};

Result<ServiceConfig> Load(const std::vector<std::string>& texts,
                           std::map<std::string, std::string> env = {}) {
    ConfigFiles files;  // the files are read before this returns
    std::vector<std::string> paths;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        paths.push_back(files.Write("c" + std::to_string(i + 1) + ".yaml", texts[i]));
    }
    return LoadServiceConfig(paths, MapEnv(std::move(env)));
}

// The message with the temp directory cut off: "c1.yaml:2:3: ...".
std::string Message(const Result<ServiceConfig>& result) {
    EXPECT_FALSE(result);
    if (result) return "";
    EXPECT_EQ(result.error().code, ErrorCode::kConfig);
    std::string text = result.error().message;
    std::string out;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        const auto slash = line.rfind('/', line.find(".yaml"));
        if (line.find(".yaml") != std::string::npos && slash != std::string::npos)
            line = line.substr(slash + 1);
        if (!out.empty()) out += '\n';
        out += line;
        start = end + 1;
    }
    return out;
}

}  // namespace

TEST(ServiceConfig, DefaultsWithNoFilesAndNoEnvironment) {
    auto config = LoadServiceConfig({}, MapEnv({}));
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->server.host, "0.0.0.0");
    EXPECT_EQ(config->server.port, 3000);
    EXPECT_EQ(config->server.webhook_path, "/docspace/webhook");
    EXPECT_EQ(config->store_url, "sqlite:spacehook.db");
    EXPECT_EQ(config->admin.host, "127.0.0.1");  // the admin routes stay private unless told otherwise
    EXPECT_EQ(config->admin.port, 9464);
    EXPECT_TRUE(config->webhook.secrets.empty());
    EXPECT_TRUE(config->documents.empty());
    EXPECT_TRUE(config->SecretValues().empty());
}

TEST(ServiceConfig, EveryKeyIsRead) {
    auto config = Load({R"(
server:
  listen: 127.0.0.1:8443
  webhook_path: /hooks/docspace
  body_limit: 2MiB
  header_timeout: 5s
  body_timeout: 20s
  idle_timeout: 2m
  max_connections: 500
  threads: 2
  tls: {certificate: cert.pem, private_key: key.pem}
  require_https: true
  trusted_proxies: [10.0.0.1, 10.0.0.2]
webhook:
  secrets: [old-secret-1, new-secret-2]
  allow_unsigned: false
  max_age: 10m
docspace:
  api_host: https://portal.example.com/
  api_key: sk-123
  rate_limit: {per_second: 5.5, burst: 10}
  timeouts: {connect: 2s, total: 15s}
  operation_poll: {interval: 100ms, timeout: 1m}
  verify_tls: false
  ca_file: /etc/ssl/ca.pem
store: postgres://db/spacehook
runner:
  workers: 8
  lease: 1m
  retry: {base: 500ms, max: 10m, multiplier: 3, jitter: 0.5, max_attempts: 7, budget: 2h}
  shutdown_grace: 5s
mail:
  smtp_url: smtp://mail:2525
  username: bot
  password: pw
  from: "spacehook <bot@example.com>"
  starttls: required
  verify_tls: false
log: {level: debug, format: json}
admin: {token: admin-token, listen: "127.0.0.1:9500"}
chat:
  channels:
    ops: {kind: slack, url: "https://hooks.slack.com/services/T/B/X"}
rules: []
)"});
    ASSERT_TRUE(config) << config.error().message;
    const auto& c = *config;
    EXPECT_EQ(c.server.host, "127.0.0.1");
    EXPECT_EQ(c.server.port, 8443);
    EXPECT_EQ(c.server.webhook_path, "/hooks/docspace");
    EXPECT_EQ(c.server.body_limit, 2u * 1024 * 1024);
    EXPECT_EQ(c.server.header_timeout, milliseconds(5000));
    EXPECT_EQ(c.server.body_timeout, milliseconds(20000));
    EXPECT_EQ(c.server.idle_timeout, milliseconds(120000));
    EXPECT_EQ(c.server.max_connections, 500u);
    EXPECT_EQ(c.server.threads, 2);
    ASSERT_TRUE(c.server.tls);
    EXPECT_EQ(c.server.tls->certificate_file, "cert.pem");
    EXPECT_EQ(c.server.tls->private_key_file, "key.pem");
    EXPECT_TRUE(c.server.require_https);
    EXPECT_EQ(c.server.trusted_proxies, (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
    EXPECT_EQ(c.webhook.secrets, (std::vector<std::string>{"old-secret-1", "new-secret-2"}));
    EXPECT_EQ(c.webhook.max_age, milliseconds(600000));
    EXPECT_EQ(c.docspace.api_host, "https://portal.example.com");  // trailing slash dropped
    EXPECT_EQ(c.docspace.api_key, "sk-123");
    EXPECT_DOUBLE_EQ(c.docspace.rate_per_second, 5.5);
    EXPECT_EQ(c.docspace.burst, 10);
    EXPECT_EQ(c.docspace.connect_timeout, milliseconds(2000));
    EXPECT_EQ(c.docspace.total_timeout, milliseconds(15000));
    EXPECT_EQ(c.docspace.poll_interval, milliseconds(100));
    EXPECT_EQ(c.docspace.poll_timeout, milliseconds(60000));
    EXPECT_FALSE(c.docspace.verify_tls);
    EXPECT_EQ(c.docspace.ca_file, "/etc/ssl/ca.pem");
    EXPECT_EQ(c.store_url, "postgres://db/spacehook");
    EXPECT_EQ(c.runner.workers, 8);
    EXPECT_EQ(c.runner.lease, milliseconds(60000));
    EXPECT_EQ(c.runner.retry_base, milliseconds(500));
    EXPECT_EQ(c.runner.retry_max, milliseconds(600000));
    EXPECT_DOUBLE_EQ(c.runner.retry_multiplier, 3.0);
    EXPECT_DOUBLE_EQ(c.runner.retry_jitter, 0.5);
    EXPECT_EQ(c.runner.max_attempts, 7);
    EXPECT_EQ(c.runner.retry_budget, milliseconds(7200000));
    EXPECT_EQ(c.runner.shutdown_grace, milliseconds(5000));
    EXPECT_EQ(c.mail.smtp_url, "smtp://mail:2525");
    EXPECT_EQ(c.mail.username, "bot");
    EXPECT_EQ(c.mail.password, "pw");
    EXPECT_EQ(c.mail.from, "spacehook <bot@example.com>");
    EXPECT_TRUE(c.mail.require_starttls);
    EXPECT_FALSE(c.mail.verify_tls);
    EXPECT_EQ(c.log.level, "debug");
    EXPECT_EQ(c.log.format, "json");
    EXPECT_EQ(c.admin.token, "admin-token");
    EXPECT_EQ(c.admin.host, "127.0.0.1");
    EXPECT_EQ(c.admin.port, 9500);
    ASSERT_EQ(c.chat_channels.count("ops"), 1u);
    EXPECT_EQ(c.chat_channels.at("ops").kind, "slack");
    EXPECT_EQ(c.chat_channels.at("ops").url, "https://hooks.slack.com/services/T/B/X");
    ASSERT_EQ(c.documents.size(), 1u);
    EXPECT_TRUE(c.documents[0].root["rules"].is_array());
    auto secrets = c.SecretValues();
    for (const char* secret : {"sk-123", "old-secret-1", "new-secret-2", "pw", "admin-token",
                               "https://hooks.slack.com/services/T/B/X"}) {
        EXPECT_NE(std::find(secrets.begin(), secrets.end(), secret), secrets.end()) << secret;
    }
}

TEST(ServiceConfig, UnknownKeysAreLocatedWithSuggestions) {
    auto result = Load({"server:\n  lisen: :3000\nmial:\n  from: x\n"});
    EXPECT_EQ(Message(result),
              "c1.yaml:3:1: unknown key 'mial' in the configuration; did you mean 'mail'?\n"
              "c1.yaml:2:3: unknown key 'lisen' in server; did you mean 'listen'?");
}

TEST(ServiceConfig, BadValuesAreAllReported) {
    auto result = Load({R"(server:
  listen: nowhere:99999
  body_limit: lots
  threads: 0
  header_timeout: soon
log:
  level: loud
runner:
  retry: {jitter: 2}
store: mysql://db
)"});
    const std::string message = Message(result);
    EXPECT_NE(message.find(":2:3: listen 'nowhere:99999': expected HOST:PORT"), std::string::npos) << message;
    EXPECT_NE(
        message.find(
            ":3:3: server.body_limit must be a positive size like 1048576, 512KiB or 1MiB, got \"lots\""),
        std::string::npos)
        << message;
    EXPECT_NE(message.find(":4:3: server.threads must be an integer from 1 to 256, got 0"), std::string::npos)
        << message;
    EXPECT_NE(message.find(":5:3: server.header_timeout must be a positive duration"), std::string::npos)
        << message;
    EXPECT_NE(message.find(":7:3: log.level must be one of debug, info, warn, error, got 'loud'"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find(":9:11: runner.retry.jitter must be a number from 0 to 1, got 2"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find(":10:1: store must be sqlite:PATH or postgres://..., got 'mysql://db'"),
              std::string::npos)
        << message;
}

TEST(ServiceConfig, SectionsMustBeMaps) {
    EXPECT_EQ(Message(Load({"server: 3000\n"})), "c1.yaml:1:1: server must be a map, got an integer");
    EXPECT_EQ(Message(Load({"- a\n- b\n"})), "c1.yaml:1:1: a configuration file must be a map, got a list");
}

TEST(ServiceConfig, LaterFilesOverrideKeyByKeyAndRulesAccumulate) {
    auto config = Load({"server: {listen: ':4000', threads: 2}\nlog: {level: warn}\nrules: [{name: a}]\n",
                        "server: {threads: 3}\nrules: [{name: b}]\n"});
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->server.port, 4000);
    EXPECT_EQ(config->server.threads, 3);
    EXPECT_EQ(config->log.level, "warn");
    ASSERT_EQ(config->documents.size(), 2u);
    EXPECT_EQ(config->documents[0].root["rules"][0]["name"], Json("a"));
    EXPECT_EQ(config->documents[1].root["rules"][0]["name"], Json("b"));
}

TEST(ServiceConfig, EnvironmentFillsWhatFilesLeaveUnset) {
    std::map<std::string, std::string> env = {{"DOCSPACE_API_HOST", "https://env.example.com"},
                                              {"DOCSPACE_API_KEY", "env-key"},
                                              {"DOCSPACE_WEBHOOK_SECRET", "old-secret, new-secret"},
                                              {"SMTP_URL", "smtps://smtp.example.com"},
                                              {"SMTP_USERNAME", "u"},
                                              {"SMTP_PASSWORD", "p"},
                                              {"MAIL_FROM", "bot@example.com"},
                                              {"PORT", "8080"},
                                              {"SPACEHOOK_ADMIN_TOKEN", "t0k"}};
    auto from_env = LoadServiceConfig({}, MapEnv(env));
    ASSERT_TRUE(from_env) << from_env.error().message;
    EXPECT_EQ(from_env->docspace.api_host, "https://env.example.com");
    EXPECT_EQ(from_env->docspace.api_key, "env-key");
    EXPECT_EQ(from_env->webhook.secrets, (std::vector<std::string>{"old-secret", "new-secret"}));
    EXPECT_EQ(from_env->mail.smtp_url, "smtps://smtp.example.com");
    EXPECT_EQ(from_env->mail.username, "u");
    EXPECT_EQ(from_env->mail.password, "p");
    EXPECT_EQ(from_env->mail.from, "bot@example.com");
    EXPECT_EQ(from_env->server.port, 8080);
    EXPECT_EQ(from_env->admin.token, "t0k");

    // Values in a file win over the environment.
    auto config =
        Load({"server: {listen: ':9000'}\ndocspace: {api_host: 'http://file.example.com', api_key: k}\n"
              "webhook: {secret: file-secret}\n"},
             env);
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->server.port, 9000);
    EXPECT_EQ(config->docspace.api_host, "http://file.example.com");
    EXPECT_EQ(config->docspace.api_key, "k");
    EXPECT_EQ(config->webhook.secrets, (std::vector<std::string>{"file-secret"}));
}

TEST(ServiceConfig, BadEnvironmentValuesAreErrorsWithoutEchoingSecrets) {
    auto result = LoadServiceConfig({}, MapEnv({{"DOCSPACE_API_HOST", "portal.example.com"},
                                                {"DOCSPACE_WEBHOOK_SECRET", "good-secret,bad secret"},
                                                {"PORT", "eighty"}}));
    const std::string message = Message(result);
    EXPECT_NE(message.find("DOCSPACE_API_HOST must be an http(s) URL"), std::string::npos);
    EXPECT_NE(message.find("DOCSPACE_WEBHOOK_SECRET: secret 2 contains whitespace"), std::string::npos);
    EXPECT_NE(message.find("PORT must be a port number"), std::string::npos);
    EXPECT_EQ(message.find("bad secret"), std::string::npos);
}

TEST(ServiceConfig, SecretsAreChecked) {
    EXPECT_EQ(
        Message(Load({"webhook: {secret: 'has space'}\n"})),
        "c1.yaml:1:11: webhook secret contains whitespace; DocSpace secrets are 8 to 30 printable characters "
        "without spaces");
    EXPECT_EQ(Message(Load({"webhook: {secret: abcdefgh, secrets: [x1234567]}\n"})),
              "c1.yaml:1:29: write either webhook.secret or webhook.secrets, not both");
    // A secret that YAML would type as a number is kept exactly as written.
    auto numeric = Load({"webhook: {secret: 01234567}\n"});
    ASSERT_TRUE(numeric) << numeric.error().message;
    EXPECT_EQ(numeric->webhook.secrets, (std::vector<std::string>{"01234567"}));
    // A secret may contain a comma when written in the file.
    auto comma = Load({"webhook: {secrets: ['a,b-secret']}\n"});
    ASSERT_TRUE(comma);
    EXPECT_EQ(comma->webhook.secrets, (std::vector<std::string>{"a,b-secret"}));
}

TEST(ServiceConfig, ApiHostMustBeAnHttpUrl) {
    EXPECT_EQ(Message(Load({"docspace: {api_host: 'ftp://x'}\n"})),
              "c1.yaml:1:12: docspace.api_host must be an http(s) URL like https://portal.example.com, got "
              "'ftp://x'");
}

TEST(ServiceConfig, TlsNeedsBothFilesAfterMerging) {
    auto half = Load({"server: {tls: {certificate: c.pem}}\n"});
    EXPECT_NE(Message(half).find("c1.yaml:1:10: server.tls needs both certificate and private_key"),
              std::string::npos);
    auto merged = Load({"server: {tls: {certificate: c.pem}}\n", "server: {tls: {private_key: k.pem}}\n"});
    ASSERT_TRUE(merged) << merged.error().message;
    EXPECT_EQ(merged->server.tls->certificate_file, "c.pem");
    EXPECT_EQ(merged->server.tls->private_key_file, "k.pem");
}

TEST(ServiceConfig, ChatChannelsAreValidated) {
    const std::string message = Message(
        Load({"chat:\n  channels:\n    ops: {kind: irc, url: 'https://x'}\n    dev: {kind: teams}\n"}));
    EXPECT_NE(message.find(":3:11: chat.channels.ops.kind must be one of slack, teams, generic, got 'irc'"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find(":4:5: chat channel 'dev' needs both kind and url"), std::string::npos) << message;
    EXPECT_EQ(message.find("channel 'ops' needs"), std::string::npos) << message;
}

TEST(ServiceConfig, MailStarttlsModes) {
    auto opportunistic = Load({"mail: {starttls: opportunistic}\n"});
    ASSERT_TRUE(opportunistic);
    EXPECT_FALSE(opportunistic->mail.require_starttls);
    EXPECT_NE(Message(Load({"mail: {starttls: maybe}\n"}))
                  .find("mail.starttls must be one of required, opportunistic"),
              std::string::npos);
    EXPECT_NE(Message(Load({"mail: {smtp_url: 'http://x'}\n"})).find("mail.smtp_url must be smtp://"),
              std::string::npos);
}

TEST(ServiceConfig, PlaintextAuthIsOffUnlessSaidByName) {
    auto defaults = Load({"mail: {smtp_url: 'smtp://mail:587', username: bot, password: pw}\n"});
    ASSERT_TRUE(defaults);
    EXPECT_FALSE(defaults->mail.allow_plaintext_auth);
    auto allowed = Load({"mail: {allow_plaintext_auth: true}\n"});
    ASSERT_TRUE(allowed);
    EXPECT_TRUE(allowed->mail.allow_plaintext_auth);
}

TEST(ServiceConfig, ConnectionAndBodyMemoryLimits) {
    auto defaults = Load({"rules: []\n"});
    ASSERT_TRUE(defaults);
    EXPECT_EQ(defaults->server.max_connections_per_peer, 256u);
    EXPECT_EQ(defaults->server.body_memory_limit, 64u * 1024 * 1024);
    auto set = Load({"server: {max_connections_per_peer: 0, body_memory_limit: 8MiB}\n"});
    ASSERT_TRUE(set) << set.error().message;
    EXPECT_EQ(set->server.max_connections_per_peer, 0u);
    EXPECT_EQ(set->server.body_memory_limit, 8u * 1024 * 1024);
    EXPECT_NE(Message(Load({"server: {body_limit: 2MiB, body_memory_limit: 1MiB}\n"}))
                  .find("server.body_memory_limit must not be below server.body_limit"),
              std::string::npos);
}

TEST(ServiceConfig, MissingFileIsAnError) {
    auto result = LoadServiceConfig({"/nonexistent/spacehook.yaml"}, MapEnv({}));
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().message, "/nonexistent/spacehook.yaml: cannot read the file");
}

TEST(ServiceConfig, AdminListenerNeedsItsOwnPort) {
    EXPECT_NE(
        Message(Load({"server: {listen: '127.0.0.1:9464'}\n"}))
            .find("admin.listen (127.0.0.1:9464) and server.listen (127.0.0.1:9464) must be different ports"),
        std::string::npos);
    EXPECT_NE(Message(Load({"server: {listen: ':7000'}\nadmin: {listen: '127.0.0.1:7000'}\n"}))
                  .find("must be different ports"),
              std::string::npos);
    EXPECT_NE(Message(Load({"admin: {listen: 'nowhere'}\n"})).find("c1.yaml:1:"), std::string::npos);
    // Port 0 twice is two free ports.
    EXPECT_TRUE(Load({"server: {listen: '127.0.0.1:0'}\nadmin: {listen: '127.0.0.1:0'}\n"}));
}

TEST(ServiceConfig, DirectoryStandsForItsYamlFilesInNameOrder) {
    ConfigFiles files;
    const std::string service = files.Write("spacehook.yaml", "server: {threads: 2}\n");
    std::filesystem::create_directories(std::filesystem::path(service).parent_path() / "rules.d");
    files.Write("rules.d/20-second.yaml",
                "rules:\n  - {name: second, on: file.created, do: [{mail: {to: a@b.c, subject: s}}]}\n");
    files.Write("rules.d/10-first.yml",
                "rules:\n  - {name: first, on: file.created, do: [{mail: {to: a@b.c, subject: s}}]}\n");
    files.Write("rules.d/30-later.yaml", "server: {threads: 3}\n");
    files.Write("rules.d/README", "not yaml: [\n");
    files.Write("rules.d/.hidden.yaml", "not yaml: [\n");
    files.Write("rules.d/old.yaml.dpkg-old", "not yaml: [\n");
    std::filesystem::create_directories(std::filesystem::path(service).parent_path() / "rules.d" /
                                        "sub.yaml");
    const std::string rules_dir = (std::filesystem::path(service).parent_path() / "rules.d").string();

    const auto expanded = ExpandConfigPaths({service, rules_dir});
    ASSERT_TRUE(expanded) << expanded.error().message;
    ASSERT_EQ(expanded->size(), 4u);
    EXPECT_EQ((*expanded)[0], service);
    EXPECT_EQ(std::filesystem::path((*expanded)[1]).filename(), "10-first.yml");
    EXPECT_EQ(std::filesystem::path((*expanded)[2]).filename(), "20-second.yaml");
    EXPECT_EQ(std::filesystem::path((*expanded)[3]).filename(), "30-later.yaml");

    const auto config = LoadServiceConfig({service, rules_dir}, MapEnv({}));
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->server.threads, 3);  // later files win, in name order
    ASSERT_EQ(config->documents.size(), 4u);
    EXPECT_EQ(config->documents[1].root["rules"][0]["name"], "first");
    EXPECT_EQ(config->documents[2].root["rules"][0]["name"], "second");

    // An empty directory is no rules, not an error (a fresh /etc/spacehook/rules.d).
    std::filesystem::create_directories(std::filesystem::path(service).parent_path() / "empty.d");
    const auto empty =
        LoadServiceConfig({(std::filesystem::path(service).parent_path() / "empty.d").string()}, MapEnv({}));
    ASSERT_TRUE(empty) << empty.error().message;
    EXPECT_TRUE(empty->documents.empty());
}

// Documents already in memory merge exactly like the same texts read from files.
TEST(ServiceConfigTest, MergesDocumentsLoadedFromText) {
    const std::string base = "server:\n  listen: 127.0.0.1:8080\nwebhook:\n  secret: first-secret\n";
    const std::string overlay = "server:\n  body_limit: 64KiB\nrules: []\n";
    std::vector<Document> documents;
    for (const auto& [text, name] : {std::pair{base, "a.yaml"}, std::pair{overlay, "b.yaml"}}) {
        auto doc = LoadYamlText(text, name, MapEnv({}));
        ASSERT_TRUE(doc) << doc.error().message;
        documents.push_back(std::move(*doc));
    }
    auto merged = MergeServiceConfig(std::move(documents), MapEnv({}));
    ASSERT_TRUE(merged) << merged.error().message;
    auto from_files = Load({base, overlay});
    ASSERT_TRUE(from_files) << from_files.error().message;
    EXPECT_EQ(merged->server.port, 8080);
    EXPECT_EQ(merged->server.body_limit, 64u * 1024u);
    EXPECT_EQ(merged->server.body_limit, from_files->server.body_limit);
    EXPECT_EQ(merged->webhook.secrets, from_files->webhook.secrets);
    EXPECT_EQ(merged->documents.size(), 2u);
}

TEST(ServiceConfigTest, MergeReportsBadValuesWithTheDocumentName) {
    auto doc = LoadYamlText("server:\n  body_limit: lots\n", "mem.yaml", MapEnv({}));
    ASSERT_TRUE(doc) << doc.error().message;
    std::vector<Document> documents;
    documents.push_back(std::move(*doc));
    auto merged = MergeServiceConfig(std::move(documents), MapEnv({}));
    ASSERT_FALSE(merged);
    EXPECT_EQ(merged.error().code, ErrorCode::kConfig);
    EXPECT_NE(merged.error().message.find("mem.yaml:2:"), std::string::npos) << merged.error().message;
}

TEST(ServiceConfig, OutboundAllowNamesAddressesNetworksAndHostsAndIsEmptyByDefault) {
    auto defaults = Load({"log: {level: info}\n"});
    ASSERT_TRUE(defaults);
    EXPECT_TRUE(defaults->outbound.allow.empty());  // default safe: no internal address is reachable
    auto listed = Load({"outbound: { allow: [127.0.0.1, 10.0.0.0/8, hooks.internal] }\n"});
    ASSERT_TRUE(listed) << Message(listed);
    EXPECT_EQ(listed->outbound.allow,
              (std::vector<std::string>{"127.0.0.1", "10.0.0.0/8", "hooks.internal"}));
    auto text = Load({"outbound: { allow: '::1, fd00::/8' }\n"});
    ASSERT_TRUE(text) << Message(text);
    EXPECT_EQ(text->outbound.allow, (std::vector<std::string>{"::1", "fd00::/8"}));
    EXPECT_NE(Message(Load({"outbound: { allow: [10.0.0.0/40] }\n"})).find("outbound.allow: '10.0.0.0/40'"),
              std::string::npos);
    EXPECT_NE(Message(Load({"outbound: { alow: [] }\n"})).find("alow"), std::string::npos);
}
