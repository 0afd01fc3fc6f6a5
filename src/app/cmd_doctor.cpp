// `spacehook doctor --config ...`: checks a deployment against the real portal and SMTP server, the way
// `serve` will use them, and says what to fix (docs/operations.md "Run it on a server"). Read only: it
// changes nothing on the portal and sends no mail.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <set>

#include "app/command.hpp"
#include "app/docspace_options.hpp"
#include "app/env_file.hpp"
#include "app/mail_options.hpp"
#include "config/service_config.hpp"
#include "core/log.hpp"
#include "docspace/client.hpp"
#include "docspace/names.hpp"
#include "httpc/client.hpp"
#include "rules/compiled_rules.hpp"
#include "steps/catalog.hpp"

namespace spacehook::app {

namespace {

/// One exit code per outcome; with several problems, the first check's (in this order) wins.
enum class Outcome {
    kOk = 0,
    kConfig = 2,        ///< the configuration does not load or its rules do not compile
    kPortal = 3,        ///< no portal set, or it cannot be reached
    kKey = 4,           ///< the API key is refused, or its user's role cannot do what the rules do
    kTriggers = 5,      ///< a trigger the rules need is missing or not available to the key's user
    kSubscription = 6,  ///< no subscription, disabled, or it does not send what the rules need
    kSmtp = 7,          ///< the SMTP server cannot be reached or refuses the login
};

struct DoctorArgs {
    std::vector<std::string> configs;
    std::vector<std::string> env_files;
    std::string name = "spacehook";
    std::string url;
};

/// Prints the verdicts and remembers the first failure.
class Report {
public:
    void Ok(std::string_view check, const std::string& text) { Line("ok  ", check, text); }
    void Warn(std::string_view check, const std::string& text, const std::string& fix = "") {
        Line("warn", check, text, fix);
        ++warnings_;
    }
    void Fail(Outcome outcome, std::string_view check, const std::string& text, const std::string& fix) {
        Line("FAIL", check, text, fix);
        if (first_ == Outcome::kOk) {
            first_ = outcome;
            first_check_ = check;
        }
        ++failures_;
    }
    void Skip(std::string_view check, const std::string& why) { Line("skip", check, why); }

    int Finish() const {
        if (failures_ == 0) {
            std::cout << fmt::format(
                "\nno problems{}\n",
                warnings_ ? fmt::format(" ({} warning{})", warnings_, warnings_ > 1 ? "s" : "") : "");
        } else {
            std::cout << fmt::format("\n{} problem{} to fix; exit code {} ({})\n", failures_,
                                     failures_ > 1 ? "s" : "", static_cast<int>(first_), first_check_);
        }
        return static_cast<int>(first_);
    }

private:
    static void Line(std::string_view verdict, std::string_view check, const std::string& text,
                     const std::string& fix = "") {
        std::cout << fmt::format("{}  {:<12} {}\n", verdict, check, log::Redact(text));
        if (!fix.empty()) std::cout << fmt::format("{:19}fix: {}\n", "", log::Redact(fix));
    }

