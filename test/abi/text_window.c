// SPDX-License-Identifier: MIT
/*
 * text_window.c - a small program maps one window of libkmm's code.
 *
 * The kernel maps a file's pages around each read fault, a whole aligned
 * 64 KiB window (fault_around_bytes), and every page so mapped counts in the
 * program's RSS.  src/layout.ld puts the functions a program of malloc,
 * calloc, realloc and free runs first in a text segment aligned to 64 KiB,
 * so such a program maps that one window; without the order, the 160 KiB of
 * code are all resident (docs/DESIGN.md, "Code layout").  This program does
 * what a small threaded program does and reads its own smaps: the resident
 * part of libkmm's executable mapping must fit one window.
 *
 * Usage: text_window LAYOUT SANITIZE OPTIMIZATION, from meson: skipped (77)
 * where the order does not apply (a linker without the script, or code
 * grown by instrumentation or -O0).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ktest.h"

#define WINDOW_KB 64 /* the kernel's default fault_around_bytes */

/*
 * The bound: the first 64 KiB of the text segment, or the kernel's window if
 * debugfs shows a larger one (a smaller one maps fewer pages, never more).
 */
static long window_kb(void)
{
	FILE *f = fopen("/sys/kernel/debug/fault_around_bytes", "r");
	long bytes = 0;

	if (f) {
		if (fscanf(f, "%ld", &bytes) != 1)
			bytes = 0;
		fclose(f);
	}
	return bytes > WINDOW_KB * 1024 ? bytes / 1024 : WINDOW_KB;
}

/*
 * Small objects of every size up to 4 KiB, grown strings, freed in another
 * order, and a table of 128-256 KiB each round, freed (a page run that goes
 * back to the system at once, as logicmin's hash tables do).
 */
static void *churn(void *arg)
{
	unsigned long seed = (unsigned long)(uintptr_t)arg;
	void *keep[512] = { 0 };

	for (int round = 0; round < 200; round++) {
		for (int i = 0; i < 512; i++) {
			size_t n = 1 + (seed = seed * 6364136223846793005UL + 1) % 4096;

			free(keep[i]);
			keep[i] = (i & 7) ? malloc(n) : calloc(1, n);
			if (!keep[i])
				return NULL;
			memset(keep[i], i, n);
		}
		char *s = NULL;
		for (size_t len = 16; len <= 2048; len *= 2) {
			char *t = realloc(s, len);

			if (!t) {
				free(s);
				return NULL;
			}
			memset(t, 'x', len);
			s = t;
		}
		free(s);
		s = calloc(1, (128 << 10) + (size_t)round * 640);
		if (!s)
			return NULL;
		s[round] = 1;
		free(s);
	}
	for (int i = 511; i >= 0; i--)
		free(keep[i]);
	return arg;
}

/* Resident and mapped KiB of the executable mappings of libkmm. */
static int kmm_text(long *rss_kb, long *size_kb)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0, found = 0;

	*rss_kb = *size_kb = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perms[8];
		long kb;

		if (line[strspn(line, "0123456789abcdef")] == '-' &&
		    sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3) {
			/* A mapping's first line: the fields that follow are its own. */
			in = perms[2] == 'x' && strstr(line, "libkmm");
			found |= in;
			if (in)
				*size_kb += (long)((hi - lo) >> 10);
		} else if (in && sscanf(line, "Rss: %ld", &kb) == 1) {
			*rss_kb += kb;
		}
	}
	fclose(f);
	return found;
}

static void test_small_program_maps_one_window(void)
{
	pthread_t t[2];
	void *ret;
	long rss, size, window = window_kb();

	for (int i = 0; i < 2; i++)
		KT_REQUIRE(!pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)(i + 1)),
			   "pthread_create");
	KT_CHECK(churn((void *)(uintptr_t)3), "out of memory");
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], &ret);
		KT_CHECK(ret, "out of memory in a thread");
	}
	KT_REQUIRE(kmm_text(&rss, &size), "no executable mapping of libkmm in /proc/self/smaps");
	printf("libkmm's code: %ld KiB resident of %ld KiB mapped (window %ld KiB)\n", rss, size,
	       window);
	KT_CHECK(rss > 0, "no resident code: not this process's libkmm");
	KT_CHECK(size > window, "libkmm's code fits one window anyway: the test shows nothing");
	KT_CHECK(rss <= window,
		 "a small program maps %ld KiB of libkmm's code, more than one %ld KiB window: a "
		 "function it runs lies outside .text.kmm_hot (src/layout.ld; perf record -e "
		 "page-faults -d names the first one of each window)",
		 rss, window);
}

int main(int argc, char **argv)
{
	static const struct kt_test tests[] = { KT_TEST(test_small_program_maps_one_window) };

	if (argc < 4 || strcmp(argv[1], "layout") || strcmp(argv[2], "none") ||
	    !strchr("23s", argv[3][0])) {
		printf("skipped: no code layout here (linker, sanitizer or -O0 build)\n");
		return 77;
	}
	return kt_main(tests, sizeof(tests) / sizeof(tests[0]));
}
