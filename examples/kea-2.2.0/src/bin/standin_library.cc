// keapack example: the body of every libkea-* stand-in library.  The
// library's name and SONAME come from libtool (-version-info in Makefile.am).
// It calls into the C library, so it needs libc.so.6 as a real library does.
#include <cstring>

extern "C" unsigned long keapack_standin_library(const char* name) {
    return (std::strlen(name));
}
