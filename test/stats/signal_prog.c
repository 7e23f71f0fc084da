// SPDX-License-Identifier: MIT
/*
 * signal_prog.c - KMM_STATS_SIGNAL under load, for stats.sh.  Two threads
 * allocate and free as fast as they can while the main thread sends them
 * (and itself) the stats signal 60 times: the signal lands inside malloc and
 * free, with allocator locks held when KMM_RSEQ=0.  The views must come out
 * and nothing may deadlock: the program then stops the threads and exits 0.
 * "quiet": no signal (the output must then hold no view).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile int stop;
static unsigned long done[2];

static void *worker(void *arg)
{
	unsigned long *n = arg;
	void *keep[64] = { 0 };

	while (!stop) {
		for (int i = 0; i < 64; i++) {
			free(keep[i]);
			keep[i] = malloc((size_t)(i * 97 % 5000) + 1);
		}
		free(malloc(100000)); /* a page run */
		(*n)++;
	}
	for (int i = 0; i < 64; i++)
		free(keep[i]);
	return NULL;
}

int main(int argc, char **argv)
{
	int quiet = argc > 1 && !strcmp(argv[1], "quiet");
	pthread_t t[2];

	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, worker, &done[i]);
	for (int i = 0; i < 60; i++) {
		usleep(10000);
		if (quiet)
			continue;
		if (i % 3 == 2)
			raise(SIGUSR2);
		else
			pthread_kill(t[i % 3], SIGUSR2);
	}
	stop = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	usleep(300000); /* the last dump */
	printf("signal_prog: %lu and %lu rounds\n", done[0], done[1]);
	return done[0] && done[1] ? 0 : 1;
}
