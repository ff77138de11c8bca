# keapack example premium overlay for Kea 2.2.0.
#
# Unpacked at the root of the Kea source tree, this file is included by
# configure.ac's m4_sinclude(premium/config.m4) -- but only when it exists at
# autoreconf time, hence the mandatory "autoreconf -if" after unpacking.
# It replaces configure.ac's stub AX_PREMIUM.

AC_DEFUN([AX_PREMIUM],[
PREMIUM=yes
PREMIUM_DIR=premium
DISTCHECK_PREMIUM_CONFIGURE_FLAG=
INCLUDED_HOOKS="${INCLUDED_HOOKS:+$INCLUDED_HOOKS }host_cmds flex_id"

AC_CONFIG_FILES([premium/Makefile
                 premium/src/Makefile
                 premium/src/hooks/Makefile
                 premium/src/hooks/dhcp/Makefile
                 premium/src/hooks/dhcp/host_cmds/Makefile
                 premium/src/hooks/dhcp/flex_id/Makefile])
])
