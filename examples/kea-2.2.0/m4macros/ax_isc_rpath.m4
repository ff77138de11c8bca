dnl @synopsis AX_ISC_RPATH
dnl
dnl @summary figure out whether and which "rpath" linker option is available
dnl
dnl Sets ISC_RPATH_FLAG to the linker option embedding a run-time library
dnl path (-Wl,-R or -R), to be used for libraries found in uncommon places.
dnl With --disable-rpath (as Debian and Fedora build Kea) it stays empty.

AC_DEFUN([AX_ISC_RPATH], [

AC_ARG_ENABLE(rpath,
    [AS_HELP_STRING([--disable-rpath],[don't hardcode library path into binaries])],
    rpath=$enableval, rpath=yes)

ISC_RPATH_FLAG=
if test x$rpath != xno; then
    CXXFLAGS_SAVED="$CXXFLAGS"
    CXXFLAGS="$CXXFLAGS -Wl,-R/usr/lib"
    AC_MSG_CHECKING([whether -Wl,-R flag is available in linker])
    AC_LINK_IFELSE([AC_LANG_PROGRAM([[]], [[]])],
        [AC_MSG_RESULT(yes)
         ISC_RPATH_FLAG=-Wl,-R],
        [AC_MSG_RESULT(no)
         AC_MSG_CHECKING([whether -R flag is available in linker])
         CXXFLAGS="$CXXFLAGS_SAVED -R/usr/lib"
         AC_LINK_IFELSE([AC_LANG_PROGRAM([[]], [[]])],
             [AC_MSG_RESULT(yes)
              ISC_RPATH_FLAG=-R],
             [AC_MSG_RESULT(no)])])
    CXXFLAGS=$CXXFLAGS_SAVED
fi

])dnl AX_ISC_RPATH
