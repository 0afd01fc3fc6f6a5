#include "config/variables.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/text.hpp"

namespace spacehook::config {

namespace {

// Secrets are short; a limit keeps `VAR_FILE=/dev/zero` from reading forever.
constexpr std::uintmax_t kMaxSecretFileBytes = std::uintmax_t{64} * 1024;

std::optional<std::string> Get(const Env& env, const std::string& name) {
    if (!env) return std::nullopt;
    return env(name);
}

}  // namespace

Result<std::string> ReadSecretFile(const std::string& path) {
    if (path.empty()) return Fail(ErrorCode::kConfig, "an empty file name was given for a secret file");
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
        return Fail(ErrorCode::kConfig, fmt::format("cannot read {}: {}", path, std::strerror(errno)));
    }
    if (!S_ISREG(info.st_mode))
        return Fail(ErrorCode::kConfig, fmt::format("{} is not a regular file", path));
    if (static_cast<std::uintmax_t>(info.st_size) > kMaxSecretFileBytes) {
        return Fail(ErrorCode::kConfig,
                    fmt::format("{} is larger than 64 KiB; a secret file holds one value", path));
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) return Fail(ErrorCode::kConfig, fmt::format("cannot read {}: {}", path, std::strerror(errno)));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return Fail(ErrorCode::kConfig, fmt::format("cannot read {}", path));
    std::string value = text.str();
    if (value.ends_with("\r\n")) {
        value.resize(value.size() - 2);
    } else if (value.ends_with('\n')) {
        value.pop_back();
    }
    return value;
}

Result<std::string> ReadCredential(std::string_view name, const Env& env) {
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos) {
        return Fail(ErrorCode::kConfig,
                    fmt::format("credential name '{}' must be a plain file name (no '/')", name));
    }
    const auto directory = Get(env, "CREDENTIALS_DIRECTORY");
    if (!directory || directory->empty()) {
        return Fail(ErrorCode::kConfig,
                    fmt::format("credential {} wanted, but CREDENTIALS_DIRECTORY is not set (systemd sets it "
                                "for a unit with LoadCredential= or SetCredential=)",
                                name));
    }
    return ReadSecretFile((std::filesystem::path(*directory) / std::string(name)).string());
}

Result<std::optional<std::string>> LookupVariable(std::string_view name, const Env& env) {
    bool from_secret_source = false;
    return LookupVariable(name, env, from_secret_source);
}

bool NamedLikeSecret(std::string_view name) {
    static constexpr std::string_view kMarks[] = {"KEY",  "SECRET", "TOKEN",     "PASS",   "CREDENTIAL",
                                                  "AUTH", "COOKIE", "SIGNATURE", "PRIVATE"};
    const std::string upper = ToUpper(name);
    return std::any_of(std::begin(kMarks), std::end(kMarks),
                       [&](std::string_view mark) { return upper.find(mark) != std::string::npos; });
}

Result<std::optional<std::string>> LookupVariable(std::string_view name, const Env& env,
                                                  bool& from_secret_source) {
    from_secret_source = false;
    const std::string var(name);
    const std::string file_var = var + "_FILE";
    auto value = Get(env, var);
    auto file = Get(env, file_var);
    if (value && file) {
        return Fail(ErrorCode::kConfig,
                    fmt::format("both {} and {} are set; set one of them", var, file_var));
    }
    if (value) return value;
    if (file) {
        from_secret_source = true;
        auto read = ReadSecretFile(*file);
        if (!read) return Fail(ErrorCode::kConfig, fmt::format("{}: {}", file_var, read.error().message));
        return std::optional<std::string>(std::move(*read));
    }
    // A credential is optional: a unit passes the ones it has.
    const auto directory = Get(env, "CREDENTIALS_DIRECTORY");
    if (directory && !directory->empty() && name.find('/') == std::string_view::npos) {
        const auto path = std::filesystem::path(*directory) / var;
        std::error_code ec;
        if (std::filesystem::exists(path, ec)) {
            auto read = ReadSecretFile(path.string());
            if (!read)
                return Fail(ErrorCode::kConfig, fmt::format("credential {}: {}", var, read.error().message));
            from_secret_source = true;
            return std::optional<std::string>(std::move(*read));
        }
    }
    return std::optional<std::string>();
}

}  // namespace spacehook::config
