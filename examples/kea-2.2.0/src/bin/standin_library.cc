// keapack example: the body of every libkea-* stand-in library.  The
// library's name and SONAME come from libtool (-version-info in Makefile.am).
extern "C" const char* keapack_standin_library() {
    return ("libkea stand-in");
}
