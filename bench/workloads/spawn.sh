#!/bin/sh
# spawn.sh N: a shell script's pattern, the one where an allocator's own
# start-up is most of the cost: N short processes (fork, exec of /bin/echo,
# exit) from one shell, each starting the preloaded allocator.  Prints 1..N.
# With BENCH_IDLE_MS set, the idle phase: the shell sleeps, then writes its
# own VmRSS to BENCH_IDLE_FILE (bench/README.md).
n=${1:-300}
i=1
while [ "$i" -le "$n" ]; do
	/bin/echo "$i"
	i=$((i + 1))
done
if [ -n "${BENCH_IDLE_MS:-}" ]; then
	t0=$(date +%s%N)
	sleep "$(awk -v m="$BENCH_IDLE_MS" 'BEGIN { print m / 1000 }')"
	t1=$(date +%s%N)
	echo "idle_ms=$(((t1 - t0) / 1000000)) rss_kib=$(awk '/^VmRSS:/ { print $2 }' /proc/$$/status)" \
		>"$BENCH_IDLE_FILE"
fi
