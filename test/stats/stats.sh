#!/usr/bin/env bash
# stats.sh LIBKMM WATCH_PROG SIGNAL_PROG - the live views (src/stats.c).
#   kmm-run --watch 0.5 on a 2.2 s program: at least 2 dumps, each with
#   slabtop's totals and meminfo; kmalloc-224 (its 3000 blocks) on top; the
#   program's exit status passes through.
#   KMM_STATS_SIGNAL=SIGUSR2 with threads allocating (rseq, then the locked
#   paths): the views come out and the program ends (no deadlock) in time.
#   KMM_STATS at exit reaches stderr even if the program closed it (ls).
set -u
lib=${1:?usage: stats.sh LIBKMM WATCH_PROG SIGNAL_PROG}
watch_prog=${2:?}
signal_prog=${3:?}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kmm_run="$here/../../LD_PRELOAD/kmm-run"
case "${LD_PRELOAD:-}" in *vgpreload*) echo "SKIP: under valgrind"; exit 77 ;; esac
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fail=0
check() { # check DESCRIPTION COMMAND...
	if ! "${@:2}"; then
		echo "FAIL: $1"
		fail=1
	fi
}
count() { grep -c -e "$1" "$out"; }

timeout 60 "$kmm_run" --lib "$lib" --watch 0.5 -- "$watch_prog" 2>"$out"
status=$?
echo "== kmm-run --watch 0.5 $watch_prog: exit $status, $(count '^==== libkmm stats') dumps"
head -12 "$out"
check "exit status $status, not the program's 3" test "$status" -eq 3
check "fewer than 2 dumps" test "$(count '^==== libkmm stats: pid [0-9]*, [0-9]* ms ====$')" -ge 2
check "fewer than 2 slabtop summaries" test "$(count '^ Active / Total Objects (% used) *: [0-9]')" -ge 2
check "fewer than 2 meminfo" test "$(count '^MemTotal: ')" -ge 2
check "kmalloc-224 is not the top cache" \
	bash -c "grep -A1 -m1 '  OBJS ACTIVE' '$out' | tail -1 | grep -Eq '^ +[0-9]+ +(29|30)[0-9][0-9] .* kmalloc-224\$'"

for env in KMM_RSEQ=1 KMM_RSEQ=0; do
	start=$(date +%s)
	env "$env" KMM_STATS_SIGNAL=SIGUSR2 LD_PRELOAD="$lib" timeout 60 "$signal_prog" 2>"$out"
	status=$?
	echo "== $env KMM_STATS_SIGNAL=SIGUSR2 $signal_prog: exit $status in $(($(date +%s) - start)) s," \
		"$(count '^==== libkmm stats') dumps"
	check "$env: exit $status (124: a deadlock)" test "$status" -eq 0
	check "$env: no dump" test "$(count '^==== libkmm stats')" -ge 1
	check "$env: no slabtop" test "$(count '^ Active / Total Objects')" -ge 1
done

KMM_STATS_SIGNAL=SIGUSR2 LD_PRELOAD="$lib" timeout 60 "$signal_prog" quiet 2>"$out"
check "no signal, yet a dump" test "$(count '^==== libkmm stats')" -eq 0

# KMM_STATS at exit from a program that closes stderr first (coreutils'
# close_stdout()): the views still come out, on the stderr of the start.
KMM_STATS=meminfo LD_PRELOAD="$lib" ls / >/dev/null 2>"$out"
echo "== KMM_STATS=meminfo ls /: $(count '^MemTotal: ') meminfo"
check "KMM_STATS=meminfo ls: no view at exit" test "$(count '^MemTotal: ')" -eq 1
exit $fail
