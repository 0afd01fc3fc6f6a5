// http: one call to an HTTP endpoint of the rule's choosing. It cannot look before it acts; the same
// Idempotency-Key on every attempt of the step lets an endpoint that honours it act once
// (docs/runner.md "Exactly once, step by step").
#include <fmt/format.h>

#include <algorithm>

#include "core/json_depth.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "steps/kind.hpp"

namespace spacehook::steps {
namespace {

constexpr std::size_t kMaxStoredBody =
    std::size_t{64} * 1024;  ///< an http step's answer kept in its checkpoint

struct HttpInput {
    std::string url;
    std::string method;  ///< upper case
    std::map<std::string, std::string> headers;
    std::optional<Json> body;  ///< text is sent as it is, anything else as JSON
};

/// "https://hooks.example.com" of a URL: what an error may show (paths and queries carry tokens).
std::string Origin(const std::string& url) {
    const auto scheme = url.find("://");
    if (scheme == std::string::npos) return "(url)";
    const auto end = url.find_first_of("/?#", scheme + 3);
    return url.substr(0, end);
}

bool HasHeader(const std::vector<std::pair<std::string, std::string>>& headers, std::string_view name) {
    return std::any_of(headers.begin(), headers.end(),
                       [&](const auto& header) { return EqualsIgnoreCase(header.first, name); });
}

/// Every text in `value` with the registered secrets redacted: an endpoint may echo what it was sent
/// (a header, the URL), and the output is checkpointed and shown.
void RedactTexts(Json& value) {
    if (value.is_string()) {
        value = log::Redact(value.get_ref<const std::string&>());
    } else if (value.is_structured()) {
        for (auto& item : value) RedactTexts(item);
    }
}

/// The answer as the step's output keeps it: JSON when it is JSON (and not too deep), else text, each up
/// to 64 KiB.
Json KeptBody(const httpc::Response& response) {
    Json body;
    const auto type = response.Header("content-type").value_or("");
    if (type.find("json") != std::string::npos) {
        // Bounded: the output is checkpointed, read back for every later step and dumped into templates,
        // run records and the admin API, each recursing once per level (core/json_depth.hpp). An answer
        // nesting deeper is kept as text, like one that is not JSON.
        if (auto parsed = ParseBoundedJson(response.body)) body = std::move(*parsed);
    }
    if (body.is_null() && !response.body.empty()) {
        // Text is kept up to 64 KiB, cut on a UTF-8 character boundary.
        std::size_t keep = std::min(response.body.size(), kMaxStoredBody);
        if (keep < response.body.size()) {
            while (keep > 0 && (static_cast<unsigned char>(response.body[keep]) & 0xC0) == 0x80) --keep;
        }
        body = response.body.substr(0, keep);
    } else if (body.dump(-1, ' ', false, Json::error_handler_t::replace).size() > kMaxStoredBody) {
        body = "(JSON answer over 64 KiB, not kept)";
    }
    return body;
}

class Http final : public Kind<HttpInput> {
public:
    Http()
        : Kind("http", {.what = "an HTTP call", .looks = "nothing"},
               {Bind("url", rules::InputType::kUrl, &HttpInput::url).Required().Sensitive(),
                Bind("method", rules::InputType::kMethod, &HttpInput::method).Default("POST"),
                Bind("headers", rules::InputType::kTextMap, &HttpInput::headers).Sensitive(),
                Bind("body", rules::InputType::kAny, &HttpInput::body)}) {}

private:
    Status Finish(HttpInput& in, const InputProblems& problem, bool strict) const override {
        if (strict && !IsHttpUrl(in.url)) return Fail(problem("url", "expected an http(s) URL"));
        return Ok();
    }

    Result<Json> Execute(const HttpInput& in, const StepDeps& deps, const StepCall& call) const override;
};

Result<Json> Http::Execute(const HttpInput& in, const StepDeps& deps, const StepCall& call) const {
    if (deps.http == nullptr) return Fail(ErrorCode::kConfig, "http: no HTTP client is configured");
    httpc::Request request;
    request.method = in.method;
    request.url = in.url;
    if (request.url.empty()) return Fail(Bad("url", "empty"));
    // A token in the query must not reach a log line through an error message.
    notify::RegisterWebhookUrl(notify::ChatKind::kGeneric, request.url);
    for (const auto& [name, text] : in.headers) {
        if (name.find_first_of("\r\n:") != std::string::npos ||
            text.find_first_of("\r\n") != std::string::npos) {
            return Fail(Bad("headers", "a header name or value holds a line break or colon"));
        }
        request.headers.emplace_back(name, text);
    }
    // The same key on every attempt of this step, so an endpoint that honours it does the work once
    // even when our checkpoint was lost after its answer.
    if (!HasHeader(request.headers, "Idempotency-Key")) {
        request.headers.emplace_back("Idempotency-Key", IdempotencyKey(call.run_key, call.index));
    }
    if (in.body) {
        const bool text = in.body->is_string();
        request.body = text ? in.body->get<std::string>()
                            : in.body->dump(-1, ' ', false, Json::error_handler_t::replace);
        if (!HasHeader(request.headers, "Content-Type")) {
            request.headers.emplace_back("Content-Type",
                                         text ? "text/plain; charset=utf-8" : "application/json");
        }
    }
    request.connect_timeout = std::min(request.connect_timeout, deps.http_timeout);
    request.total_timeout = deps.http_timeout;

    auto response = deps.http->Send(request);
    if (!response) return Fail(response.error());
    const std::string where = fmt::format("http {} {}", request.method, Origin(request.url));
    auto classified = notify::ClassifyChatAnswer(notify::ChatKind::kGeneric, response->status,
                                                 response->Header("retry-after"), response->body, deps.Now());
    if (!classified) {
        Error error = classified.error();
        // ClassifyChatAnswer speaks of a "generic webhook"; this is the rule's own endpoint.
        const std::string prefix = "generic webhook ";
        if (error.message.rfind(prefix, 0) == 0)
            error.message = where + " " + error.message.substr(prefix.size());
        return Fail(std::move(error));
    }
    log::Debug("runner", "http step answered", {{"where", where}, {"status", response->status}});
    Json body = KeptBody(*response);
    RedactTexts(body);
    return Json{{"status", response->status}, {"body", std::move(body)}};
}

}  // namespace

const StepDescriptor& HttpStep() {
    static const Http kind;
    return kind;
}

}  // namespace spacehook::steps
