#!/usr/bin/env bash
# deb.sh SRC: build the Debian packages with `dpkg-buildpackage -b -us -uc`
# from a copy of the tree (git's files, the working tree's contents), then
#   - check each .deb's file list (dpkg-deb -c): libkmm0 the library with its
#     soname link; libkmm-dev the headers, libkmm.a, the libkmm.so link,
#     kmm.pc and libkmm(3); kmm-tools kmm-run, kmm(7) and kmm-run(1);
#   - unpack them into a scratch root (dpkg -x) and link a program against the
#     unpacked files through pkg-config, shared and static, and run it, and run
#     a plain program under the unpacked kmm-run.
# Exit 77 (skip) when dpkg-buildpackage or debhelper is missing.
set -euo pipefail
src=$(cd "$1" && pwd)
command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null ||
	{ echo "skip: dpkg-buildpackage or debhelper missing (scripts/install-deps installs them)"; exit 77; }
command -v git >/dev/null || { echo "skip: no git"; exit 77; }

# Only the paths given here: meson test points LD_LIBRARY_PATH at the build.
unset LD_LIBRARY_PATH LD_PRELOAD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # check DESCRIPTION COMMAND...
	local what=$1; shift
	if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fail=1; fi
}

# The tree as committed plus uncommitted edits, without build folders.
mkdir "$tmp/libkmm"
(cd "$src" && git ls-files -z --cached --others --exclude-standard |
	xargs -0 -I{} sh -c 'test -e "{}" && echo "{}"' | tar -cf - -T -) | tar -xf - -C "$tmp/libkmm"

echo "building the packages in $tmp/libkmm (its log ends the output on failure)"
if ! (cd "$tmp/libkmm" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
	dpkg-buildpackage -b -us -uc >"$tmp/build.log" 2>&1); then
	tail -40 "$tmp/build.log"
	echo "FAIL: dpkg-buildpackage -b -us -uc"
	exit 1
fi
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
version=$(cd "$tmp/libkmm" && dpkg-parsechangelog -SVersion)
for p in libkmm0 libkmm-dev kmm-tools; do
	deb=$tmp/${p}_${version}_$arch.deb
	[[ -f $deb ]] || { echo "FAIL: no $deb"; ls "$tmp"; exit 1; }
	dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$tmp/$p.list"
	echo "== $p:"; grep -v '/$' "$tmp/$p.list" | sed 's/^/   /'
done

has() { # has PACKAGE PATH: the package holds PATH
	grep -qx "$2" "$tmp/$1.list"
}
lib=/usr/lib/$multiarch
check "libkmm0: libkmm.so.0.*" grep -q "^$lib/libkmm.so.0\.[0-9.]*$" "$tmp/libkmm0.list"
check "libkmm0: libkmm.so.0 link" has libkmm0 "$lib/libkmm.so.0"
check "libkmm0: no development files" bash -c "! grep -qE 'include|\\.a$|\\.pc$|libkmm.so$' '$tmp/libkmm0.list'"
for h in kmm gfp page slab vmalloc mempool numa linux; do
	check "libkmm-dev: kmm/$h.h" has libkmm-dev "/usr/include/kmm/$h.h"
done
check "libkmm-dev: libkmm.a" has libkmm-dev "$lib/libkmm.a"
check "libkmm-dev: libkmm.so link" has libkmm-dev "$lib/libkmm.so"
check "libkmm-dev: kmm.pc" has libkmm-dev "$lib/pkgconfig/kmm.pc"
check "libkmm-dev: libkmm(3)" has libkmm-dev /usr/share/man/man3/libkmm.3.gz
check "kmm-tools: kmm-run" has kmm-tools /usr/bin/kmm-run
check "kmm-tools: kmm(7)" has kmm-tools /usr/share/man/man7/kmm.7.gz
check "kmm-tools: kmm-run(1)" has kmm-tools /usr/share/man/man1/kmm-run.1.gz
check "libkmm0: shlibs file" bash -c "dpkg-deb --ctrl-tarfile '$tmp/libkmm0_${version}_$arch.deb' |
	tar -tf - | grep -q shlibs"
check "kmm-tools depends on libkmm0 (= $version)" bash -c "dpkg-deb -f '$tmp/kmm-tools_${version}_$arch.deb' Depends |
	grep -q 'libkmm0 (= $version)'"

# Unpack into a scratch root and use the files.
root=$tmp/root
for p in libkmm0 libkmm-dev kmm-tools; do dpkg -x "$tmp/${p}_${version}_$arch.deb" "$root"; done
export PKG_CONFIG_PATH=$root$lib/pkgconfig PKG_CONFIG_LIBDIR=$root$lib/pkgconfig
export PKG_CONFIG_SYSROOT_DIR=$root
# shellcheck disable=SC2046
cc -o "$tmp/prog" "$src/test/install/prog.c" $(pkg-config --cflags --libs kmm)
check "a program linked against the unpacked libkmm-dev runs on libkmm0" \
	bash -c "LD_LIBRARY_PATH='$root$lib' '$tmp/prog' | grep -q '^prog: on libkmm'"
# shellcheck disable=SC2046
cc -static -o "$tmp/prog-static" "$src/test/install/prog.c" $(pkg-config --static --cflags --libs kmm)
check "the same, static (libkmm.a)" bash -c "'$tmp/prog-static' | grep -q '^prog: on libkmm'"
# shellcheck disable=SC2046
cc -std=gnu11 -Wall -Wextra -Werror -o "$tmp/ramdisk" "$src/test/linux/ramdisk.c" \
	$(pkg-config --cflags --libs kmm) -lpthread
check "kernel-style code on <kmm/linux.h>" \
	bash -c "KMM_ARENA_LIMIT=64M LD_LIBRARY_PATH='$root$lib' '$tmp/ramdisk' >/dev/null"
cc -o "$tmp/plain" "$src/test/install/plain.c"
check "the unpacked kmm-run preloads the unpacked libkmm.so.0" \
	bash -c "'$root/usr/bin/kmm-run' --stats=slabinfo -- '$tmp/plain' 2>'$tmp/run.err' |
		grep -q '^LD_PRELOAD=$root$lib/libkmm.so.0' && grep -q '^slabinfo - version' '$tmp/run.err'"
check "kmm(7) renders from the package" bash -c "MANWIDTH=80 man -l '$root/usr/share/man/man7/kmm.7.gz' 2>&1 | grep -q KMM_ARENA_LIMIT"
exit $fail
