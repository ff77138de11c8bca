// keapack example premium overlay: a small double of Kea's premium
// host_cmds hook library.  It is a real Kea 2.2 hook library: it loads into
// kea-dhcp4/kea-dhcp6, logs HOST_CMDS_INIT_OK and registers the commands of
// the real library (reservation-add, -get, -del, -get-all, -get-page,
// -get-by-hostname, -get-by-id), which answer with fixed results (nothing is
// stored).

#include <config.h>

#include <cc/command_interpreter.h>
#include <cc/data.h>
#include <exceptions/exceptions.h>
#include <hooks/hooks.h>
#include <process/daemon.h>
#include <host_cmds_log.h>

#include <string>

using namespace isc::config;
using namespace isc::data;
using namespace isc::hooks;
using namespace isc::host_cmds;

namespace {

/// @brief Returns the "arguments" of the received command, as text.
std::string
commandArguments(CalloutHandle& handle) {
    ConstElementPtr command;
    handle.getArgument("command", command);
    if (command && (command->getType() == Element::map)) {
        ConstElementPtr args = command->get("arguments");
        if (args) {
            return (args->str());
        }
    }
    return ("(no arguments)");
}

} // anonymous namespace

extern "C" {

int reservation_add(CalloutHandle& handle) {
    LOG_INFO(host_cmds_logger, HOST_CMDS_RESERV_ADD)
        .arg(commandArguments(handle));
    handle.setArgument("response",
                       createAnswer(CONTROL_RESULT_SUCCESS, "Host added."));
    return (0);
}

int reservation_get(CalloutHandle& handle) {
    LOG_INFO(host_cmds_logger, HOST_CMDS_RESERV_GET)
        .arg(commandArguments(handle));
    handle.setArgument("response",
                       createAnswer(CONTROL_RESULT_EMPTY, "Host not found."));
    return (0);
}

int reservation_del(CalloutHandle& handle) {
    handle.setArgument("response",
                       createAnswer(CONTROL_RESULT_ERROR,
                                    "Host not deleted (not found)."));
    return (0);
}

/// @brief The reservation-get-* listings: nothing is stored, so no host.
int reservation_list(CalloutHandle& handle) {
    handle.setArgument("response",
                       createAnswer(CONTROL_RESULT_EMPTY, "0 IPv4 host(s) found."));
    return (0);
}

/// @brief Kea hooks framework version this library was built for.
int version() {
    return (KEA_HOOKS_VERSION);
}

/// @brief Called by Kea when the library is loaded.
int load(LibraryHandle& handle) {
    // host_cmds supports kea-dhcp4 and kea-dhcp6 only.
    const std::string proc_name = isc::process::Daemon::getProcName();
    if ((proc_name != "kea-dhcp4") && (proc_name != "kea-dhcp6")) {
        isc_throw(isc::Unexpected, "Bad process name: " << proc_name
                  << ", expected kea-dhcp4 or kea-dhcp6");
    }

    handle.registerCommandCallout("reservation-add", reservation_add);
    handle.registerCommandCallout("reservation-get", reservation_get);
    handle.registerCommandCallout("reservation-del", reservation_del);
    handle.registerCommandCallout("reservation-get-all", reservation_list);
    handle.registerCommandCallout("reservation-get-page", reservation_list);
    handle.registerCommandCallout("reservation-get-by-hostname", reservation_list);
    handle.registerCommandCallout("reservation-get-by-id", reservation_list);

    LOG_INFO(host_cmds_logger, HOST_CMDS_INIT_OK);
    return (0);
}

/// @brief Called by Kea when the library is unloaded.
int unload() {
    LOG_INFO(host_cmds_logger, HOST_CMDS_DEINIT_OK);
    return (0);
}

/// @brief The library may be used by a multi-threaded Kea.
int multi_threading_compatible() {
    return (1);
}

} // extern "C"
