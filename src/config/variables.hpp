#pragma once
// Where a configuration variable's value comes from. A secret should not have to sit in the process
// environment (readable in /proc/PID/environ by the same user, inherited by every child): besides VAR
// itself, a variable is read from the file VAR_FILE names, or from the systemd credential VAR
// ($CREDENTIALS_DIRECTORY/VAR, LoadCredential= / SetCredential= in the unit). A config value can also
// name a file or credential directly: ${file:/etc/spacehook/api-key}, ${credential:api-key}.

#include <optional>
#include <string>
#include <string_view>

#include "config/document.hpp"
#include "core/error.hpp"

namespace spacehook::config {

/// The value of variable `name`: the environment's VAR, else the contents of the file VAR_FILE names,
/// else the credential VAR when $CREDENTIALS_DIRECTORY holds one; nullopt when none is there. kConfig
/// when VAR and VAR_FILE are both set (which one is meant?) or VAR_FILE cannot be read. The value is
/// returned as set, empty or not; callers decide what empty means.
Result<std::optional<std::string>> LookupVariable(std::string_view name, const Env& env);
/// LookupVariable, also saying whether the value came from a secret source (VAR_FILE or a credential)
/// rather than the environment.
Result<std::optional<std::string>> LookupVariable(std::string_view name, const Env& env,
                                                  bool& from_secret_source);

/// Whether a variable's name says it holds a secret: it contains KEY, SECRET, TOKEN, PASS (PASSWORD,
/// PASSWD, PASSPHRASE), CREDENTIAL, AUTH, COOKIE, SIGNATURE or PRIVATE, in any case. Such values are
/// masked wherever spacehook shows a value it resolved (docs/configuration.md "Secrets").
bool NamedLikeSecret(std::string_view name);

/// The contents of a secret file with one trailing line break removed (editors add one, `echo` too).
/// kConfig naming the path (never the contents) when it cannot be read, is not a regular file, or is
/// larger than 64 KiB.
Result<std::string> ReadSecretFile(const std::string& path);

/// $CREDENTIALS_DIRECTORY/`name`'s contents (as ReadSecretFile). kConfig when the directory is not
/// set (the process was not started by systemd with credentials), the name is not a plain file name,
/// or the credential is missing.
Result<std::string> ReadCredential(std::string_view name, const Env& env);

}  // namespace spacehook::config
