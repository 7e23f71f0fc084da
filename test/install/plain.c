// SPDX-License-Identifier: MIT
/* plain.c - a program that knows nothing of libkmm, for kmm-run to run on it. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	const char *preload = getenv("LD_PRELOAD");
	char *p = malloc(64);

	printf("LD_PRELOAD=%s\n", preload ? preload : "");
	free(p);
	return 0;
}
