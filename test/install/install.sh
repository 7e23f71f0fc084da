#!/usr/bin/env bash
# install.sh BUILD SRC SANITIZE CC: `meson install --destdir` into a scratch
# root, then use what it installed as a user would:
#   - the file list: libkmm.so with its soname, libkmm.a, the headers, kmm.pc
#     (with Libs.private for static links), bin/kmm-run, libkmm(3), kmm(7),
#     kmm-run(1);
#   - a program linked through pkg-config, dynamically and statically (the
#     static one with no libkmm.so at run time), whose malloc must be libkmm's;
#   - the installed kmm-run running a plain program on the installed library
#     (--stats=slabinfo shows libkmm's view at exit);
#   - the uninstalled kmm.pc of the build folder (build/meson-uninstalled).
# Exit 77 (skip) in sanitizer builds: their library needs the sanitizer runtime.
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
sanitize=$3
cc=${4:-cc}
[[ $sanitize == none ]] || { echo "skip: a $sanitize build"; exit 77; }
command -v pkg-config >/dev/null || { echo "skip: no pkg-config"; exit 77; }

# Only the paths given here: meson test points LD_LIBRARY_PATH at the build.
unset LD_LIBRARY_PATH LD_PRELOAD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
fail=0
check() { # check DESCRIPTION COMMAND...: run COMMAND, count a failure if it fails
	local what=$1; shift
	if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fail=1; fi
}

meson install -C "$build" --destdir "$root" --no-rebuild --quiet >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; echo "FAIL: meson install"; exit 1; }

pc=$(find "$root" -name kmm.pc)
[[ -n $pc ]] || { echo "FAIL: no kmm.pc installed"; exit 1; }
libdir=$(dirname "$(dirname "$pc")")
prefix=$(dirname "$(dirname "$(find "$root" -path '*/include/kmm' -type d)")")
kmmrun=$(find "$root" -path '*/bin/kmm-run')
man=$(find "$root" -type d -name man | head -1)

# The file list.
check "libkmm.so.0 with soname libkmm.so.0" \
	bash -c "readelf -d '$libdir/libkmm.so.0' | grep -q 'SONAME.*\\[libkmm.so.0\\]'"
check "libkmm.so -> libkmm.so.0 for -lkmm" test "$(readlink "$libdir/libkmm.so")" = libkmm.so.0
check "libkmm.a holds malloc and kmm_kmalloc" \
	bash -c "nm '$libdir/libkmm.a' 2>/dev/null | grep -q ' T malloc$' &&
		 nm '$libdir/libkmm.a' 2>/dev/null | grep -q ' T kmm_kmalloc$'"
for h in kmm gfp page slab vmalloc mempool numa linux; do
	check "include/kmm/$h.h" test -f "$prefix/include/kmm/$h.h"
done
check "every header of include/kmm installed" \
	bash -c "cd '$src/include/kmm' && for h in *.h; do test -f '$prefix/include/kmm/'\$h || exit 1; done"
check "kmm.pc: Libs.private -lpthread" grep -q '^Libs.private:.*-lpthread' "$pc"
check "bin/kmm-run executable" test -x "$kmmrun"
check "man3/libkmm.3" test -f "$man/man3/libkmm.3"
check "man7/kmm.7" test -f "$man/man7/kmm.7"
check "man1/kmm-run.1" test -f "$man/man1/kmm-run.1"

# Linking through pkg-config, relocated into the scratch root.
export PKG_CONFIG_PATH=$libdir/pkgconfig PKG_CONFIG_SYSROOT_DIR=$root
export PKG_CONFIG_LIBDIR=$libdir/pkgconfig
# shellcheck disable=SC2046
"$cc" -o "$tmp/prog" "$src/test/install/prog.c" $(pkg-config --cflags --libs kmm) ||
	{ echo "FAIL: dynamic link through pkg-config"; exit 1; }
check "dynamic: needs libkmm.so.0" \
	bash -c "readelf -d '$tmp/prog' | grep -q 'NEEDED.*\\[libkmm.so.0\\]'"
check "dynamic: loads the scratch root's libkmm.so.0" \
	bash -c "LD_LIBRARY_PATH='$libdir' ldd '$tmp/prog' | grep -q '=> $libdir/libkmm.so.0'"
check "dynamic: runs on the installed libkmm.so.0" \
	bash -c "LD_LIBRARY_PATH='$libdir' '$tmp/prog' | grep -q '^prog: on libkmm'"
check "dynamic: fails to start without the library (it is really needed)" \
	bash -c "! '$tmp/prog' >/dev/null 2>&1 || ldconfig -p | grep -q libkmm.so.0"

# shellcheck disable=SC2046
if "$cc" -static -o "$tmp/prog-static" "$src/test/install/prog.c" \
	$(pkg-config --static --cflags --libs kmm) 2>"$tmp/static.log"; then
	check "static: no shared libraries" \
		bash -c "! readelf -d '$tmp/prog-static' 2>/dev/null | grep -q NEEDED"
	check "static: malloc is libkmm's" \
		bash -c "'$tmp/prog-static' | grep -q '^prog: on libkmm'"
else
	cat "$tmp/static.log"
	echo "FAIL: static link with pkg-config --static"; fail=1
fi
# Only libkmm static, the C library shared: libkmm.a named through the .pc.
# shellcheck disable=SC2046
"$cc" -o "$tmp/prog-a" "$src/test/install/prog.c" $(pkg-config --cflags kmm) \
	-Wl,-Bstatic $(pkg-config --static --libs kmm) -Wl,-Bdynamic ||
	{ echo "FAIL: link with libkmm.a"; fail=1; }
check "libkmm.a: no libkmm.so.0 needed" \
	bash -c "! readelf -d '$tmp/prog-a' | grep -q 'libkmm'"
check "libkmm.a: malloc is libkmm's" bash -c "'$tmp/prog-a' | grep -q '^prog: on libkmm'"

# The installed kmm-run finds the installed library by itself.
"$cc" -o "$tmp/plain" "$src/test/install/plain.c"
(cd "$tmp" && "$kmmrun" --stats=slabinfo -- ./plain >"$tmp/run.out" 2>"$tmp/run.err") ||
	{ cat "$tmp/run.err"; echo "FAIL: kmm-run"; fail=1; }
check "kmm-run: preloads the library of the scratch root" \
	grep -q "^LD_PRELOAD=$libdir/libkmm.so" "$tmp/run.out"
check "kmm-run --stats=slabinfo: libkmm's slabinfo at exit" \
	grep -q '^slabinfo - version: 2.1' "$tmp/run.err"
check "kmm-run --lib PATH" bash -c "'$kmmrun' --lib '$build/libkmm.so' -- '$tmp/plain' |
	grep -q '^LD_PRELOAD=$(readlink -f "$build/libkmm.so")'"
check "kmm-run: no program is an error" bash -c "! '$kmmrun' >/dev/null 2>&1"

# The uninstalled .pc: build a program against the build folder.
unset PKG_CONFIG_SYSROOT_DIR
export PKG_CONFIG_PATH=$build/meson-uninstalled PKG_CONFIG_LIBDIR=$build/meson-uninstalled
# shellcheck disable=SC2046
"$cc" -o "$tmp/prog-uninst" "$src/test/install/prog.c" $(pkg-config --cflags --libs kmm) ||
	{ echo "FAIL: link with build/meson-uninstalled/kmm-uninstalled.pc"; fail=1; }
check "uninstalled .pc: runs on the build's libkmm.so" \
	bash -c "LD_LIBRARY_PATH='$build' '$tmp/prog-uninst' | grep -q '^prog: on libkmm'"

exit $fail
