#include "watch/alert_outbox.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/log.hpp"

namespace spacehook::watch {

namespace {

constexpr std::string_view kComponent = "alerts";

class MailChannel final : public AlertChannel {
public:
    MailChannel(notify::Mailer& mailer, std::vector<std::string> recipients, std::string portal)
        : mailer_(mailer), recipients_(std::move(recipients)), portal_(std::move(portal)) {}

    [[nodiscard]] std::string Describe() const override {
        return recipients_.size() == 1 ? fmt::format("mail to {}", recipients_[0])
                                       : fmt::format("mail to {} recipients", recipients_.size());
    }

    Status Deliver(const AlertMessage& message) override {
        notify::MailMessage mail;
        mail.to = recipients_;
        mail.subject = message.Subject(portal_);
        mail.text_body = message.Body();
        mail.message_id_seed = fmt::format("spacehook-alert/{}/{}", ToUnixMillis(message.at), mail.subject);
        mail.date = message.at;
        auto sent = mailer_.Send(mail);
        if (!sent) return Fail(sent.error());
        return Ok();
    }

private:
    notify::Mailer& mailer_;
    std::vector<std::string> recipients_;
    std::string portal_;
};

class ChatChannel final : public AlertChannel {
public:
    ChatChannel(notify::ChatPoster& poster, std::string name, notify::ChatKind kind, std::string url,
                std::string portal)
        : poster_(poster),
          name_(std::move(name)),
          kind_(kind),
          url_(std::move(url)),
          portal_(std::move(portal)) {
        notify::RegisterWebhookUrl(kind_, url_);
    }

    [[nodiscard]] std::string Describe() const override {
        return fmt::format("chat {} ({})", name_, notify::ToString(kind_));
    }

    Status Deliver(const AlertMessage& message) override {
        const std::string subject = message.Subject(portal_);
        switch (kind_) {
            case notify::ChatKind::kSlack: {
                notify::SlackMessage slack;
                slack.text = "*" + subject + "*\n" + message.Body();
                return poster_.PostSlack(url_, slack);
            }
            case notify::ChatKind::kTeams: {
                notify::TeamsMessage teams;
                teams.title = subject;
                teams.text = message.Body();
                return poster_.PostTeams(url_, teams);
            }
            case notify::ChatKind::kGeneric: {
                Json alerts = Json::array();
                for (const auto& line : message.lines) {
                    alerts.push_back({{"kind", std::string(ToString(line.kind))},
                                      {"state", line.what == AlertLine::What::kFiring     ? "firing"
                                                : line.what == AlertLine::What::kResolved ? "resolved"
                                                                                          : "happened"},
                                      {"text", line.text},
                                      {"count", line.count},
                                      {"since", FormatIso8601(line.since)}});
                }
                const Json body = {
                    {"title", subject}, {"text", message.Body()}, {"alerts", std::move(alerts)}};
                return poster_.PostJson(url_, body);
            }
        }
        return Fail(ErrorCode::kInternal, "unknown chat kind");
    }

private:
    notify::ChatPoster& poster_;
    std::string name_;
    notify::ChatKind kind_;
    std::string url_;
    std::string portal_;
};

}  // namespace

std::unique_ptr<AlertChannel> MailAlertChannel(notify::Mailer& mailer, std::vector<std::string> recipients,
                                               std::string portal) {
    return std::make_unique<MailChannel>(mailer, std::move(recipients), std::move(portal));
}

std::unique_ptr<AlertChannel> ChatAlertChannel(notify::ChatPoster& poster, std::string name,
                                               notify::ChatKind kind, std::string url, std::string portal) {
    return std::make_unique<ChatChannel>(poster, std::move(name), kind, std::move(url), std::move(portal));
}

AlertOutbox::AlertOutbox(std::vector<std::unique_ptr<AlertChannel>> channels, OutboxOptions options)
    : options_(options) {
    for (auto& channel : channels) lanes_.push_back(Lane{std::move(channel), {}, 0, {}});
    thread_ = std::thread([this] { Loop(); });
}

AlertOutbox::~AlertOutbox() {
    Stop();
}

void AlertOutbox::Post(const AlertMessage& message) {
    {
        std::lock_guard lock(mu_);
        for (auto& lane : lanes_) {
            if (lane.waiting.size() >= options_.max_waiting) {
                log::Error(
                    kComponent, "alert dropped: too many waiting for a channel that does not take them",
                    {{"channel", lane.channel->Describe()}, {"subject", lane.waiting.front().Subject("")}});
                lane.waiting.pop_front();
            }
            lane.waiting.push_back(message);
        }
    }
    cv_.notify_all();
}

std::size_t AlertOutbox::waiting() const {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (const auto& lane : lanes_) n += lane.waiting.size();
    return n;
}

bool AlertOutbox::WaitIdle(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [this] {
        if (delivering_) return false;
        return std::all_of(lanes_.begin(), lanes_.end(),
                           [](const Lane& lane) { return lane.waiting.empty(); });
    });
}

void AlertOutbox::Stop() {
    {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    for (const auto& lane : lanes_) {
        for (const auto& message : lane.waiting) {
            log::Error(kComponent, "alert not delivered before shutdown",
                       {{"channel", lane.channel->Describe()}, {"subject", message.Subject("")}});
        }
    }
}

void AlertOutbox::Loop() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
        const auto now = std::chrono::steady_clock::now();
        Lane* due = nullptr;
        std::optional<SteadyTime> wake;
        for (auto& lane : lanes_) {
            if (lane.waiting.empty()) continue;
            if (lane.next_try <= now) {
                due = &lane;
                break;
            }
            if (!wake || lane.next_try < *wake) wake = lane.next_try;
        }
        if (due == nullptr) {
            cv_.notify_all();  // WaitIdle may be waiting for this
            if (wake) {
                cv_.wait_until(lock, *wake);
            } else {
                cv_.wait(lock);
            }
            continue;
        }
        const AlertMessage message = due->waiting.front();
        delivering_ = true;
        lock.unlock();
        const Status delivered = due->channel->Deliver(message);
        lock.lock();
        delivering_ = false;
        if (delivered) {
            if (due->failures > 0) {
                log::Info(kComponent, "alert delivered after failures",
                          {{"channel", due->channel->Describe()}, {"failures", due->failures}});
            }
            due->waiting.pop_front();
            due->failures = 0;
            due->next_try = {};
            continue;
        }
        ++due->failures;
        const auto doubled = options_.retry_base * (std::int64_t{1} << std::min(due->failures - 1, 20));
        const auto delay = std::min<std::chrono::milliseconds>(doubled, options_.retry_max);
        due->next_try = std::chrono::steady_clock::now() + delay;
        log::Warn(kComponent, "alert delivery failed; trying again",
                  {{"channel", due->channel->Describe()},
                   {"error", delivered.error().message},
                   {"attempt", due->failures},
                   {"retry_in_ms", static_cast<std::int64_t>(delay.count())}});
    }
}

}  // namespace spacehook::watch
