#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "notify/mail_message.hpp"

namespace spacehook::notify {

/// What a sent mail leaves behind for the run's checkpoint.
struct MailReceipt {
    std::string message_id;      ///< "<...@domain>"; the same for every attempt with the same seed
    std::size_t recipients = 0;  ///< envelope recipients accepted
};

/// Sends mail. The runner's "mail" step talks to this interface, so its tests use RecordingMailer.
/// Errors follow core/error.hpp: kInvalidArgument for a message that cannot be composed (a bad
/// address: permanent), kUnavailable/kTimeout for a server that is down or answered 4xx (try again),
/// kPermanent for a 5xx answer (rejected recipient, refused message, failed login).
class Mailer {
public:
    virtual ~Mailer() = default;
    virtual Result<MailReceipt> Send(const MailMessage& message) = 0;
};

/// A Mailer for tests of the code above it: composes each message exactly as SmtpMailer does (so bad
/// addresses fail the same way) and keeps it instead of sending. Failures can be queued to simulate a
/// server. Thread-safe.
class RecordingMailer final : public Mailer {
public:
    /// `default_from` plays MAIL_FROM for messages without a From.
    explicit RecordingMailer(std::string default_from, const Clock& clock = SystemClock::Instance())
        : default_from_(std::move(default_from)), clock_(clock) {}

    Result<MailReceipt> Send(const MailMessage& message) override;

    /// The next Send() fails with `error` (after composing); queued errors are used in order.
    void FailNext(Error error);
    /// Every mail sent so far, in order.
    [[nodiscard]] std::vector<ComposedMail> Sent() const;

private:
    std::string default_from_;
    const Clock& clock_;
    mutable std::mutex mu_;
    std::deque<Error> failures_;
    std::vector<ComposedMail> sent_;
};

}  // namespace spacehook::notify