    Outcome first_ = Outcome::kOk;
    std::string first_check_;
    int failures_ = 0;
    int warnings_ = 0;
};

std::string Role(const docspace::User& user) {
    const auto flag = [&](const char* key) { return user.raw.value(key, false); };
    if (flag("isOwner")) return "owner";
    if (flag("isAdmin")) return "DocSpace admin";
    if (flag("isRoomAdmin")) return "room admin";
    if (flag("isVisitor")) return "guest";
    return "user";
}

/// Whether an enabled rule has a step of the kind named `kind` ("mail", "create_room").
bool UsesStep(const rules::CompiledRules& rules, std::string_view kind) {
    for (const auto& rule : rules.rules()) {
        if (!rule.enabled) continue;
        for (const auto& step : rule.steps) {
            if (step.kind->name() == kind) return true;
        }
    }
    return false;
}

std::string ConfigArgsText(const std::vector<std::string>& configs) {
    std::string out;
    for (const auto& config : configs) out += " --config " + config;
    return out;
}

/// Whether the key's user can do what the rules do. False when the key is unusable.
bool CheckRole(Report& report, const docspace::User& user, const rules::CompiledRules& rules) {
    const std::string role = Role(user);
    if (role == "owner" || role == "DocSpace admin") {
        report.Ok("role", role + ": may subscribe to every trigger and act on every room");
        return true;
    }
    const std::string fix =
        "use a key of a DocSpace admin (the portal's Developer Tools > API keys, created while signed in as "
        "that admin)";
    if (role == "guest") {
        report.Fail(Outcome::kKey, "role", "guest: guests cannot manage webhooks or act through the API",
                    fix);
        return false;
    }
    if (role == "user" && UsesStep(rules, "create_room")) {
        report.Fail(Outcome::kKey, "role",
                    "user: the rules create rooms, which only admins and room admins may", fix);
        return true;
    }
    report.Warn("role",
                role +
                    ": sees only the rooms and files it can read, and some triggers are not available to it "
                    "(docs/docspace-api.md §1.5, §1.8)",
                fix);
    return true;
}

void CheckTriggers(Report& report, docspace::DocSpaceClient& client, const rules::CompiledRules& rules,
                   const std::string& role) {
    if (!rules.HasEnabledRules()) {
        report.Warn("triggers", "no enabled rules, so no trigger is needed");
        return;
    }
    auto offered = client.ListTriggers();
    if (!offered) {
        report.Fail(Outcome::kTriggers, "triggers",
                    "cannot list the portal's triggers: " + offered.error().message,
                    offered.error().code == ErrorCode::kForbidden
                        ? "the key's user may not manage webhooks: use a DocSpace admin's key"
                        : "");
        return;
    }
    std::vector<std::string> missing;
    std::vector<std::string> unavailable;
    const auto needed = rules.TriggerNames();
    for (const auto& name : needed) {
        const auto it = std::find_if(offered->begin(), offered->end(),
                                     [&](const docspace::WebhookTriggerInfo& t) { return t.name == name; });
        if (it == offered->end()) {
            missing.push_back(name);
        } else if (!it->available) {
            unavailable.push_back(name);
        }
    }
    if (!missing.empty()) {
        // DocSpace lists every trigger with `available` (docs/docspace-api.md §1.5); one that is not listed
        // at all is newer than the portal, or hidden from this user by a portal that filters by role.
        const bool admin = role == "owner" || role == "DocSpace admin";
        report.Fail(
            Outcome::kTriggers, "triggers",
            fmt::format("the portal does not offer {} to this key's user ({}): {}", fmt::join(missing, ", "),
                        role,
                        admin ? "the portal is older than the trigger (docs/docspace-api.md §1.5)"
                              : "not available to that role, or the portal is older than the trigger"),
            admin ? "upgrade the portal, or remove these triggers from the rules' `on:`"
                  : "use a DocSpace admin's key");
    }
    if (!unavailable.empty()) {
        report.Fail(Outcome::kTriggers, "triggers",
                    fmt::format("{} {} not available to this key's user ({})", fmt::join(unavailable, ", "),
                                unavailable.size() > 1 ? "are" : "is", role),
                    "use a DocSpace admin's key");
    }
    if (missing.empty() && unavailable.empty()) {
        report.Ok("triggers", fmt::format("the rules need {}; the portal offers them to this key",
                                          fmt::join(needed, ", ")));
    }
}

void CheckSubscription(Report& report, docspace::DocSpaceClient& client, const rules::CompiledRules& rules,
                       const DoctorArgs& args) {
    auto hooks = client.ListWebhooks();
    if (!hooks) {
        report.Fail(Outcome::kSubscription, "subscription",
                    "cannot list the portal's webhooks: " + hooks.error().message,
                    hooks.error().code == ErrorCode::kForbidden
                        ? "the key's user may not manage webhooks: use a DocSpace admin's key"
                        : "");
        return;
    }
    const std::string subscribe_fix = fmt::format(
        "spacehook subscribe --url {}{}", args.url.empty() ? "https://YOUR-HOST/docspace/webhook" : args.url,
        ConfigArgsText(args.configs));
    std::vector<const docspace::WebhookConfig*> ours;
    for (const auto& hook : *hooks) {
        if (hook.name == args.name && (args.url.empty() || hook.uri == args.url)) ours.push_back(&hook);
    }
    if (ours.empty()) {
        report.Fail(Outcome::kSubscription, "subscription",
                    fmt::format("no webhook named '{}'{} on the portal: DocSpace sends nothing", args.name,
                                args.url.empty() ? "" : " for " + args.url),
                    subscribe_fix);
        return;
    }
    if (ours.size() > 1) {
        std::vector<std::string> uris;
        uris.reserve(ours.size());
        for (const auto* hook : ours) uris.push_back(hook->uri);
        report.Warn(
            "subscription",
            fmt::format("{} webhooks named '{}': {}; each delivers every event", ours.size(), args.name,
                        fmt::join(uris, ", ")),
            "pass --url to check one; delete the ones no longer used in the portal's Developer Tools");
    }
    const docspace::WebhookConfig& hook = *ours.front();
    const std::string where = fmt::format("'{}' (id {}) -> {}", hook.name, hook.id, hook.uri);
    if (!hook.enabled) {
        std::string why =
            hook.last_failure_on.empty()
                ? ""
                : fmt::format("; last failure {}: {}", hook.last_failure_on, hook.last_failure_content);
        report.Fail(
            Outcome::kSubscription, "subscription", where + " is DISABLED: DocSpace sends nothing" + why,
            fmt::format("spacehook subscribe --url {} --enable{}", hook.uri, ConfigArgsText(args.configs)));
        return;
    }
    if (rules.HasEnabledRules() && hook.triggers != 0) {
        // 0 = every trigger, also ones added later: only a subscription to 0 sends all of them.
        const std::int64_t needed = rules.ListensToAll() ? 0 : rules.TriggerMask();
        const std::int64_t lacking = needed & ~hook.triggers;
        if (needed == 0 || lacking != 0) {
            std::vector<std::string> names;
            for (const auto name : docspace::TriggerNames(needed == 0 ? 0 : lacking))
                names.emplace_back(name);
            report.Fail(
                Outcome::kSubscription, "subscription",
                fmt::format("{} does not send {}, which the rules need", where,
                            needed == 0 ? std::string("every trigger (*)")
                                        : fmt::format("{}", fmt::join(names, ", "))),
                fmt::format("spacehook subscribe --url {}{}", hook.uri, ConfigArgsText(args.configs)));
            return;
        }
    }
    if (hook.last_status >= 200 && hook.last_status < 300) {
        report.Ok("subscription",
                  fmt::format("{}, enabled; the last delivery was answered {}", where, hook.last_status));
    } else if (hook.last_status == 0 && hook.last_failure_on.empty()) {
        report.Ok("subscription", where + ", enabled; no delivery yet");
    } else {
        report.Warn("subscription",
                    fmt::format("{}, enabled, but the last delivery failed ({}{}{})", where, hook.last_status,
                                hook.last_failure_on.empty() ? "" : " at " + hook.last_failure_on,
                                hook.last_failure_content.empty() ? "" : ": " + hook.last_failure_content),
                    "check that the URL reaches `serve` from the portal (proxy, TLS, firewall), then watch "
                    "spacehook_deliveries_total");
    }
}

void CheckSmtp(Report& report, const config::ServiceConfig& config, bool sends_mail) {
    const auto& mail = config.mail;
    if (mail.smtp_url.empty()) {
        if (sends_mail) {
            report.Fail(Outcome::kSmtp, "smtp", "the rules send mail, but no SMTP server is set",
                        "set SMTP_URL (mail.smtp_url), SMTP_USERNAME, SMTP_PASSWORD and MAIL_FROM");
        } else {
            report.Skip("smtp", "no SMTP server set, and no rule sends mail");
        }
        return;
    }
    if (sends_mail && mail.from.empty()) {
        report.Fail(Outcome::kSmtp, "smtp", "no sender address", "set MAIL_FROM (mail.from)");
    }
    notify::SmtpOptions login = SmtpOptionsFrom(mail);
    login.timeout = std::chrono::seconds(20);
    auto checked = notify::SmtpMailer::CheckLogin(std::move(login));
    if (!checked) {
        const bool refused = checked.error().code == ErrorCode::kPermanent;
        report.Fail(
            Outcome::kSmtp, "smtp", checked.error().message,
            refused ? "check SMTP_USERNAME / SMTP_PASSWORD (mail.username / mail.password) and mail.starttls"
                    : "check SMTP_URL (mail.smtp_url): host, port, and that this machine may reach it");
        return;
    }
    report.Ok("smtp", mail.username.empty()
                          ? fmt::format("{} accepts a connection (no login configured)", mail.smtp_url)
                          : fmt::format("{} accepts the login of {}", mail.smtp_url, mail.username));
}

int RunDoctor(const DoctorArgs& args) {
    log::Configure(log::Level::kWarn, log::Format::kText);
    Report report;
    if (auto loaded = ApplyEnvironmentFiles(args.env_files); !loaded) {
        report.Fail(Outcome::kConfig, "config", loaded.error().message, "");
        return report.Finish();
    }
    auto config = config::LoadServiceConfig(args.configs, config::ProcessEnv());
    if (!config) {
        report.Fail(Outcome::kConfig, "config", "does not load:\n" + config.error().message,
                    "spacehook check" + ConfigArgsText(args.configs) + " prints the same");
        return report.Finish();
    }
    for (const auto& secret : config->SecretValues()) log::RegisterSecret(secret);
    rules::CompileOptions options;
    options.chat_channels.emplace();
    for (const auto& [name, channel] : config->chat_channels) options.chat_channels->insert(name);
    auto compiled = rules::Compile(config->documents, steps::Kinds(), options);
    if (!compiled) {
        report.Fail(Outcome::kConfig, "config", "the rules do not compile:\n" + compiled.error().message,
                    "spacehook check" + ConfigArgsText(args.configs) + " prints the same");
        return report.Finish();
    }
    int enabled = 0;
    for (const auto& rule : compiled->rules()) enabled += rule.enabled ? 1 : 0;
    report.Ok("config", fmt::format("{} rule{} ({} enabled) from {} file{}", compiled->rules().size(),
                                    compiled->rules().size() == 1 ? "" : "s", enabled,
                                    config->documents.size(), config->documents.size() == 1 ? "" : "s"));
    if (config->webhook.secrets.empty()) {
        report.Warn("secret", "no webhook secret: `serve` will not start without one",
                    "set DOCSPACE_WEBHOOK_SECRET (8 to 30 printable characters, no spaces)");
    }

    const auto& portal = config->docspace;
    if (portal.api_host.empty() || portal.api_key.empty()) {
        report.Fail(Outcome::kPortal, "portal", "the portal or its API key is not set",
                    "set DOCSPACE_API_HOST and DOCSPACE_API_KEY (docspace.api_host / docspace.api_key)");
        for (const char* check : {"role", "triggers", "subscription"}) report.Skip(check, "no portal");
    } else {
        httpc::GlobalInit();
        docspace::DocSpaceClient client(DocSpaceOptionsFrom(portal));
        auto self = client.GetSelf();
        if (!self) {
            const ErrorCode code = self.error().code;
            if (code == ErrorCode::kUnauthorized || code == ErrorCode::kForbidden) {
                report.Fail(
                    Outcome::kKey, "portal",
                    fmt::format("{} refused the API key: {}", portal.api_host, self.error().message),
                    "create a key in the portal (Developer Tools > API keys) as a DocSpace admin and set "
                    "DOCSPACE_API_KEY; a key is shown once, when it is created");
            } else {
                report.Fail(Outcome::kPortal, "portal",
                            fmt::format("cannot reach {}: {}", portal.api_host, self.error().message),
                            "check DOCSPACE_API_HOST (docspace.api_host), DNS, proxies and docspace.ca_file");
            }
            for (const char* check : {"role", "triggers", "subscription"})
                report.Skip(check, "the portal did not answer");
        } else {
            report.Ok("portal", fmt::format("{} answers; the key acts as {} <{}>", portal.api_host,
                                            self->display_name, self->email));
            if (CheckRole(report, *self, *compiled)) {
                CheckTriggers(report, client, *compiled, Role(*self));
                CheckSubscription(report, client, *compiled, args);
            }
        }
    }
    CheckSmtp(report, *config, UsesStep(*compiled, "mail"));
    return report.Finish();
}

void AddDoctorCommand(CLI::App& app) {
    auto args = std::make_shared<DoctorArgs>();
    auto* cmd = app.add_subcommand(
        "doctor",
        "Check the deployment against the real portal and SMTP server: the API key and its role, the "
        "triggers the rules need, the webhook subscription, the SMTP login. Changes nothing. Exit 0 when "
        "all is well, else the first problem's code: 2 config, 3 portal unreachable, 4 key or role, "
        "5 triggers, 6 subscription, 7 SMTP");
    cmd->add_option("--config", args->configs, "The config files or directories `serve` reads")
        ->required()
        ->check(CLI::ExistingPath);
    AddEnvFileOption(cmd, args->env_files);
    cmd->add_option("--name", args->name, "Name of the webhook on the portal (as given to `subscribe`)")
        ->capture_default_str();
    cmd->add_option("--url", args->url, "Public URL of the webhook endpoint: check the subscription for it");
    cmd->callback([args] { SetExitCode(RunDoctor(*args)); });
}

}  // namespace

SPACEHOOK_COMMAND("doctor", AddDoctorCommand);

}  // namespace spacehook::app
