// `spacehook send`: sign and post one delivery shaped exactly like DocSpace's, to test a receiver (ours or
// anyone's) the way `stripe trigger` does.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/command.hpp"
#include "core/clock.hpp"
#include "core/json.hpp"
#include "core/random.hpp"
#include "docspace/names.hpp"
#include "httpc/client.hpp"
#include "ingress/signature.hpp"

namespace spacehook::app {

namespace {

struct SendArgs {
    std::string url;
    std::string trigger;
    std::string payload_file;
    std::string secret;
    std::int64_t event_id = 0;
    bool event_id_given = false;
    std::int64_t webhook_id = 1;
    std::string actor;
    bool lower_case_signature = false;
    int retry_count = 0;
};

Result<std::string> ReadPayload(const std::string& path) {
    // Through rdbuf(), not istreambuf_iterator: g++ 12 at -O3 reports a false -Wnull-dereference inside
    // the iterator's inlined sbumpc(), which fails the Release build (warnings are errors).
    std::ostringstream text;
    if (path == "-") {
        text << std::cin.rdbuf();
    } else {
        std::ifstream in(path, std::ios::binary);
        if (!in) return Fail(ErrorCode::kInvalidArgument, "cannot read payload file " + path);
        text << in.rdbuf();
    }
    return text.str();
}

/// The body DocSpace would send for this event: compact JSON, `event`/`payload`/`webhook` in that order,
/// defaults omitted (docs/docspace-api.md §1.4), every non-ASCII character escaped (docs/docspace-api.md
/// §1.3). With retry_count > 0 the webhook block carries the fields DocSpace adds on retry N
/// (docs/docspace-api.md §1.9).
Result<std::string> BuildDeliveryBody(const SendArgs& args, std::string_view payload_text, TimePoint now) {
    const auto bit = docspace::TriggerBit(args.trigger);
    if (!bit || *bit == 0) return Fail(ErrorCode::kInvalidArgument, "unknown trigger '" + args.trigger + "'");
    nlohmann::ordered_json payload =
        nlohmann::ordered_json::parse(payload_text, nullptr, /*allow_exceptions=*/false);
    if (payload.is_discarded())
        return Fail(ErrorCode::kInvalidArgument, "the payload file is not valid JSON");

    nlohmann::ordered_json event = nlohmann::ordered_json::object();
    if (args.event_id != 0) event["id"] = args.event_id;
    event["createOn"] = FormatIso8601(now);
    if (!args.actor.empty()) event["createBy"] = args.actor;
    event["trigger"] = args.trigger;
    event["triggerId"] = *bit;

    nlohmann::ordered_json webhook = nlohmann::ordered_json::object();
    if (args.webhook_id != 0) webhook["id"] = args.webhook_id;
    webhook["name"] = "spacehook-send";
    webhook["url"] = args.url;
    webhook["triggers"] = nlohmann::ordered_json::array({args.trigger});
    if (args.retry_count > 0) {
        webhook["lastFailureOn"] = FormatIso8601(now - std::chrono::seconds(1));
        webhook["lastFailureContent"] =
            "Response status code does not indicate success: 503 (Service Unavailable).";
        webhook["retryCount"] = args.retry_count;
        webhook["retryOn"] = FormatIso8601(now);
    }

    nlohmann::ordered_json body = nlohmann::ordered_json::object();
    body["event"] = std::move(event);
    body["payload"] = std::move(payload);
    body["webhook"] = std::move(webhook);
    return body.dump(-1, ' ', /*ensure_ascii=*/true);
}

int RunSend(SendArgs args) {
    if (args.secret.empty()) {
        if (const char* env = std::getenv("DOCSPACE_WEBHOOK_SECRET")) {
            // The variable may list several secrets for rotation (old,new); DocSpace signs with one.
            const std::string all = env;
            args.secret = all.substr(0, all.find(','));
        }
    }
    if (args.secret.empty()) {
        std::cerr << "spacehook send: no secret: pass --secret or set DOCSPACE_WEBHOOK_SECRET\n";
        return 2;
    }
    if (!args.event_id_given) {
        // DocSpace's event.id is its webhook-log id, a positive int; a random one makes each send new.
        SeededRandom random;
        args.event_id = 1 + static_cast<std::int64_t>(random.Uniform() * 2'000'000'000.0);
    }
    auto payload = ReadPayload(args.payload_file);
    if (!payload) {
        std::cerr << "spacehook send: " << payload.error().message << "\n";
        return 2;
    }
    auto body = BuildDeliveryBody(args, *payload, SystemClock::Instance().Now());
    if (!body) {
        std::cerr << "spacehook send: " << body.error().message << "\n";
        return 2;
    }

    httpc::GlobalInit();
    httpc::Client client;
    httpc::Request request;
    request.method = "POST";
    request.url = args.url;
    request.headers = {{"Accept", "*/*"},
                       {"Content-Type", "application/json; charset=utf-8"},
                       {std::string(ingress::kSignatureHeader),
                        ingress::SignatureHeaderValue(args.secret, *body, !args.lower_case_signature)}};
    request.body = *body;
    auto response = client.Send(request);
    std::cerr << "sent " << args.trigger << " event "
              << (args.event_id != 0 ? std::to_string(args.event_id) : "(no id)") << " (webhook "
              << args.webhook_id;
    if (args.retry_count > 0) std::cerr << ", retry " << args.retry_count;
    std::cerr << ") to " << args.url << "\n";
    if (!response) {
        std::cerr << "spacehook send: " << response.error().message << "\n";
        return 2;
    }
    std::cout << "HTTP " << response->status << "\n" << response->body;
    if (!response->body.empty() && response->body.back() != '\n') std::cout << "\n";
    return response->status >= 200 && response->status < 300 ? 0 : 1;
}

void AddSendCommand(CLI::App& app) {
    auto args = std::make_shared<SendArgs>();
    auto* cmd = app.add_subcommand(
        "send", "Sign and POST a DocSpace-shaped webhook delivery (for testing a receiver)");
    cmd->add_option("--url", args->url, "Receiver URL, e.g. http://127.0.0.1:3000/docspace/webhook")
        ->required();
    cmd->add_option("--trigger", args->trigger, "Trigger name, e.g. file.created")->required();
    cmd->add_option("--payload", args->payload_file, "JSON file with the payload object ('-' reads stdin)")
        ->required();
    cmd->add_option("--secret", args->secret, "Signing secret (default: DOCSPACE_WEBHOOK_SECRET)");
    auto* event_id = cmd->add_option("--event-id", args->event_id,
                                     "event.id (default: random; 0 omits it, as DocSpace omits a 0)")
                         ->check(CLI::NonNegativeNumber);
    cmd->add_option("--webhook-id", args->webhook_id, "webhook.id (default 1; 0 omits it)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--actor", args->actor, "event.createBy, a user GUID (default: omitted)");
    cmd->add_flag("--lower-case-signature", args->lower_case_signature,
                  "Sign with lower-case hex (DocSpace sends UPPER-case)");
    cmd->add_option("--retry-count", args->retry_count, "Shape the body like DocSpace's retry N (1..5)")
        ->check(CLI::Range(0, 5));
    cmd->callback([args, event_id] {
        args->event_id_given = event_id->count() > 0;
        SetExitCode(RunSend(*args));
    });
}

}  // namespace

SPACEHOOK_COMMAND("send", AddSendCommand);

}  // namespace spacehook::app
