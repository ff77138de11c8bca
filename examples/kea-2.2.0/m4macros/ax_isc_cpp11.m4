dnl @synopsis AX_ISC_CPP11
dnl
dnl @summary make sure $CXX compiles the C++11 the Kea 2.2 headers use
dnl
dnl Kea 2.2 requires C++11.  Modern compilers default to a later standard;
dnl older ones get -std=c++11 (or -std=c++0x) appended to CXX.

AC_DEFUN([AX_ISC_CPP11], [

CXX_SAVED=$CXX
feature=
for retry in "none" "--std=c++11" "--std=c++0x" "--std=c++1x" "fail"; do
        if test "$retry" = "fail"; then
                AC_MSG_ERROR([$feature (a C++11 feature) is not supported by $CXX_SAVED: Kea 2.2 headers need a C++11 compiler])
        fi
        if test "$retry" != "none"; then
                AC_MSG_WARN([unsupported C++11 feature])
                AC_MSG_NOTICE([retrying by adding $retry to $CXX])
                CXX="$CXX_SAVED $retry"
        fi

        feature="atomic, mutex, auto, lambda, nullptr, static_assert"
        AC_MSG_CHECKING([whether $CXX supports $feature])
        AC_COMPILE_IFELSE(
            [AC_LANG_PROGRAM(
                [[#include <atomic>
                  #include <functional>
                  #include <memory>
                  #include <mutex>
                  #include <type_traits>]],
                [[std::atomic<bool> flag(false);
                  std::mutex mtx;
                  std::lock_guard<std::mutex> lk(mtx);
                  auto p = std::make_shared<int>(1);
                  std::function<int(int)> f = [&p](int x) { return (x + *p); };
                  static_assert(std::is_integral<long>::value, "");
                  int* np = nullptr;
                  return ((flag ? 1 : 0) + f(0) + (np ? 1 : 0));]])],
            [AC_MSG_RESULT([yes])
             break],
            [AC_MSG_RESULT([no])
             continue])
done

])dnl AX_ISC_CPP11
