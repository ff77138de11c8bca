// keapack example premium overlay: a small double of Kea's premium
// flex_id hook library.  It is a real Kea 2.2 hook library: load() requires
// the "identifier-expression" parameter, like the real flex_id (otherwise
// FLEX_ID_EXPRESSION_NOT_DEFINED and load() returns 1, so Kea refuses the
// configuration).  The expression is only checked for being a non-empty
// string, not evaluated: no callouts are installed.

#include <config.h>

#include <cc/data.h>
#include <exceptions/exceptions.h>
#include <hooks/hooks.h>
#include <process/daemon.h>
#include <flex_id_log.h>

#include <string>

using namespace isc::data;
using namespace isc::hooks;
using namespace isc::flex_id;

extern "C" {

/// @brief Kea hooks framework version this library was built for.
int version() {
    return (KEA_HOOKS_VERSION);
}

/// @brief Called by Kea when the library is loaded.
int load(LibraryHandle& handle) {
    // flex_id supports kea-dhcp4 and kea-dhcp6 only.
    const std::string proc_name = isc::process::Daemon::getProcName();
    if ((proc_name != "kea-dhcp4") && (proc_name != "kea-dhcp6")) {
        isc_throw(isc::Unexpected, "Bad process name: " << proc_name
                  << ", expected kea-dhcp4 or kea-dhcp6");
    }

    ConstElementPtr expr = handle.getParameter("identifier-expression");
    if (!expr) {
        LOG_ERROR(flex_id_logger, FLEX_ID_EXPRESSION_NOT_DEFINED);
        return (1);
    }
    if (expr->getType() != Element::string) {
        LOG_ERROR(flex_id_logger, FLEX_ID_EXPRESSION_INVALID_JSON_TYPE)
            .arg(Element::typeToName(static_cast<Element::types>(expr->getType())));
        return (1);
    }
    const std::string text = expr->stringValue();
    if (text.empty()) {
        LOG_ERROR(flex_id_logger, FLEX_ID_EXPRESSION_EMPTY);
        return (1);
    }

    LOG_INFO(flex_id_logger, FLEX_ID_EXPRESSION_PARSED).arg(text);
    return (0);
}

/// @brief Called by Kea when the library is unloaded.
int unload() {
    LOG_INFO(flex_id_logger, FLEX_ID_UNLOAD);
    return (0);
}

/// @brief The library may be used by a multi-threaded Kea.
int multi_threading_compatible() {
    return (1);
}

} // extern "C"
