#include "config/variables.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>

#include "config/service_config.hpp"

using namespace spacehook;
using namespace spacehook::config;

namespace {

/// A temp directory for secret files and a credentials directory, removed at the end of the test.
class SecretDir {
public:
    SecretDir() {
        static std::atomic<int> counter{0};
        dir_ = std::filesystem::temp_directory_path() /
               ("spacehook_variables_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        std::filesystem::create_directories(dir_ / "credentials");
    }
    ~SecretDir() { std::filesystem::remove_all(dir_); }

    std::string Write(const std::string& name, const std::string& text) const {
        const auto path = dir_ / name;
        std::ofstream(path, std::ios::binary) << text;
        return path.string();
    }
    std::string Credentials() const { return (dir_ / "credentials").string(); }
    std::string Path(const std::string& name) const { return (dir_ / name).string(); }

private:
    std::filesystem::path dir_;
};

}  // namespace

TEST(LookupVariable, TheEnvironmentFirst) {
    SecretDir dir;
    const auto value = LookupVariable("DOCSPACE_API_KEY", MapEnv({{"DOCSPACE_API_KEY", "sk-env"}}));
    ASSERT_TRUE(value);
    EXPECT_EQ(**value, "sk-env");
    const auto unset = LookupVariable("DOCSPACE_API_KEY", MapEnv({}));
    ASSERT_TRUE(unset);
    EXPECT_FALSE(*unset);
}

TEST(LookupVariable, FileVariantReadsTheFileWithoutItsLastLineBreak) {
    SecretDir dir;
    const auto path = dir.Write("key", "sk-from-file\n");
    const auto value = LookupVariable("DOCSPACE_API_KEY", MapEnv({{"DOCSPACE_API_KEY_FILE", path}}));
    ASSERT_TRUE(value) << value.error().message;
    EXPECT_EQ(**value, "sk-from-file");
    const auto crlf = dir.Write("crlf", "two\nlines\r\n");
    EXPECT_EQ(**LookupVariable("X", MapEnv({{"X_FILE", crlf}})), "two\nlines");
}

TEST(LookupVariable, FileVariantErrorsNameThePathNotTheContents) {
    SecretDir dir;
    const auto missing =
        LookupVariable("DOCSPACE_API_KEY", MapEnv({{"DOCSPACE_API_KEY_FILE", dir.Path("nope")}}));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::kConfig);
    EXPECT_NE(missing.error().message.find("DOCSPACE_API_KEY_FILE: cannot read " + dir.Path("nope")),
              std::string::npos)
        << missing.error().message;

    const auto both = LookupVariable("K", MapEnv({{"K", "a"}, {"K_FILE", dir.Write("k", "b")}}));
    ASSERT_FALSE(both);
    EXPECT_NE(both.error().message.find("both K and K_FILE are set"), std::string::npos);

    const auto directory = LookupVariable("K", MapEnv({{"K_FILE", dir.Credentials()}}));
    ASSERT_FALSE(directory);
    EXPECT_NE(directory.error().message.find("is not a regular file"), std::string::npos);

    const auto big = LookupVariable("K", MapEnv({{"K_FILE", dir.Write("big", std::string(70000, 'x'))}}));
    ASSERT_FALSE(big);
    EXPECT_NE(big.error().message.find("larger than 64 KiB"), std::string::npos);
    EXPECT_EQ(big.error().message.find("xxxx"), std::string::npos);
}

TEST(LookupVariable, SystemdCredentialNamedLikeTheVariable) {
    SecretDir dir;
    std::ofstream(dir.Credentials() + "/DOCSPACE_WEBHOOK_SECRET") << "from-credential";
    const Env env = MapEnv({{"CREDENTIALS_DIRECTORY", dir.Credentials()}});
    EXPECT_EQ(**LookupVariable("DOCSPACE_WEBHOOK_SECRET", env), "from-credential");
    // A credential the unit does not pass is simply absent.
    EXPECT_FALSE(*LookupVariable("SMTP_PASSWORD", env));
    // The environment and VAR_FILE win over a credential.
    EXPECT_EQ(
        **LookupVariable("DOCSPACE_WEBHOOK_SECRET", MapEnv({{"CREDENTIALS_DIRECTORY", dir.Credentials()},
                                                            {"DOCSPACE_WEBHOOK_SECRET", "from-env"}})),
        "from-env");
}

