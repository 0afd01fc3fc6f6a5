#pragma once

// The one mapping from the `docspace` config section to the REST client's options, shared by every
// command that talks to the portal (`serve`, `subscribe`). Header-only like store_args.hpp: src/docspace
// does not depend on src/config, so the mapping lives with the commands.

#include "config/service_config.hpp"
#include "docspace/client.hpp"

namespace spacehook::app {

inline docspace::ClientOptions DocSpaceOptionsFrom(const config::ServiceConfig::DocSpace& portal) {
    docspace::ClientOptions options;
    options.base_url = portal.api_host;
    options.api_key = portal.api_key;
    options.connect_timeout = portal.connect_timeout;
    options.total_timeout = portal.total_timeout;
    options.rate_per_second = portal.rate_per_second;
    options.burst = portal.burst;
    options.poll_interval = portal.poll_interval;
    options.poll_timeout = portal.poll_timeout;
    options.verify_tls = portal.verify_tls;
    options.ca_file = portal.ca_file;
    return options;
}

}  // namespace spacehook::app
