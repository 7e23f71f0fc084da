#!/bin/bash
# gcc -O2 compiles a large generated C file (fixed-seed awk: thousands of
# functions, big switch statements, large initializers); gcc, cc1, as, collect2
# and ld all run preloaded.  The object (sha256, section sizes, disassembly),
# the linked program and its output must match glibc's (-frandom-seed=1 makes
# gcc deterministic for the same input and flags).
# Usage: test/preload/gcc.sh /path/to/libmalloc.so
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
pl_init "$@"
pl_need gcc gcc
pl_need libc6-dev
pl_need binutils objdump

awk -v x=777 -v nfunc=1200 -v ntab=40 '
function rnd(k) { x = (x * 16807) % 2147483647; return x % k }
function expr(depth,   r) {
	r = rnd(depth > 1 ? 3 : 7)
	if (r == 0) return "v"
	if (r == 1) return sprintf("%uu", rnd(100000))
	if (r == 2) return sprintf("tab%d[(v >> %d) & 1023]", rnd(ntab), rnd(20))
	if (r == 3) return "(" expr(depth + 1) " + " expr(depth + 1) ")"
	if (r == 4) return "(" expr(depth + 1) " ^ (" expr(depth + 1) " << " (1 + rnd(7)) "))"
	if (r == 5) return "(" expr(depth + 1) " * " (1 + 2 * rnd(1000)) "u)"
	return "(" expr(depth + 1) " >> " (1 + rnd(9)) ")"
}
BEGIN {
	print "#include <stdio.h>"
	print "#include <string.h>"
	print "struct rec { const char *name; unsigned id; unsigned short w[4]; double d; };"
	for (t = 0; t < ntab; t++) {
		printf "static const unsigned tab%d[1024] = {", t
		for (i = 0; i < 1024; i++) printf "%s%u", (i == 0 ? "\n\t" : i % 16 ? ", " : ",\n\t"), rnd(2147483647)
		print "\n};"
	}
	print "static const struct rec recs[] = {"
	for (i = 0; i < 3000; i++)
		printf "\t{ \"rec%d_%x\", %u, { %u, %u, %u, %u }, %d.%03d },\n", i, rnd(65536), rnd(1000000),
			rnd(65536), rnd(65536), rnd(65536), rnd(65536), rnd(1000), rnd(1000)
	print "};"
	for (f = 0; f < nfunc; f++) {
		printf "static unsigned f%d(unsigned v)\n{\n", f
		if (f % 10 == 0) {
			ncase = 20 + rnd(100)
			printf "\tswitch (v %% %du) {\n", ncase + 7
			for (c = 0; c < ncase; c++) printf "\tcase %d: v = %s; break;\n", c, expr(0)
			printf "\tdefault: v = %s;\n\t}\n", expr(0)
		} else if (f % 5 == 1) {
			printf "\tfor (unsigned i = 0; i < %uu; i++)\n\t\tv = %s + i;\n", 1 + rnd(16), expr(0)
		} else if (f % 5 == 2) {
			printf "\tchar buf[64];\n\tint n = snprintf(buf, sizeof buf, \"%%u:%s\", v);\n", "s" f
			printf "\tfor (int i = 0; i < n; i++) v = v * 31u + (unsigned char)buf[i];\n"
			printf "\tv ^= recs[v %% 3000u].id + recs[v %% 3000u].w[v & 3];\n"
		} else {
			printf "\tif (v & %uu)\n\t\tv = %s;\n\telse\n\t\tv = %s;\n", 1 + rnd(255), expr(0), expr(0)
		}
		if (f > 0 && rnd(3) == 0) printf "\tv += f%d(v >> 3) & 0xffu;\n", rnd(f)
		print "\treturn v;\n}"
	}
	print "typedef unsigned (*fn)(unsigned);"
	printf "static fn const fns[%d] = {", nfunc
	for (f = 0; f < nfunc; f++) printf "%sf%d", (f == 0 ? "\n\t" : f % 12 ? ", " : ",\n\t"), f
	print "\n};"
	print "int main(void)\n{\n\tunsigned h = 2166136261u;"
	print "\tfor (unsigned r = 0; r < 20; r++)"
	printf "\t\tfor (unsigned i = 0; i < %du; i++)\n", nfunc
	print "\t\t\th = (h ^ fns[i](h + r)) * 16777619u;"
	print "\tdouble d = 0;\n\tsize_t len = 0;"
	print "\tfor (unsigned i = 0; i < sizeof recs / sizeof recs[0]; i++) {"
	print "\t\td += recs[i].d;\n\t\tlen += strlen(recs[i].name);\n\t}"
	print "\tprintf(\"hash %08x recs %.3f %zu\\n\", h, d, len);\n\treturn 0;\n}"
}' >"$TMP/gen.c"

workload() {
	cp "$TMP/gen.c" gen.c
	gcc -O2 -frandom-seed=1 -Wall -Wno-unused-function -c gen.c -o gen.o
	sha256sum gen.o
	size -A gen.o | sed -n '/^Total/!p' | awk 'NF == 3 { print $1, $2 }'
	objdump -d --no-show-raw-insn gen.o | sed -n '/<main>:/,$p' | sha256sum
	objdump -d gen.o | wc -l
	gcc -O2 -frandom-seed=1 gen.o -o gen
	./gen
}

pl_compare workload