TEST(ExpandVars, FileAndCredentialReferences) {
    SecretDir dir;
    const auto path = dir.Write("smtp-password", "p@ss word\n");
    std::ofstream(dir.Credentials() + "/api-key") << "sk-credential";
    const Env env = MapEnv({{"CREDENTIALS_DIRECTORY", dir.Credentials()}});
    EXPECT_EQ(*ExpandVars("${file:" + path + "}", env), "p@ss word");
    EXPECT_EQ(*ExpandVars("key=${credential:api-key}.", env), "key=sk-credential.");
    // `${file:-x}` is still the variable `file` with a default.
    EXPECT_EQ(*ExpandVars("${file:-fallback}", env), "fallback");

    const auto missing = ExpandVars("${file:" + dir.Path("absent") + "}", env);
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("${file:" + dir.Path("absent") + "}: cannot read"),
              std::string::npos)
        << missing.error().message;
    const auto no_credential = ExpandVars("${credential:absent}", env);
    ASSERT_FALSE(no_credential);
    EXPECT_NE(no_credential.error().message.find("${credential:absent}"), std::string::npos);
    const auto outside_systemd = ExpandVars("${credential:api-key}", MapEnv({}));
    ASSERT_FALSE(outside_systemd);
    EXPECT_NE(outside_systemd.error().message.find("CREDENTIALS_DIRECTORY is not set"), std::string::npos);
    const auto escape = ExpandVars("${credential:../x}", env);
    ASSERT_FALSE(escape);
    EXPECT_NE(escape.error().message.find("plain file name"), std::string::npos);
    EXPECT_FALSE(ExpandVars("${file:/never/closed", env));
}

TEST(ExpandVars, VariablesFallBackToTheirFileVariant) {
    SecretDir dir;
    const auto path = dir.Write("room", "890\n");
    EXPECT_EQ(*ExpandVars("${ROOM_ID}", MapEnv({{"ROOM_ID_FILE", path}})), "890");
    EXPECT_EQ(*ExpandVars("${ROOM_ID:-1}", MapEnv({{"ROOM_ID_FILE", path}})), "890");
    EXPECT_FALSE(ExpandVars("${ROOM_ID}", MapEnv({{"ROOM_ID_FILE", dir.Path("nope")}})));
}

TEST(ServiceConfigSecrets, EnvironmentFallbacksReadFilesAndCredentials) {
    SecretDir dir;
    std::ofstream(dir.Credentials() + "/DOCSPACE_WEBHOOK_SECRET") << "webhook-secret-1\n";
    std::ofstream(dir.Credentials() + "/SMTP_PASSWORD") << "smtp-pass";
    const auto key = dir.Write("api-key", "sk-file-key\n");
    const auto config = LoadServiceConfig({}, MapEnv({{"CREDENTIALS_DIRECTORY", dir.Credentials()},
                                                      {"DOCSPACE_API_KEY_FILE", key},
                                                      {"SPACEHOOK_ADMIN_TOKEN", "admin-token"}}));
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->docspace.api_key, "sk-file-key");
    EXPECT_EQ(config->webhook.secrets, std::vector<std::string>{"webhook-secret-1"});
    EXPECT_EQ(config->mail.password, "smtp-pass");
    EXPECT_EQ(config->admin.token, "admin-token");
    const auto secrets = config->SecretValues();
    EXPECT_NE(std::find(secrets.begin(), secrets.end(), "sk-file-key"), secrets.end());
    EXPECT_NE(std::find(secrets.begin(), secrets.end(), "smtp-pass"), secrets.end());

    const auto broken = LoadServiceConfig({}, MapEnv({{"DOCSPACE_API_KEY_FILE", dir.Path("missing")}}));
    ASSERT_FALSE(broken);
    EXPECT_NE(broken.error().message.find("DOCSPACE_API_KEY_FILE: cannot read " + dir.Path("missing")),
              std::string::npos)
        << broken.error().message;
}

TEST(ServiceConfigSecrets, ConfigFileReadsAFileReference) {
    SecretDir dir;
    const auto key = dir.Write("api-key", "01234567\n");
    const auto file = dir.Write("spacehook.yaml", "docspace:\n  api_key: ${file:" + key + "}\n");
    const auto config = LoadServiceConfig({file}, MapEnv({}));
    ASSERT_TRUE(config) << config.error().message;
    // Read back as written: a number-looking secret keeps its leading zero.
    EXPECT_EQ(config->docspace.api_key, "01234567");
}

