# shellcheck shell=bash
# Shared parts of the real-program preload tests (test/preload/*.sh), sourced
# by each of them.  A test script does:
#
#   . "$(dirname "$0")/lib.sh"
#   pl_init "$@"                  # $1 = the malloc library; temp dir in $TMP
#   pl_need PACKAGE [COMMAND]     # install from Debian if missing, else skip (77)
#   workload() { ...; }           # runs in a fresh $PWD, prints what to compare
#   pl_compare workload           # glibc run vs LD_PRELOAD=$LIB run
#
# The workload runs twice under `bash -c` with `set -eEo pipefail`, always in
# the same directory ($TMP/run, moved aside after each run, so no path differs
# between the runs): once without preload (glibc's malloc) and once with
# LD_PRELOAD=$LIB exported to every program it starts (that bash itself runs
# without it).  Its stdout, its stderr
# and its exit status must be the same; otherwise the script exits 1 with a
# diff excerpt and the status (signal name for a crash, or the timeout).
# Exit codes: 0 same output, 77 a program could not be installed, 1 otherwise.
#
# Environment: PL_TIMEOUT (seconds per run, default 300), PL_KEEP=1 keeps $TMP.

set -u
export LC_ALL=C TZ=UTC
PL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PL_NAME=$(basename "$0" .sh)
PL_TIMEOUT=${PL_TIMEOUT:-300}
export PL_DIR PL_NAME

# Awk functions for the generated inputs: rnd(n), a Park-Miller generator
# (exact in awk's doubles) seeded by setting x, and word(lo, hi), lo to hi
# random lower-case letters.  Use: awk -v ... "$PL_AWK_WORDS"'BEGIN { x = ... }'.
PL_AWK_WORDS='
function rnd(n) { x = (x * 16807) % 2147483647; return x % n }
function word(lo, hi,   n, s, i) {
	n = lo + rnd(hi - lo + 1); s = ""
	for (i = 0; i < n; i++) s = s substr("abcdefghijklmnopqrstuvwxyz", 1 + rnd(26), 1)
	return s
}
'

pl_log() { printf '%s: %s\n' "$PL_NAME" "$*"; }
pl_fail() { printf '%s: FAIL: %s\n' "$PL_NAME" "$*"; exit 1; }
pl_skip() { printf '%s: SKIP: %s\n' "$PL_NAME" "$*"; exit 77; }

