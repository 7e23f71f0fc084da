# bench/peers.sh - sourced by bench/vmalloc.sh and bench/rss.sh: the
# allocators to compare and the helpers to read their output.
#   peers KMM VARIANT=ENV...  fills pre[] (the library to preload, "" for
#                             glibc), envs[] (extra environment) and order[]
#                             (those present here): libkmm, each libkmm
#                             variant given, glibc, jemalloc, mimalloc, tcmalloc
#   run A ARGS...             runs ARGS under allocator A
#   median                    the median of numbers on stdin
#   field NAME                NAME=value out of "k=v" lines on stdin
declare -A pre=() envs=()
order=()
peers() {
	local kmm=$1 lib=/usr/lib/x86_64-linux-gnu v a
	shift
	pre=([libkmm]="$kmm" [glibc]="" [jemalloc]="$lib/libjemalloc.so.2"
		[mimalloc]="$lib/libmimalloc.so.2" [tcmalloc]="$lib/libtcmalloc_minimal.so.4")
	local names=(libkmm)
	for v in "$@"; do
		pre[${v%%=*}]=$kmm
		envs[${v%%=*}]=${v#*=}
		names+=("${v%%=*}")
	done
	names+=(glibc jemalloc mimalloc tcmalloc)
	for a in "${names[@]}"; do
		[ -z "${pre[$a]}" ] || [ -e "${pre[$a]}" ] && order+=("$a")
	done
}
run() {
	local a=$1
	shift
	env ${envs[$a]:-} ${pre[$a]:+LD_PRELOAD=${pre[$a]}} "$@"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
field() { sed -n "s/.*[ ^]$1=\([0-9]*\).*/\1/p;s/^$1=\([0-9]*\).*/\1/p"; }