TEST(VariableUses, EachReferenceWithItsValueAndWhetherItIsASecret) {
    SecretDir dir;
    const auto path = dir.Write("room", "890\n");
    std::ofstream(dir.Credentials() + "/HOOK") << "hook-from-credential";
    const Env env = MapEnv({{"ROOM_ID_FILE", path},
                            {"MANAGER_EMAIL", "m@example.com"},
                            {"HOOK_TOKEN", "tok-123"},
                            {"CREDENTIALS_DIRECTORY", dir.Credentials()}});
    std::vector<VariableUse> uses;
    const auto text = ExpandVars(
        "${MANAGER_EMAIL} ${ROOM_ID} ${HOOK_TOKEN} ${HOOK} ${file:" + path + "} ${UNSET:-${HOOK_TOKEN}} $$",
        env, uses);
    ASSERT_TRUE(text) << text.error().message;
    EXPECT_EQ(*text, "m@example.com 890 tok-123 hook-from-credential 890 tok-123 $");
    ASSERT_EQ(uses.size(), 6u);
    // By where the value came from (a file, a credential) or by the name; a plain variable is not.
    EXPECT_EQ(uses[0].name, "MANAGER_EMAIL");
    EXPECT_FALSE(uses[0].secret);
    EXPECT_EQ(uses[1].name, "ROOM_ID");
    EXPECT_TRUE(uses[1].secret);  // ROOM_ID_FILE
    EXPECT_TRUE(uses[2].secret);  // named like a token
    EXPECT_EQ(uses[3].value, "hook-from-credential");
    EXPECT_TRUE(uses[3].secret);
    EXPECT_EQ(uses[4].name, "file:" + path);
    EXPECT_TRUE(uses[4].secret);
    EXPECT_EQ(uses[5].name, "HOOK_TOKEN");  // a default's reference
}

TEST(VariableUses, NamesThatSayTheyHoldASecret) {
    for (const char* name : {"DOCSPACE_API_KEY", "HOOK_TOKEN", "SMTP_PASSWORD", "db_passwd", "CLIENT_SECRET",
                             "AUTH_HEADER", "SESSION_COOKIE", "PRIVATE_URL", "CREDENTIAL", "SIGNATURE_KEY"}) {
        EXPECT_TRUE(NamedLikeSecret(name)) << name;
    }
    for (const char* name : {"CLIENT_ROOM_ID", "MANAGER_EMAIL", "TEMPLATE_FILE_IDS", "DOCSPACE_API_HOST"}) {
        EXPECT_FALSE(NamedLikeSecret(name)) << name;
    }
}

TEST(VariableUses, TheDocumentKeepsWhatWasWrittenAndTheSecretValues) {
    const Env env = MapEnv({{"ROOM", "890"}, {"API_KEY", "sk-doc-secret"}, {"EMPTY", ""}});
    auto doc = LoadYamlText(
        "a: ${ROOM}\nb: \"Bearer ${API_KEY}\"\nc: plain\nd: \"cost $$5\"\ne: ${EMPTY:-}\nf: &x {g: ${ROOM}}\n"
        "h: *x\n",
        "t.yaml", env);
    ASSERT_TRUE(doc) << doc.error().message;
    EXPECT_EQ(doc->root["a"], Json(890));
    ASSERT_EQ(doc->written.count("/a"), 1u);
    EXPECT_EQ(doc->written.at("/a").text, "${ROOM}");
    EXPECT_FALSE(doc->written.at("/a").secret());
    EXPECT_EQ(doc->written.at("/b").text, "Bearer ${API_KEY}");
    EXPECT_TRUE(doc->written.at("/b").secret());
    EXPECT_EQ(doc->written.count("/c"), 0u);  // nothing expanded: nothing to keep
    EXPECT_EQ(doc->written.at("/d").text, "cost $$5");
    EXPECT_EQ(doc->written.at("/e").text, "${EMPTY:-}");
    EXPECT_EQ(doc->written.at("/h/g").text, "${ROOM}");  // an alias carries what its anchor had
    EXPECT_EQ(doc->secret_values, std::vector<std::string>{"sk-doc-secret"});

    auto rules = LoadYamlText(
        "rules:\n  - name: r\n    on: file.created\n    do: [ {http: {url: \"https://x.example.com\", "
        "headers: {Authorization: \"Bearer ${API_KEY}\"}}} ]\n",
        "r.yaml", env);
    ASSERT_TRUE(rules) << rules.error().message;
    auto config = MergeServiceConfig({*rules}, env);
    ASSERT_TRUE(config) << config.error().message;
    const auto secrets = config->SecretValues();
    EXPECT_NE(std::find(secrets.begin(), secrets.end(), "sk-doc-secret"), secrets.end());
}
