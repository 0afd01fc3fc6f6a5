#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "notify/chat_poster.hpp"
#include "notify/mailer.hpp"
#include "watch/alert_policy.hpp"

namespace spacehook::watch {

/// One place alert messages go: the mail to `alerts.mail`, or one of `alerts.chat`.
class AlertChannel {
public:
    virtual ~AlertChannel() = default;
    /// For the log: "mail to 2 recipients", "chat ops (slack)". Never a URL: chat URLs are credentials.
    [[nodiscard]] virtual std::string Describe() const = 0;
    virtual Status Deliver(const AlertMessage& message) = 0;
};

/// One mail to every recipient. The Message-ID is derived from the message, so a mail sent again after a
/// lost answer can be recognised as the same one.
std::unique_ptr<AlertChannel> MailAlertChannel(notify::Mailer& mailer, std::vector<std::string> recipients,
                                               std::string portal);
/// A post to a chat channel of chat.channels.
std::unique_ptr<AlertChannel> ChatAlertChannel(notify::ChatPoster& poster, std::string name,
                                               notify::ChatKind kind, std::string url, std::string portal);

struct OutboxOptions {
    std::chrono::milliseconds retry_base{1000};
    std::chrono::milliseconds retry_max{std::chrono::minutes(5)};
    /// Messages waiting per channel; past it the oldest is dropped (and logged), so a channel that is down
    /// for days does not grow without bound. Messages group what happened, so few ever wait.
    std::size_t max_waiting = 50;
};

/// Delivers alert messages on a thread of its own, so a slow or broken SMTP server or chat service holds
/// up neither the watcher nor the runner. A failed delivery is logged and tried again with backoff
/// (doubling from retry_base to retry_max) until it goes through; each channel on its own, in order.
/// Messages still waiting at Stop() are logged as not delivered (they live in memory only).
class AlertOutbox {
public:
    AlertOutbox(std::vector<std::unique_ptr<AlertChannel>> channels, OutboxOptions options = {});
    ~AlertOutbox();
    AlertOutbox(const AlertOutbox&) = delete;
    AlertOutbox& operator=(const AlertOutbox&) = delete;

    /// Queues `message` for every channel; never blocks on delivery.
    void Post(const AlertMessage& message);
    /// Messages not delivered yet, over all channels.
    [[nodiscard]] std::size_t waiting() const;
    /// Until nothing waits (true) or `timeout` passed (false).
    bool WaitIdle(std::chrono::milliseconds timeout);
    /// Ends the thread after the delivery in progress. Idempotent.
    void Stop();

private:
    using SteadyTime = std::chrono::steady_clock::time_point;
    struct Lane {
        std::unique_ptr<AlertChannel> channel;
        std::deque<AlertMessage> waiting;
        int failures = 0;
        SteadyTime next_try{};
    };
    void Loop();

    const OutboxOptions options_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::vector<Lane> lanes_;
    bool stopping_ = false;
    bool delivering_ = false;
    std::thread thread_;
};

}  // namespace spacehook::watch
