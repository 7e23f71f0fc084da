// SPDX-License-Identifier: MIT
/*
 * idle_check.c - the idle-return check of bench/results/memory.md: two
 * threads allocate ~800 MiB of 16-112 byte objects, the main thread 150
 * blocks of 4 MiB; all are freed, then the program only sleeps and prints
 * its RSS every 0.5 s.
 *   gcc -O2 -pthread bench/results/idle_check.c -o /tmp/idle_check
 *   LD_PRELOAD=build/libkmm.so /tmp/idle_check
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N ((800u << 20) / 64 / 2)

static long rss_mib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size = 0, res = 0;

	if (f) {
		if (fscanf(f, "%ld %ld", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return res * 4 / 1024;
}

static void *work(void *arg)
{
	void **p = malloc(N * sizeof(void *));

	(void)arg;
	for (unsigned int i = 0; i < N; i++) {
		p[i] = malloc(16 + (i % 7) * 16);
		memset(p[i], 1, 16);
	}
	return p;
}

int main(void)
{
	long start = rss_mib(), peak, freed;
	pthread_t t[2];
	void *r[2], *big[150];

	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, work, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], &r[i]);
	for (int i = 0; i < 150; i++) {
		big[i] = malloc(4 << 20);
		memset(big[i], 2, 4 << 20);
	}
	peak = rss_mib();
	for (int i = 0; i < 2; i++) {
		void **p = r[i];

		for (unsigned int j = 0; j < N; j++)
			free(p[j]);
		free(p);
	}
	for (int i = 0; i < 150; i++)
		free(big[i]);
	freed = rss_mib();
	for (int k = 1; k <= 4; k++) {
		usleep(500000);
		printf("t=%.1fs rss %ld MiB\n", k * 0.5, rss_mib());
	}
	printf("start %ld peak %ld after the frees %ld (MiB)\n", start, peak, freed);
	return 0;
}
