#include "notify/mailer.hpp"

namespace spacehook::notify {

Result<MailReceipt> RecordingMailer::Send(const MailMessage& message) {
    MailMessage filled = message;
    if (filled.from.empty()) filled.from = default_from_;
    auto mail = ComposeMail(filled, clock_.Now());
    if (!mail) return Fail(std::move(mail.error()));
    std::lock_guard lock(mu_);
    if (!failures_.empty()) {
        Error error = std::move(failures_.front());
        failures_.pop_front();
        return Fail(std::move(error));
    }
    MailReceipt receipt{mail->message_id, mail->recipients.size()};
    sent_.push_back(std::move(*mail));
    return receipt;
}

void RecordingMailer::FailNext(Error error) {
    std::lock_guard lock(mu_);
    failures_.push_back(std::move(error));
}

std::vector<ComposedMail> RecordingMailer::Sent() const {
    std::lock_guard lock(mu_);
    return sent_;
}

}  // namespace spacehook::notify
