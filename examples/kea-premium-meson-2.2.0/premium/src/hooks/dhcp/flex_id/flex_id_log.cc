// keapack example premium overlay: a small double of Kea's premium
// flex_id hook library.

#include <config.h>

#include <log/message_initializer.h>
#include <flex_id_log.h>

namespace isc {
namespace flex_id {

extern const isc::log::MessageID FLEX_ID_EXPRESSION_NOT_DEFINED = "FLEX_ID_EXPRESSION_NOT_DEFINED";
extern const isc::log::MessageID FLEX_ID_EXPRESSION_INVALID_JSON_TYPE = "FLEX_ID_EXPRESSION_INVALID_JSON_TYPE";
extern const isc::log::MessageID FLEX_ID_EXPRESSION_EMPTY = "FLEX_ID_EXPRESSION_EMPTY";
extern const isc::log::MessageID FLEX_ID_EXPRESSION_PARSED = "FLEX_ID_EXPRESSION_PARSED";
extern const isc::log::MessageID FLEX_ID_UNLOAD = "FLEX_ID_UNLOAD";

isc::log::Logger flex_id_logger("flex-id-hooks");

} // namespace flex_id
} // namespace isc

namespace {

const char* values[] = {
    "FLEX_ID_EXPRESSION_NOT_DEFINED", "Expression is not defined.",
    "FLEX_ID_EXPRESSION_INVALID_JSON_TYPE", "The identifier-expression is %1, but expected JSON string",
    "FLEX_ID_EXPRESSION_EMPTY", "Expression is empty.",
    "FLEX_ID_EXPRESSION_PARSED", "Expression (%1) parsed successfully.",
    "FLEX_ID_UNLOAD", "Flexible identifier library has been unloaded.",
    NULL
};

const isc::log::MessageInitializer initializer(values);

} // anonymous namespace
