/* An LD_PRELOAD library for tests/faults.rs: kills the process (SIGKILL) just before its Nth
 * rename, fsync or file creation whose path lies under a directory, or counts them.
 *
 *   KEAPACK_KILL_UNDER=/abs/dir   only calls on paths under this directory count
 *   KEAPACK_KILL_AT=rename:N      die before the Nth rename (rename, renameat, renameat2)
 *   KEAPACK_KILL_AT=fsync:N       die before the Nth fsync or fdatasync
 *   KEAPACK_KILL_AT=create:N      die before the Nth creation (open with O_CREAT, mkdir, link)
 *   KEAPACK_KILL_AT=count:/file   write "rename R\nfsync F\ncreate C\n" to /file at exit
 *
 * The variables are removed from the environment at load, so the programs keapack starts
 * (gpg, createrepo_c) are neither counted nor killed. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { RENAME, FSYNC, CREATE, KINDS };
static const char *names[KINDS] = {"rename", "fsync", "create"};
static char under[PATH_MAX];
static size_t under_len;
static int kind = -1;
static long target;
static char count_file[PATH_MAX];
static long counts[KINDS];

static void write_counts(void) {
    FILE *f = fopen(count_file, "w");
    if (!f) return;
    for (int k = 0; k < KINDS; k++) fprintf(f, "%s %ld\n", names[k], counts[k]);
    fclose(f);
}

__attribute__((constructor)) static void init(void) {
    const char *u = getenv("KEAPACK_KILL_UNDER"), *at = getenv("KEAPACK_KILL_AT");
    if (u && strlen(u) < sizeof under) { strcpy(under, u); under_len = strlen(under); }
    if (at && strncmp(at, "count:", 6) == 0 && strlen(at + 6) < sizeof count_file) {
        strcpy(count_file, at + 6);
        atexit(write_counts);
    } else if (at) {
        for (int k = 0; k < KINDS; k++) {
            size_t n = strlen(names[k]);
            if (strncmp(at, names[k], n) == 0 && at[n] == ':') { kind = k; target = atol(at + n + 1); }
        }
    }
    unsetenv("LD_PRELOAD");
    unsetenv("KEAPACK_KILL_AT");
    unsetenv("KEAPACK_KILL_UNDER");
}

/* Whether `path` (relative to `dirfd` when not absolute) lies under the watched directory. */
static int watched(int dirfd, const char *path) {
    if (!under_len || !path) return 0;
    char full[PATH_MAX * 2];
    if (path[0] == '/') {
        snprintf(full, sizeof full, "%s", path);
    } else {
        char link[64], dir[PATH_MAX];
        ssize_t n;
        if (dirfd == AT_FDCWD) {
            if (!getcwd(dir, sizeof dir)) return 0;
            n = (ssize_t)strlen(dir);
        } else {
            snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
            n = readlink(link, dir, sizeof dir - 1);
            if (n < 0) return 0;
            dir[n] = 0;
        }
        snprintf(full, sizeof full, "%s/%s", dir, path);
    }
    return strncmp(full, under, under_len) == 0 && (full[under_len] == '/' || full[under_len] == 0);
}

static int watched_fd(int fd) {
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 0) return 0;
    path[n] = 0;
    return watched(AT_FDCWD, path);
}

static void hit(int k) {
    counts[k]++;
    if (k == kind && counts[k] == target) raise(SIGKILL);
}

#define REAL(ret, name, ...) \
    static ret (*real)(__VA_ARGS__); \
    if (!real) real = (ret (*)(__VA_ARGS__))dlsym(RTLD_NEXT, name)

int rename(const char *a, const char *b) {
    REAL(int, "rename", const char *, const char *);
    if (watched(AT_FDCWD, a) || watched(AT_FDCWD, b)) hit(RENAME);
    return real(a, b);
}

int renameat(int fa, const char *a, int fb, const char *b) {
    REAL(int, "renameat", int, const char *, int, const char *);
    if (watched(fa, a) || watched(fb, b)) hit(RENAME);
    return real(fa, a, fb, b);
}

int renameat2(int fa, const char *a, int fb, const char *b, unsigned flags) {
    REAL(int, "renameat2", int, const char *, int, const char *, unsigned);
    if (watched(fa, a) || watched(fb, b)) hit(RENAME);
    return real(fa, a, fb, b, flags);
}

int fsync(int fd) {
    REAL(int, "fsync", int);
    if (watched_fd(fd)) hit(FSYNC);
    return real(fd);
}

int fdatasync(int fd) {
    REAL(int, "fdatasync", int);
    if (watched_fd(fd)) hit(FSYNC);
    return real(fd);
}

#define OPEN(name, ...)                                                           \
    int name(const char *p, int flags, ...) {                                     \
        mode_t mode = 0;                                                          \
        if (flags & (O_CREAT | __O_TMPFILE)) {                                    \
            va_list ap;                                                           \
            va_start(ap, flags);                                                  \
            mode = va_arg(ap, mode_t);                                            \
            va_end(ap);                                                           \
            if (watched(AT_FDCWD, p)) hit(CREATE);                                \
        }                                                                         \
        REAL(int, #name, const char *, int, ...);                                 \
        return real(p, flags, mode);                                              \
    }
OPEN(open)
OPEN(open64)

#define OPENAT(name)                                                              \
    int name(int d, const char *p, int flags, ...) {                              \
        mode_t mode = 0;                                                          \
        if (flags & (O_CREAT | __O_TMPFILE)) {                                    \
            va_list ap;                                                           \
            va_start(ap, flags);                                                  \
            mode = va_arg(ap, mode_t);                                            \
            va_end(ap);                                                           \
            if (watched(d, p)) hit(CREATE);                                       \
        }                                                                         \
        REAL(int, #name, int, const char *, int, ...);                            \
        return real(d, p, flags, mode);                                           \
    }
OPENAT(openat)
OPENAT(openat64)

int mkdir(const char *p, mode_t mode) {
    REAL(int, "mkdir", const char *, mode_t);
    if (watched(AT_FDCWD, p)) hit(CREATE);
    return real(p, mode);
}

int linkat(int fa, const char *a, int fb, const char *b, int flags) {
    REAL(int, "linkat", int, const char *, int, const char *, int);
    if (watched(fb, b)) hit(CREATE);
    return real(fa, a, fb, b, flags);
}
