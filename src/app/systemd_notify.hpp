#pragma once
// The service manager's side of a Type=notify unit (sd_notify(3)): systemd starts the unit's dependents,
// and `systemctl start` returns, only once serve says READY=1, after it listens; `systemctl reload`
// shows the reload in progress between RELOADING=1 and READY=1; STOPPING=1 marks the drain. Outside
// systemd (no $NOTIFY_SOCKET) every call does nothing.

#include <string_view>

namespace spacehook::app {

/// READY=1 with a one-line STATUS= that `systemctl status` shows.
void NotifyReady(std::string_view status);
/// RELOADING=1 with MONOTONIC_USEC= (what systemd asks of a reloading notify service); end it with
/// NotifyReady.
void NotifyReloading();
/// STOPPING=1: the graceful shutdown began.
void NotifyStopping();
/// STATUS= alone, e.g. why the last reload was refused.
void NotifyStatus(std::string_view status);

}  // namespace spacehook::app
