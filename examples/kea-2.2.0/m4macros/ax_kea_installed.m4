dnl @synopsis AX_KEA_INSTALLED
dnl
dnl @summary locate the headers and libkea-* libraries of an installed Kea
dnl
dnl A real Kea tree builds its hooks against its own src/lib/*/libkea-*.la.
dnl This small example tree has no src/lib: its hooks (open-source ones in
dnl src/hooks and premium ones in premium/src/hooks) are compiled against an
dnl installed Kea of the SAME version (Debian 12: kea-dev 2.2.0), because Kea
dnl refuses a hook whose version() differs from its own KEA_HOOKS_VERSION.
dnl
dnl   --with-kea-include=DIR  (or KEA_INCLUDE=DIR) default /usr/include/kea
dnl   --with-kea-libdir=DIR   (or KEA_LIBDIR=DIR)  default: compiler's search path
dnl
dnl Sets and substitutes KEA_INCLUDE, KEA_LIBDIR, KEA_CPPFLAGS, KEA_LDFLAGS,
dnl KEA_HOOKS_VERSION.

AC_DEFUN([AX_KEA_INSTALLED], [

AC_ARG_VAR([KEA_INCLUDE], [directory holding the installed Kea headers (default /usr/include/kea)])
AC_ARG_VAR([KEA_LIBDIR], [directory holding the installed libkea-* libraries (default: compiler search path)])

AC_ARG_WITH([kea-include],
    [AS_HELP_STRING([--with-kea-include=DIR],
        [installed Kea headers (default: $KEA_INCLUDE or /usr/include/kea)])],
    [KEA_INCLUDE="$withval"])
AC_ARG_WITH([kea-libdir],
    [AS_HELP_STRING([--with-kea-libdir=DIR],
        [installed libkea-* libraries (default: $KEA_LIBDIR or the compiler's search path)])],
    [KEA_LIBDIR="$withval"])

if test -z "$KEA_INCLUDE"; then
    KEA_INCLUDE=/usr/include/kea
fi

AC_MSG_CHECKING([for Kea headers in $KEA_INCLUDE])
if test -f "$KEA_INCLUDE/hooks/hooks.h"; then
    AC_MSG_RESULT([yes])
else
    AC_MSG_RESULT([no])
    AC_MSG_ERROR([$KEA_INCLUDE/hooks/hooks.h not found: install the Kea development headers (Debian: kea-dev) or use --with-kea-include=DIR])
fi

# Kea refuses hooks built for another version (HOOKS_INCORRECT_VERSION),
# so the headers must be those of this very version: X.Y.Z -> X*10000+Y*100+Z.
AC_MSG_CHECKING([KEA_HOOKS_VERSION of the installed Kea headers])
KEA_HOOKS_VERSION=`$SED -n 's/^.*const int KEA_HOOKS_VERSION *= *\([[0-9]]*\);.*$/\1/p' "$KEA_INCLUDE/hooks/hooks.h"`
AC_MSG_RESULT([$KEA_HOOKS_VERSION])
kea_expected_hooks_version=`echo "$PACKAGE_VERSION" | $SED 's/-.*$//' | awk -F. '{ printf "%d", $[]1 * 10000 + $[]2 * 100 + $[]3 }'`
if test "$KEA_HOOKS_VERSION" != "$kea_expected_hooks_version"; then
    AC_MSG_ERROR([the Kea headers in $KEA_INCLUDE have KEA_HOOKS_VERSION $KEA_HOOKS_VERSION but this is Kea $PACKAGE_VERSION (expected $kea_expected_hooks_version): hooks built against them would not load])
fi

KEA_CPPFLAGS="-I$KEA_INCLUDE"
KEA_LDFLAGS=
if test -n "$KEA_LIBDIR"; then
    KEA_LDFLAGS="-L$KEA_LIBDIR"
    if test -n "$ISC_RPATH_FLAG"; then
        KEA_LDFLAGS="$KEA_LDFLAGS ${ISC_RPATH_FLAG}$KEA_LIBDIR"
    fi
fi

CPPFLAGS_SAVED="$CPPFLAGS"
LDFLAGS_SAVED="$LDFLAGS"
LIBS_SAVED="$LIBS"
CPPFLAGS="$CPPFLAGS $KEA_CPPFLAGS"
LDFLAGS="$LDFLAGS $KEA_LDFLAGS"
LIBS="-lkea-hooks -lkea-cc -lkea-log -lkea-exceptions $LIBS"

AC_MSG_CHECKING([whether the Kea hooks headers compile])
AC_COMPILE_IFELSE(
    [AC_LANG_PROGRAM(
        [[#include <hooks/hooks.h>
          #include <log/macros.h>
          #include <cc/command_interpreter.h>]],
        [[return (KEA_HOOKS_VERSION > 0 ? 0 : 1);]])],
    [AC_MSG_RESULT([yes])],
    [AC_MSG_RESULT([no])
     AC_MSG_ERROR([cannot compile against the Kea headers in $KEA_INCLUDE (is Boost installed?)])])

AC_MSG_CHECKING([whether libkea-hooks, libkea-cc, libkea-log and libkea-exceptions link])
AC_LINK_IFELSE(
    [AC_LANG_PROGRAM(
        [[#include <hooks/hooks.h>
          #include <log/logger.h>
          #include <cc/command_interpreter.h>]],
        [[isc::log::Logger logger("conftest");
          isc::data::ConstElementPtr answer = isc::config::createAnswer();
          isc::data::ConstElementPtr (isc::hooks::LibraryHandle::*get)(const std::string&) =
              &isc::hooks::LibraryHandle::getParameter;
          return ((answer && get) ? 0 : 1);]])],
    [AC_MSG_RESULT([yes])],
    [AC_MSG_RESULT([no])
     AC_MSG_ERROR([cannot link with the libkea-* libraries (install kea-dev or use --with-kea-libdir=DIR)])])

CPPFLAGS="$CPPFLAGS_SAVED"
LDFLAGS="$LDFLAGS_SAVED"
LIBS="$LIBS_SAVED"

AC_SUBST(KEA_INCLUDE)
AC_SUBST(KEA_LIBDIR)
AC_SUBST(KEA_CPPFLAGS)
AC_SUBST(KEA_LDFLAGS)
AC_SUBST(KEA_HOOKS_VERSION)

])dnl AX_KEA_INSTALLED
