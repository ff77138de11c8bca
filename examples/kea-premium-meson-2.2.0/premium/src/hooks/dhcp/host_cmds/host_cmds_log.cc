// keapack example premium overlay: a small double of Kea's premium
// host_cmds hook library.

#include <config.h>

#include <log/message_initializer.h>
#include <host_cmds_log.h>

namespace isc {
namespace host_cmds {

extern const isc::log::MessageID HOST_CMDS_INIT_OK = "HOST_CMDS_INIT_OK";
extern const isc::log::MessageID HOST_CMDS_DEINIT_OK = "HOST_CMDS_DEINIT_OK";
extern const isc::log::MessageID HOST_CMDS_RESERV_ADD = "HOST_CMDS_RESERV_ADD";
extern const isc::log::MessageID HOST_CMDS_RESERV_GET = "HOST_CMDS_RESERV_GET";

isc::log::Logger host_cmds_logger("host-cmds-hooks");

} // namespace host_cmds
} // namespace isc

namespace {

const char* values[] = {
    "HOST_CMDS_INIT_OK", "loading Host Commands hooks library successful",
    "HOST_CMDS_DEINIT_OK", "unloading Host Commands hooks library successful",
    "HOST_CMDS_RESERV_ADD", "reservation-add command received (double): %1",
    "HOST_CMDS_RESERV_GET", "reservation-get command received (double): %1",
    NULL
};

const isc::log::MessageInitializer initializer(values);

} // anonymous namespace
