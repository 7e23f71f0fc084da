/*
 * simple: a simple single-thread loop, after glibc's bench-malloc-simple
 * (glibc-simple in mimalloc-bench).
 *
 * For each block size from 16 to 256 bytes in steps of 16, and each count
 * of 25, 100, 400 and 1600 blocks, it allocates that many blocks, writes
 * the first and last word of each, checks them and frees them all, in
 * allocation order; this is repeated ITERS times.  The heap stays tiny and
 * every allocation is served from a cache that was just filled by frees of
 * the same size: what is measured is the length of the malloc and free
 * fast paths and how well they refill and flush in bulk.
 *
 * usage: simple [ITERS=400]
 */
#include "common.h"

static const long counts[] = { 25, 100, 400, 1600 };

int main(int argc, char **argv)
{
	long iters = arg_long(argc, argv, 1, 400);
	uint64_t **blk = xmalloc(1600 * sizeof(*blk)), sum = 0, nallocs = 0;

	for (long it = 0; it < iters; it++) {
		for (size_t size = 16; size <= 256; size += 16) {
			size_t last = size / 8 - 1;

			for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
				long n = counts[c];

				for (long i = 0; i < n; i++) {
					uint64_t *p = malloc(size);

					if (!p)
						fail("malloc(%zu) returned NULL", size);
					p[0] = (uint64_t)i;
					p[last] = size + (uint64_t)i;
					blk[i] = p;
				}
				for (long i = 0; i < n; i++) {
					uint64_t *p = blk[i];

					if (p[0] != (uint64_t)i || p[last] != size + (uint64_t)i)
						wrong("simple: a block of %zu bytes was "
						      "overwritten",
						      size);
					sum += p[0] ^ (p[last] << 7);
					free(p);
				}
				nallocs += (uint64_t)n;
			}
		}
	}
	printf("simple iters=%ld allocs=%llu sum=%016llx\n", iters, (unsigned long long)nallocs,
	       (unsigned long long)sum);
	free(blk);
	bench_idle();
	return 0;
}
