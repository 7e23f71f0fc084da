/*
 * large: big buffers allocated, written and freed in a loop, as programs
 * that read files, decode images or build big arrays do.
 *
 * Each iteration allocates a buffer of MINMIB to MAXMIB MiB (skewed to the
 * small end, not a multiple of the page size), writes one word in every
 * 4 KiB page of it and its last byte (so every page is faulted in unless the allocator
 * reuses memory it already has) and frees the oldest buffer once LIVE are
 * held, after checking every page of it.  An allocator that returns each
 * block to the kernel on free pays the page faults again every time.
 *
 * usage: large [ITERATIONS=60] [MINMIB=1] [MAXMIB=64] [LIVE=2]
 */
#include "common.h"

#define PAGE 4096

struct buf {
	uint64_t *p;
	size_t size;
	uint64_t tag;
};

static uint64_t check_sum;

static void buf_check_free(struct buf *b)
{
	if (!b->p)
		return;
	for (size_t off = 0; off + 16 <= b->size; off += PAGE)
		if (b->p[off / 8] != (b->tag ^ off))
			wrong("large: page at offset %zu of a %zu-byte buffer is wrong", off,
			      b->size);
	if (((unsigned char *)b->p)[b->size - 1] != (unsigned char)b->tag)
		wrong("large: last byte of a %zu-byte buffer is wrong", b->size);
	check_sum += b->tag;
	free(b->p);
	b->p = NULL;
}

int main(int argc, char **argv)
{
	long iters = arg_long(argc, argv, 1, 60);
	long min_mib = arg_long(argc, argv, 2, 1);
	long max_mib = arg_long(argc, argv, 3, 64);
	long nlive = arg_long(argc, argv, 4, 2);
	struct buf *ring = calloc(nlive, sizeof(*ring));
	uint64_t rng = 5000, bytes = 0, sum = 0;

	if (!ring)
		fail("calloc returned NULL");
	if (max_mib < min_mib)
		fail("MAXMIB must be at least MINMIB");
	for (long i = 0; i < iters; i++) {
		struct buf *b = &ring[i % nlive];

		buf_check_free(b);
		b->size = rnd_skew(&rng, (uint64_t)min_mib << 20, (uint64_t)max_mib << 20);
		b->size -= rnd_range(&rng, 0, PAGE - 1);
		b->tag = tag_of((uint64_t)i);
		b->p = xmalloc(b->size);
		for (size_t off = 0; off + 16 <= b->size; off += PAGE)
			b->p[off / 8] = b->tag ^ off;
		((unsigned char *)b->p)[b->size - 1] = (unsigned char)b->tag;
		bytes += b->size;
		sum += b->tag;
	}
	for (long i = 0; i < nlive; i++)
		buf_check_free(&ring[i]);
	if (check_sum != sum)
		wrong("large: tag sums differ");
	printf("large buffers=%ld bytes=%llu tags=%016llx\n", iters, (unsigned long long)bytes,
	       (unsigned long long)sum);
	free(ring);
	bench_idle();
	return 0;
}
