#!/bin/sh
# sqlite_idle.sh: the idle phase of bench/run for sqlite3 (see bench_idle()
# in common.h).  The sqlite script ends with ".open :memory:" (closing the
# database, which frees it) and ".system sh sqlite_idle.sh": this sleeps
# BENCH_IDLE_MS milliseconds while sqlite3 waits in system(), then writes
# "idle_ms=N rss_kib=N" (the VmRSS of the sqlite3 process) to
# BENCH_IDLE_FILE.  Without those variables it does nothing.
[ -n "${BENCH_IDLE_MS:-}" ] && [ -n "${BENCH_IDLE_FILE:-}" ] || exit 0
p=$PPID
while [ "$(cat "/proc/$p/comm" 2>/dev/null)" != sqlite3 ]; do
	p=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
	[ "${p:-0}" -gt 1 ] || exit 1
done
s=$(date +%s%N)
sleep "$(awk -v m="$BENCH_IDLE_MS" 'BEGIN { print m / 1000 }')"
e=$(date +%s%N)
echo "idle_ms=$(((e - s) / 1000000)) rss_kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status")" \
	>"$BENCH_IDLE_FILE"