pl_init() {
	if [ $# -lt 1 ] || [ -z "$1" ]; then
		echo "usage: $0 /path/to/malloc-library.so" >&2
		exit 1
	fi
	LIB=$1
	[ -f "$LIB" ] || pl_fail "no such library: $LIB"
	case $LIB in
	/*) ;;
	*) LIB=$(cd "$(dirname "$LIB")" && pwd)/$(basename "$LIB") ;;
	esac
	case $LIB in
	*[[:space:]:]*) pl_fail "LD_PRELOAD cannot take a path with spaces or colons: $LIB" ;;
	esac
	LIBNAME=$(basename "$LIB")
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/kmm-preload-$PL_NAME.XXXXXX") || pl_fail "mktemp failed"
	export LIB LIBNAME TMP
	if [ "${PL_KEEP:-0}" = 1 ]; then
		trap 'echo "$PL_NAME: kept $TMP"' EXIT
	else
		trap 'rm -rf "$TMP"' EXIT
	fi
	trap 'exit 130' INT TERM HUP
	ulimit -c 0 2>/dev/null || true # a crash is reported by its signal, not a core file
}

# pl_need PACKAGE [COMMAND]: with COMMAND, it is enough that `command -v
# COMMAND` finds it; without, the Debian package must be installed.  Missing
# things are installed with apt-get (apt-get update and retry once if that
# fails); if that is impossible the test is skipped (exit 77).
pl_need() {
	local pkg=$1 cmd=${2:-}
	if [ -n "$cmd" ]; then
		command -v "$cmd" >/dev/null 2>&1 && return 0
	elif dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q ' ok installed$'; then
		return 0
	fi
	command -v apt-get >/dev/null 2>&1 || pl_skip "$pkg is missing and there is no apt-get"
	[ "$(id -u)" = 0 ] || pl_skip "$pkg is missing and only root can install it"
	pl_log "installing $pkg"
	local apt=(apt-get -y -qq -o DPkg::Lock::Timeout=300)
	if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" --no-install-recommends install "$pkg" \
		>"$TMP/apt.log" 2>&1; then
		DEBIAN_FRONTEND=noninteractive "${apt[@]}" update >>"$TMP/apt.log" 2>&1
		if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" --no-install-recommends install "$pkg" \
			>>"$TMP/apt.log" 2>&1; then
			tail -n 5 "$TMP/apt.log"
			pl_skip "could not install $pkg"
		fi
	fi
	if [ -n "$cmd" ]; then
		command -v "$cmd" >/dev/null 2>&1 || pl_skip "$pkg installed but $cmd is still not found"
	fi
	return 0
}

# The library must really be in use: ld.so ran its constructors, and libc's own
# calls to malloc and free are bound to it (they go through libc's PLT, so this
# holds exactly when the library interposes them).
pl_check_preload() {
	local out esc sym
	out=$(LD_PRELOAD=$LIB LD_DEBUG=libs /bin/true 2>&1)
	if ! printf '%s\n' "$out" | grep 'calling init: ' | grep -qF -- "/$LIBNAME"; then
		printf '%s\n' "$out" | grep -iE 'error|cannot|wrong' | head -n 5
		pl_fail "LD_PRELOAD=$LIB was not loaded (no 'calling init: .../$LIBNAME' from LD_DEBUG=libs)"
	fi
	esc=$(printf '%s' "$LIBNAME" | sed 's/[].[\*^$+?(){}|]/\\&/g')
	out=$(LD_PRELOAD=$LIB LD_BIND_NOW=1 LD_DEBUG=bindings /bin/true 2>&1)
	for sym in malloc free; do
		printf '%s\n' "$out" |
			grep -qE "binding file [^ ]*/libc\.so\.6 \[0\] to [^ ]*/$esc \[0\]: normal symbol \`$sym'" ||
			pl_fail "$LIBNAME is loaded but libc's $sym is not bound to it: the library does not interpose $sym"
	done
}

# pl_status RC: words for an exit status of a run.
pl_status() {
	local rc=$1
	if [ "$rc" -eq 0 ]; then
		echo "exit status 0"
	elif [ "$rc" -eq 124 ]; then
		echo "timed out after ${PL_TIMEOUT}s (status 124)"
	elif [ "$rc" -gt 128 ] && [ "$rc" -lt 160 ]; then
		echo "killed by signal SIG$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128))) (status $rc)"
	else
		echo "exit status $rc"
	fi
}

# pl_run TAG PRELOAD FUNCTION: one run of FUNCTION in a fresh $TMP/run, with
# LD_PRELOAD=PRELOAD if that is not empty.  Sets PL_RC and PL_SECS; leaves
# $TMP/TAG.out, $TMP/TAG.err and the directory $TMP/run.TAG.
pl_run() {
	local tag=$1 preload=$2 fn=$3 t0 t1
	rm -rf "$TMP/run" "$TMP/run.$tag"
	mkdir "$TMP/run"
	t0=$EPOCHREALTIME
	# timeout and the workload's own bash run without the preload: it is
	# exported only once that bash runs, so every program the workload starts
	# gets it, and a crash is the program's, reported by bash with its name.
	(
		cd "$TMP/run" || exit 1
		unset LD_PRELOAD
		# shellcheck disable=SC2016
		exec timeout -k 10 "$PL_TIMEOUT" bash -c '
			set -eEo pipefail
			trap '\''echo "$0: command failed with status $?: $BASH_COMMAND" >&2'\'' ERR
			if [ -n "$2" ]; then export LD_PRELOAD=$2; fi
			"$1"' "$PL_NAME" "$fn" "$preload"
	) >"$TMP/$tag.out" 2>"$TMP/$tag.err" </dev/null
	PL_RC=$?
	t1=$EPOCHREALTIME
	PL_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	mv "$TMP/run" "$TMP/run.$tag"
}

# pl_excerpt A B WHAT: a short unified diff of two files.
pl_excerpt() {
	local n
	n=$(diff "$1" "$2" | grep -c '^[<>]')
	echo "--- $3 differs ($n lines); first lines of diff -u (glibc vs preload):"
	diff -u --label "$3 (glibc)" --label "$3 (LD_PRELOAD=$LIBNAME)" "$1" "$2" | head -n 40 | cut -c1-200
}

# pl_compare FUNCTION: check the preload, run FUNCTION both ways, compare.
pl_compare() {
	local fn=$1 rc_ref secs_ref bad=0
	# shellcheck disable=SC2046
	export -f $(compgen -A function)
	pl_check_preload

	pl_run glibc "" "$fn"
	rc_ref=$PL_RC secs_ref=$PL_SECS
	if [ "$rc_ref" -ne 0 ] || [ ! -s "$TMP/glibc.out" ]; then
		echo "--- stderr of the glibc run (last lines):"
		tail -n 20 "$TMP/glibc.err"
		pl_fail "the reference run WITHOUT preload failed ($(pl_status "$rc_ref")) or printed nothing: the test or the machine is broken, not the library"
	fi

	pl_run preload "$LIB" "$fn"
	if [ "$PL_RC" -ne "$rc_ref" ]; then
		bad=1
		echo "--- run with LD_PRELOAD=$LIB: $(pl_status "$PL_RC"); without: $(pl_status "$rc_ref")"
		echo "--- stderr of the preloaded run (last lines):"
		tail -n 15 "$TMP/preload.err" | cut -c1-200
	fi
	if ! cmp -s "$TMP/glibc.out" "$TMP/preload.out"; then
		bad=1
		pl_excerpt "$TMP/glibc.out" "$TMP/preload.out" stdout
	fi
	if ! cmp -s "$TMP/glibc.err" "$TMP/preload.err"; then
		bad=1
		pl_excerpt "$TMP/glibc.err" "$TMP/preload.err" stderr
	fi
	if [ "$bad" -ne 0 ]; then
		pl_fail "output of the run with LD_PRELOAD=$LIB differs from glibc's ($(pl_status "$PL_RC"); glibc ${secs_ref}s, preload ${PL_SECS}s)"
	fi
	pl_log "ok: $(wc -l <"$TMP/glibc.out") lines of output identical with LD_PRELOAD=$LIBNAME (glibc ${secs_ref}s, preload ${PL_SECS}s)"
}
