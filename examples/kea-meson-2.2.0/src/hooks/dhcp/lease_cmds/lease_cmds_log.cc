// keapack example: a small double of Kea's open-source lease_cmds hook.

#include <config.h>

#include <log/message_initializer.h>
#include <lease_cmds_log.h>

namespace isc {
namespace lease_cmds {

extern const isc::log::MessageID LEASE_CMDS_INIT_OK = "LEASE_CMDS_INIT_OK";
extern const isc::log::MessageID LEASE_CMDS_DEINIT_OK = "LEASE_CMDS_DEINIT_OK";
extern const isc::log::MessageID LEASE_CMDS_GET = "LEASE_CMDS_GET";

isc::log::Logger lease_cmds_logger("lease-cmds-hooks");

} // namespace lease_cmds
} // namespace isc

namespace {

const char* values[] = {
    "LEASE_CMDS_INIT_OK", "loading Lease Commands hooks library successful",
    "LEASE_CMDS_DEINIT_OK", "unloaded Lease Commands hooks library successfully",
    "LEASE_CMDS_GET", "lease_cmds double answered %1",
    NULL
};

const isc::log::MessageInitializer initializer(values);

} // anonymous namespace
