#!/usr/bin/env bash
# linux_h.sh BUILD SRC SANITIZE CC: kernel-style code (test/linux/ramdisk.c,
# written against <kmm/linux.h> with the kernel's names only) compiled with
# -Wall -Wextra -Werror through pkg-config against a `meson install --destdir`
# tree, then run on the installed libkmm.so.  Also compiles the header as C++.
# Exit 77 (skip) in sanitizer builds.
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
meson install -C "$build" --destdir "$root" --no-rebuild --quiet >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; echo "FAIL: meson install"; exit 1; }
pc=$(find "$root" -name kmm.pc)
libdir=$(dirname "$(dirname "$pc")")
export PKG_CONFIG_PATH=$libdir/pkgconfig PKG_CONFIG_LIBDIR=$libdir/pkgconfig
export PKG_CONFIG_SYSROOT_DIR=$root

# shellcheck disable=SC2046
"$cc" -std=gnu11 -Wall -Wextra -Werror -o "$tmp/ramdisk" "$src/test/linux/ramdisk.c" \
	$(pkg-config --cflags --libs kmm) -lpthread
echo "built ramdisk.c against $root"
KMM_ARENA_LIMIT=64M LD_LIBRARY_PATH=$libdir "$tmp/ramdisk"

if command -v c++ >/dev/null; then
	printf '#include <kmm/linux.h>\nint main() { void *p = kmalloc(8, GFP_KERNEL); kfree(p); return !p; }\n' \
		>"$tmp/cxx.cc"
	# shellcheck disable=SC2046
	c++ -Wall -Wextra -Werror -o "$tmp/cxx" "$tmp/cxx.cc" $(pkg-config --cflags --libs kmm)
	LD_LIBRARY_PATH=$libdir "$tmp/cxx"
	echo "ok: <kmm/linux.h> compiles as C++"
fi
