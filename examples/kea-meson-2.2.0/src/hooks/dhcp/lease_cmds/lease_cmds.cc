// keapack example: a small double of Kea's open-source lease_cmds hook.
// It is a real Kea 2.2 hook library: it loads into kea-dhcp4/kea-dhcp6,
// logs LEASE_CMDS_INIT_OK and registers the lease4-get and lease6-get
// commands, which answer with a fixed "not implemented by the double" result.

#include <config.h>

#include <cc/command_interpreter.h>
#include <cc/data.h>
#include <exceptions/exceptions.h>
#include <hooks/hooks.h>
#include <process/daemon.h>
#include <lease_cmds_log.h>

#include <string>

using namespace isc::config;
using namespace isc::data;
using namespace isc::hooks;
using namespace isc::lease_cmds;

namespace {

int
leaseGet(CalloutHandle& handle, const std::string& name) {
    LOG_INFO(lease_cmds_logger, LEASE_CMDS_GET).arg(name);
    // Kea's "empty" result: the command worked and found nothing.
    ConstElementPtr response =
        createAnswer(CONTROL_RESULT_EMPTY, "Lease not found.");
    handle.setArgument("response", response);
    return (0);
}

} // anonymous namespace

extern "C" {

int lease4_get(CalloutHandle& handle) {
    return (leaseGet(handle, "lease4-get"));
}

int lease6_get(CalloutHandle& handle) {
    return (leaseGet(handle, "lease6-get"));
}

/// @brief Kea hooks framework version this library was built for.
int version() {
    return (KEA_HOOKS_VERSION);
}

/// @brief Called by Kea when the library is loaded.
int load(LibraryHandle& handle) {
    // Like Kea's own hooks: refuse the wrong daemon.
    const std::string proc_name = isc::process::Daemon::getProcName();
    if ((proc_name != "kea-dhcp4") && (proc_name != "kea-dhcp6")) {
        isc_throw(isc::Unexpected, "Bad process name: " << proc_name
                  << ", expected kea-dhcp4 or kea-dhcp6");
    }

    handle.registerCommandCallout("lease4-get", lease4_get);
    handle.registerCommandCallout("lease6-get", lease6_get);

    LOG_INFO(lease_cmds_logger, LEASE_CMDS_INIT_OK);
    return (0);
}

/// @brief Called by Kea when the library is unloaded.
int unload() {
    LOG_INFO(lease_cmds_logger, LEASE_CMDS_DEINIT_OK);
    return (0);
}

/// @brief The library may be used by a multi-threaded Kea.
int multi_threading_compatible() {
    return (1);
}

} // extern "C"
