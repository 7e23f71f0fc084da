// SPDX-License-Identifier: MIT
/*
 * prog.c - a program linked with an installed libkmm (shared or static): its
 * malloc must be libkmm's (the block lies in libkmm's arena), and the kernel
 * API and the views must work.  Exit 0 when they do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kmm/kmm.h>

int main(void)
{
	char *p = malloc(100);
	void *k = kmm_kmalloc(100, KMM_GFP_KERNEL);

	if (!p || !k) {
		fprintf(stderr, "prog: allocation failed\n");
		return 1;
	}
	strcpy(p, "on libkmm");
	if (kmm_addr_to_nid(p) < 0 || !kmm_virt_to_page(p)) {
		fprintf(stderr, "prog: malloc's block %p is not libkmm's: glibc's malloc ran\n",
			(void *)p);
		return 1;
	}
	if (kmm_ksize(p) < 100 || kmm_dump(1, "slabinfo") != 0) {
		fprintf(stderr, "prog: ksize or the slabinfo view failed\n");
		return 1;
	}
	printf("prog: %s\n", p);
	kmm_kfree(k);
	free(p);
	return 0;
}
