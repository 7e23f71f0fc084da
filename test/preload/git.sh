#!/bin/bash
# git on a generated repository: 300 files of fixed-seed text in 10 directories
# edited over 8 commits on main (edits, renames, deletes, new files), a feature
# branch and a conflicting hotfix branch merged back (-X theirs), a rebase;
# then log --stat and -p, diffs, blame, pickaxe, grep, format-patch, archive,
# a fast-export/fast-import round trip, gc, a single-threaded repack (its
# pack's sha256 is compared) and fsck.  Author, committer and dates are fixed,
# so every hash and line of output is deterministic and must match glibc's.
# Usage: test/preload/git.sh /path/to/libmalloc.so
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
pl_init "$@"
pl_need git git

# The awk functions both generators share: a seeded random number and a line
# of 2-10 random words.
export AWK_TEXT='
	function rnd(k) { x = (x * 16807) % 2147483647; return x % k }
	function text(   s, w, i, j, m) {
		s = ""; w = 2 + rnd(9)
		for (i = 0; i < w; i++) {
			m = 1 + rnd(9)
			for (j = 0; j < m; j++) s = s substr("abcdefghijklmnopqrstuvwxyz", 1 + rnd(26), 1)
			s = s (i + 1 < w ? " " : "")
		}
		return s
	}'

# gen_files DIR FIRST N SEED: create DIR/fFIRST.txt.. with 20-120 lines each.
gen_files() {
	mkdir -p "$1"
	awk -v dir="$1" -v first="$2" -v n="$3" -v x="$4" '
	'"$AWK_TEXT"'
	BEGIN {
		for (f = first; f < first + n; f++) {
			name = sprintf("%s/f%03d.txt", dir, f)
			lines = 20 + rnd(101)
			for (l = 0; l < lines; l++) print text() > name
			close(name)
		}
	}'
}

# mutate SEED PERCENT < FILE-LIST: edit PERCENT% of the files: lines replaced,
# deleted and inserted at random.
mutate() {
	awk -v x="$1" -v pct="$2" '
	'"$AWK_TEXT"'
	{
		f = $0
		if (rnd(100) >= pct) next
		n = 0
		while ((getline l < f) > 0) a[++n] = l
		close(f)
		printf "" > f
		for (i = 1; i <= n; i++) {
			r = rnd(100)
			if (r < 5) continue
			print (r < 15 ? text() : a[i]) > f
			if (r >= 95) print text() > f
		}
		close(f)
	}'
}

commit_at() { # commit_at N MESSAGE: commit everything at a fixed time
	export GIT_AUTHOR_DATE="@$((1700000000 + $1 * 3600)) +0000"
	export GIT_COMMITTER_DATE=$GIT_AUTHOR_DATE
	git add -A
	git commit -q -m "$2" -m "Generated commit $1 of the libkmm preload test."
}

workload() {
	export HOME=$PWD/home GIT_CONFIG_NOSYSTEM=1 GIT_PAGER=cat PAGER=cat
	export GIT_AUTHOR_NAME="Ada Alloc" GIT_AUTHOR_EMAIL=ada@example.org
	export GIT_COMMITTER_NAME="Bob Buddy" GIT_COMMITTER_EMAIL=bob@example.org
	mkdir "$HOME"
	git config --global init.defaultBranch main
	git config --global gc.auto 0
	git config --global maintenance.auto false
	git config --global advice.detachedHead false
	git init -q repo
	cd repo || return 1

	local k d
	for d in 0 1 2 3 4 5 6 7 8 9; do gen_files "d$d" 0 30 $((1000 + d)); done
	commit_at 1 "initial: 300 files"
	git tag c1
	for k in 2 3 4 5; do
		git ls-files | mutate $((k * 7919)) 25
		git mv "d$k/f001.txt" "d$k/renamed$k.txt"
		git rm -q -f "d$k/f002.txt"
		gen_files "d$k" $((100 + k)) 3 $((2000 + k))
		commit_at "$k" "edit round $k"
		git tag "c$k"
	done

	git checkout -q -b feature c5
	for k in 1 2 3; do
		git ls-files d9 | mutate $((k * 104729)) 60
		gen_files feat $((k * 10)) 4 $((3000 + k))
		commit_at $((20 + k)) "feature step $k"
	done
	git checkout -q -b hotfix c5
	git ls-files d0 | mutate 77 80
	commit_at 30 "hotfix: rewrite d0"

	git checkout -q main
	for k in 6 7 8; do
		git ls-files 'd[0-8]' | mutate $((k * 7919)) 25
		git mv "d$k/f001.txt" "d$k/renamed$k.txt"
		git rm -q -f "d$k/f002.txt"
		commit_at "$k" "edit round $k"
		git tag "c$k"
	done
	export GIT_AUTHOR_DATE="@1700100000 +0000" GIT_COMMITTER_DATE="@1700100000 +0000"
	git merge -q --no-ff -m "merge feature" feature
	export GIT_AUTHOR_DATE="@1700200000 +0000" GIT_COMMITTER_DATE="@1700200000 +0000"
	git merge -q --no-ff -X theirs -m "merge hotfix (theirs)" hotfix
	git checkout -q -b rebased feature
	git rebase -q c8
	git checkout -q main

	echo "== branches and history"
	git branch -v
	git log --graph --oneline --all
	git rev-list --count --all
	echo "== log --stat"
	git log --stat -M --format=fuller main
	echo "== diff c2 c8 --stat / numstat / full"
	git diff --stat -M c2 c8
	git diff --numstat c3 main
	git diff -M c4 c7
	git diff --word-diff c6 main -- d0 | sed -n '1,400p'
	echo "== blame"
	git blame -M -C c8 -- d0/f005.txt
	git blame --line-porcelain main -- d9/f010.txt | grep -c '^author Ada'
	local f
	for f in $(git ls-files d1 d4); do git blame -M main -- "$f"; done | sha256sum
	echo "== log -p, fast-export / fast-import round trip"
	git log -p --all --histogram -M -C | sha256sum
	git log -p --all --patience --stat | wc -l
	git fast-export --all --signed-tags=strip >../export.stream
	sha256sum <../export.stream
	git init -q --bare ../copy.git
	git -C ../copy.git fast-import --quiet <../export.stream
	git -C ../copy.git for-each-ref --format='%(objectname) %(refname)'
	echo "== pickaxe and grep"
	git log --format='%h %s' -S'abc' --all
	git grep -c -e 'zz' -e 'qq' main | sed -n '1,50p'
	git shortlog -s -n --all
	echo "== format-patch and archive"
	git format-patch --stdout c5..feature | sha256sum
	git archive --format=tar main | sha256sum
	git archive --format=zip c4 | sha256sum
	git ls-tree -r -l main | sha256sum
	echo "== gc, repack, fsck"
	git gc -q
	git count-objects -v | grep -E '^(count|in-pack|packs|garbage):'
	# one thread: the same objects give the same deltas, so the same pack bytes
	git -c pack.threads=1 repack -a -d -f -q --window=20
	git count-objects -v | grep -E '^(count|in-pack|packs|garbage):'
	sha256sum .git/objects/pack/*.pack | sed 's/ .*//'
	git cat-file --batch-all-objects --batch-check | sort | sha256sum
	git fsck --full --strict --no-progress
	git verify-pack "$(ls .git/objects/pack/*.idx)"
	git log --oneline -1
}

pl_compare workload
