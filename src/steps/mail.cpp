// mail: one message over SMTP. SMTP cannot be asked whether a message went out, so the step carries
// what a receiver needs to drop a repeat: the same Message-ID on every attempt of the step
// (docs/runner.md "Exactly once, step by step").
#include "steps/kind.hpp"

namespace spacehook::steps {
namespace {

struct MailInput {
    std::vector<std::string> to;  ///< each entry parsed by the mailer ("Doe, Jane <j@example.com>" is one)
    std::vector<std::string> cc;
    std::optional<std::string> from;  ///< absent: the mailer's MAIL_FROM
    std::optional<std::string> reply_to;
    std::string subject;
    std::optional<std::string> body;
    std::optional<std::string> html;  ///< present: the mail is text + HTML
};

class Mail final : public Kind<MailInput> {
public:
    Mail()
        : Kind("mail",
               {.what = "SMTP; with `html` the mail is text + HTML",
                .looks = "nothing (SMTP cannot be asked)"},
               {Bind("to", rules::InputType::kAddressList, &MailInput::to).Required(),
                Bind("cc", rules::InputType::kAddressList, &MailInput::cc),
                Bind("from", rules::InputType::kText, &MailInput::from),
                Bind("reply_to", rules::InputType::kText, &MailInput::reply_to),
                Bind("subject", rules::InputType::kText, &MailInput::subject).Required(),
                Bind("body", rules::InputType::kText, &MailInput::body),
                Bind("html", rules::InputType::kText, &MailInput::html)}) {}

private:
    void Check(rules::StepCheck& check) const override {
        if (!check.input.contains("body") && !check.input.contains("html"))
            check.Error("mail needs body or html");
    }

    Status Finish(MailInput& in, const InputProblems& problem, bool strict) const override {
        if (strict && in.to.empty()) return Fail(problem("to", "no recipient"));
        return Ok();
    }

    Result<Json> Execute(const MailInput& in, const StepDeps& deps, const StepCall& call) const override {
        if (deps.mailer == nullptr) {
            return Fail(ErrorCode::kConfig, "mail: no SMTP server is configured (mail.smtp_url / SMTP_URL)");
        }
        notify::MailMessage message;
        message.to = in.to;
        message.cc = in.cc;
        message.from = in.from.value_or("");
        message.reply_to = in.reply_to.value_or("");
        message.subject = in.subject;
        message.text_body = in.body.value_or("");
        message.html_body = in.html;
        // The same seed on every attempt of this step: a mail re-sent after a crash in the window between
        // the server's 250 and our checkpoint carries the same Message-ID, so receivers can drop it.
        message.message_id_seed = MessageIdSeed(call.run_key, call.index);
        auto receipt = deps.mailer->Send(message);
        if (!receipt) return Fail(receipt.error());
        return Json{{"message_id", receipt->message_id}, {"recipients", receipt->recipients}};
    }
};

}  // namespace

const StepDescriptor& MailStep() {
    static const Mail kind;
    return kind;
}

}  // namespace spacehook::steps
