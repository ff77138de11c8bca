// keapack example: a stand-in for a Kea 2.2 daemon or tool.  One source,
// compiled once per program name (STANDIN_NAME).  It links only libc and
// libstdc++: the example installs the file set of a real Kea, not its code.
//   -v, -V     print "<name> stand-in <version>" and exit 0
//   -t FILE    exit 0 if FILE is readable, 1 otherwise (like a config test)
#include <cstdio>
#include <cstring>
#include <unistd.h>

#ifndef STANDIN_NAME
#error "STANDIN_NAME must be defined"
#endif
#ifndef STANDIN_VERSION
#error "STANDIN_VERSION must be defined"
#endif

int main(int argc, char* argv[]) {
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "-v") == 0 || std::strcmp(argv[i], "-V") == 0) {
            std::printf("%s stand-in %s\n", STANDIN_NAME, STANDIN_VERSION);
            return (0);
        }
        if (std::strcmp(argv[i], "-t") == 0) {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s: -t needs a FILE\n", STANDIN_NAME);
                return (1);
            }
            return (access(argv[i + 1], R_OK) == 0 ? 0 : 1);
        }
    }
    std::fprintf(stderr, "%s stand-in %s: use -v, -V or -t FILE\n", STANDIN_NAME, STANDIN_VERSION);
    return (1);
}
