#!/bin/sh
# keapack example: installs the placeholders of installed-files.txt (the
# files a real Kea 2.2.0 "make install" writes that this tree does not build),
# its symbolic links and its directories, under $DESTDIR and the directories
# configure chose.  Called by "make install" (src/bin/Makefile.am) with
# INSTALL, MKDIR_P, DESTDIR and the directory variables in the environment.
# Lines marked "elf" and libtool's .la files are installed by libtool.
set -e
list=$1
if [ ! -r "$list" ]; then
    echo "install-placeholders.sh: cannot read the file list '$list'" >&2
    exit 1
fi
tmp=${TMPDIR:-/tmp}/kea-placeholder.$$
trap 'rm -f "$tmp"' EXIT

# A path of the list (written for --prefix=/usr --sysconfdir=/etc ...) under
# the directories of this configure run.  Most specific first.
where() {
    case "$1" in
        /usr/lib/x86_64-linux-gnu/*) echo "$libdir${1#/usr/lib/x86_64-linux-gnu}" ;;
        /usr/lib/python3/dist-packages/*) echo "$prefix/lib/python3/dist-packages${1#/usr/lib/python3/dist-packages}" ;;
        /usr/sbin/*) echo "$sbindir${1#/usr/sbin}" ;;
        /usr/include/*) echo "$includedir${1#/usr/include}" ;;
        /usr/share/man/*) echo "$mandir${1#/usr/share/man}" ;;
        /usr/share/doc/kea/*) echo "$docdir${1#/usr/share/doc/kea}" ;;
        /usr/share/*) echo "$datarootdir${1#/usr/share}" ;;
        /usr/*) echo "$prefix${1#/usr}" ;;
        /etc/*) echo "$sysconfdir${1#/etc}" ;;
        /var/*) echo "$localstatedir${1#/var}" ;;
        /run/*) echo "$runstatedir${1#/run}" ;;
        /usr|/etc|/var|/run) case "$1" in
            /usr) echo "$prefix" ;; /etc) echo "$sysconfdir" ;;
            /var) echo "$localstatedir" ;; /run) echo "$runstatedir" ;; esac ;;
        *) echo "install-placeholders.sh: no configure directory for '$1' in $list" >&2; return 1 ;;
    esac
}

# The content of a placeholder for PATH with MODE.
content() {
    name=${1##*/}
    case "$name" in
        kea-dhcp4.conf) echo '{ "Dhcp4": { "interfaces-config": { "interfaces": [] }, "lease-database": { "type": "memfile" } } }' ;;
        kea-dhcp6.conf) echo '{ "Dhcp6": { "interfaces-config": { "interfaces": [] }, "lease-database": { "type": "memfile" } } }' ;;
        kea-dhcp-ddns.conf) echo '{ "DhcpDdns": { "ip-address": "127.0.0.1", "port": 53001 } }' ;;
        kea-ctrl-agent.conf) echo '{ "Control-agent": { "http-host": "127.0.0.1", "http-port": 8000 } }' ;;
        *.json) echo "{ \"placeholder\": \"keapack example: $1\" }" ;;
        *.h) echo "/* keapack example: placeholder for Kea 2.2.0's $1 */" ;;
        *.py) echo "# keapack example: placeholder for Kea 2.2.0's $1" ;;
        *.[0-9]) printf '.TH %s 8 "" "Kea 2.2.0"\n.SH NAME\n%s \\- keapack example placeholder\n' "$name" "$name" ;;
        *)
            case "$2" in
                [1357]??) printf '#!/bin/sh\n# keapack example: placeholder for Kea 2.2.0'"'"'s %s\nexit 0\n' "$1" ;;
                *) case "$name" in
                       *.sh) printf '#!/bin/sh\n# keapack example: placeholder for Kea 2.2.0'"'"'s %s\nexit 0\n' "$1" ;;
                       *) echo "keapack example: placeholder for Kea 2.2.0's $1" ;;
                   esac ;;
            esac ;;
    esac
}

while read -r kind a b c; do
    case "$kind" in
        ''|'#'*) continue ;;
        d)
            dir=$(where "$a")
            $MKDIR_P "$DESTDIR$dir"
            ;;
        l)
            link=$(where "$a")
            $MKDIR_P "$DESTDIR${link%/*}"
            ln -sf "$b" "$DESTDIR$link"
            ;;
        f)
            [ "$c" = elf ] && continue
            case "$b" in *.la) continue ;; esac
            file=$(where "$b")
            content "$b" "$a" > "$tmp"
            $MKDIR_P "$DESTDIR${file%/*}"
            $INSTALL -m "$a" "$tmp" "$DESTDIR$file"
            ;;
        *)
            echo "install-placeholders.sh: $list: unknown line kind '$kind' (expected f, l or d)" >&2
            exit 1
            ;;
    esac
done < "$list"
