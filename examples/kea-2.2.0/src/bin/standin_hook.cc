// keapack example: a stand-in for an open-source Kea 2.2 hook library.  It
// exports what Kea checks first when it loads a hook: version() (the hooks
// API version of the Kea it was built for) and multi_threading_compatible().
#include <cstring>

#ifndef STANDIN_HOOKS_VERSION
#error "STANDIN_HOOKS_VERSION must be defined (KEA_HOOKS_VERSION of the installed Kea)"
#endif

extern "C" {

int version() {
    return (STANDIN_HOOKS_VERSION);
}

int multi_threading_compatible() {
    return (1);
}

// Needs the C library, as a real hook does.
unsigned long keapack_standin_hook(const char* name) {
    return (std::strlen(name));
}

}
