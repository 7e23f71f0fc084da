// SPDX-License-Identifier: MIT
/*
 * startup_prog.c - a small program's anonymous memory: a few blocks of
 * common sizes allocated and freed, then its RssAnon in KiB on stdout.
 * startup_rss.sh runs it on glibc's malloc and under LD_PRELOAD=libkmm.so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	static const size_t sizes[] = { 8, 24, 64, 200, 1000, 4096, 20000, 100000 };
	void *volatile p[sizeof(sizes) / sizeof(sizes[0])]; /* not elided by the compiler */
	char line[256];
	long kib = -1;
	FILE *f;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p[i] = malloc(sizes[i]);
		if (!p[i])
			return 1;
		memset(p[i], 1, sizes[i]);
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		free(p[i]);
	f = fopen("/proc/self/status", "r");
	if (!f)
		return 1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "RssAnon: %ld kB", &kib) == 1)
			break;
	fclose(f);
	printf("%ld\n", kib);
	return kib < 0;
}
