// keapack example premium overlay: a small double of Kea's premium
// flex_id hook library.

#ifndef FLEX_ID_LOG_H
#define FLEX_ID_LOG_H

#include <log/logger.h>
#include <log/macros.h>
#include <log/message_types.h>

namespace isc {
namespace flex_id {

/// Message IDs (Kea generates these from a .mes file with kea-msg-compiler;
/// the double defines them in C++, see flex_id_log.cc).
extern const isc::log::MessageID FLEX_ID_EXPRESSION_NOT_DEFINED;
extern const isc::log::MessageID FLEX_ID_EXPRESSION_INVALID_JSON_TYPE;
extern const isc::log::MessageID FLEX_ID_EXPRESSION_EMPTY;
extern const isc::log::MessageID FLEX_ID_EXPRESSION_PARSED;
extern const isc::log::MessageID FLEX_ID_UNLOAD;

/// Logger for the flex_id hook library.
extern isc::log::Logger flex_id_logger;

} // namespace flex_id
} // namespace isc

#endif // FLEX_ID_LOG_H
