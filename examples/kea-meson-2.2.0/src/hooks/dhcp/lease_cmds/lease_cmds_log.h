// keapack example: a small double of Kea's open-source lease_cmds hook.

#ifndef LEASE_CMDS_LOG_H
#define LEASE_CMDS_LOG_H

#include <log/logger.h>
#include <log/macros.h>
#include <log/message_types.h>

namespace isc {
namespace lease_cmds {

/// Message IDs (Kea generates these from a .mes file with kea-msg-compiler;
/// the double defines them in C++, see lease_cmds_log.cc).
extern const isc::log::MessageID LEASE_CMDS_INIT_OK;
extern const isc::log::MessageID LEASE_CMDS_DEINIT_OK;
extern const isc::log::MessageID LEASE_CMDS_GET;

/// Logger for the lease_cmds hook library.
extern isc::log::Logger lease_cmds_logger;

} // namespace lease_cmds
} // namespace isc

#endif // LEASE_CMDS_LOG_H
