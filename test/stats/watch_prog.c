// SPDX-License-Identifier: MIT
/* watch_prog.c - runs 2.2 s holding 3000 blocks of 200 bytes, for stats.sh; exits 3. */
#include <stdlib.h>
#include <unistd.h>

int main(void)
{
	static void *keep[3000];

	for (int i = 0; i < 3000; i++)
		keep[i] = malloc(200);
	for (int i = 0; i < 22; i++)
		usleep(100000);
	for (int i = 0; i < 3000; i++)
		free(keep[i]);
	return 3;
}
