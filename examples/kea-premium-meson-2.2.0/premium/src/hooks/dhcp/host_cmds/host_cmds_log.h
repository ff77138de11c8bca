// keapack example premium overlay: a small double of Kea's premium
// host_cmds hook library.

#ifndef HOST_CMDS_LOG_H
#define HOST_CMDS_LOG_H

#include <log/logger.h>
#include <log/macros.h>
#include <log/message_types.h>

namespace isc {
namespace host_cmds {

/// Message IDs (Kea generates these from a .mes file with kea-msg-compiler;
/// the double defines them in C++, see host_cmds_log.cc).
extern const isc::log::MessageID HOST_CMDS_INIT_OK;
extern const isc::log::MessageID HOST_CMDS_DEINIT_OK;
extern const isc::log::MessageID HOST_CMDS_RESERV_ADD;
extern const isc::log::MessageID HOST_CMDS_RESERV_GET;

/// Logger for the host_cmds hook library.
extern isc::log::Logger host_cmds_logger;

} // namespace host_cmds
} // namespace isc

#endif // HOST_CMDS_LOG_H
