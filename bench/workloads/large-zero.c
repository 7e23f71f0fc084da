/*
 * large-zero: large blocks that the program zeroes itself, after the
 * malloc-large pattern of mimalloc-bench.
 *
 * LIVE blocks of random sizes in [MIN, MAX] MiB are live at once.  Each
 * round replaces one block picked at random: its contents are checked, it
 * is freed, and a new block of a new random size is allocated and zeroed
 * with memset over its whole length (as a program does that does not
 * trust calloc or reuses a buffer), then tagged at both ends.  Nearly all
 * the time goes into the program's own memset, so what this measures is
 * the cost of first writes to memory the allocator hands out: fresh
 * mmap pages (one minor fault per page), reused pages (none), or pages
 * moved by mremap (whose next write can cost more than a fault).
 *
 * usage: large-zero [ROUNDS=200] [LIVE=20] [MIN=5] [MAX=25]
 */
#include "common.h"

/*
 * Called through a volatile pointer: GCC turns malloc followed by a memset
 * to zero of the same size into calloc, which an allocator can satisfy
 * with fresh zero pages without touching them.  The program's own memset
 * is the point here.
 */
static void *(*volatile zero_fill)(void *, int, size_t) = memset;

struct block {
	unsigned char *p;
	size_t size;
	uint64_t tag;
};

/* Check the tags at both ends and zeros at a few pages in between. */
static void block_check(const struct block *b, uint64_t *rng)
{
	uint64_t a, z;

	memcpy(&a, b->p, 8);
	memcpy(&z, b->p + b->size - 8, 8);
	if (a != b->tag || z != b->tag)
		wrong("large-zero: the tags of a block of %zu bytes changed", b->size);
	for (int i = 0; i < 16; i++) {
		size_t k = 8 + rnd_next(rng) % (b->size - 16);

		if (b->p[k])
			wrong("large-zero: byte %zu of a block of %zu bytes is not zero", k,
			      b->size);
	}
}

static void block_new(struct block *b, uint64_t *rng, uint64_t id, long min, long max)
{
	b->size = rnd_range(rng, (uint64_t)min << 20, (uint64_t)max << 20) & ~(size_t)7;
	b->tag = tag_of(id);
	b->p = xmalloc(b->size);
	zero_fill(b->p, 0, b->size);
	memcpy(b->p, &b->tag, 8);
	memcpy(b->p + b->size - 8, &b->tag, 8);
}

int main(int argc, char **argv)
{
	long rounds = arg_long(argc, argv, 1, 200);
	long live = arg_long(argc, argv, 2, 20);
	long min = arg_long(argc, argv, 3, 5);
	long max = arg_long(argc, argv, 4, 25);
	uint64_t rng = 4141, id = 0, bytes = 0, sum = 0;
	struct block *blocks;

	if (max < min)
		fail("MAX must be at least MIN");
	blocks = xmalloc(live * sizeof(*blocks));
	for (long i = 0; i < live; i++) {
		block_new(&blocks[i], &rng, id++, min, max);
		bytes += blocks[i].size;
		sum += blocks[i].tag;
	}
	for (long r = 0; r < rounds; r++) {
		struct block *b = &blocks[rnd_next(&rng) % (uint64_t)live];

		block_check(b, &rng);
		free(b->p);
		block_new(b, &rng, id++, min, max);
		bytes += b->size;
		sum += b->tag;
	}
	for (long i = 0; i < live; i++) {
		block_check(&blocks[i], &rng);
		free(blocks[i].p);
	}
	free(blocks);
	printf("large-zero blocks=%llu bytes=%llu tags=%016llx\n", (unsigned long long)id,
	       (unsigned long long)bytes, (unsigned long long)sum);
	bench_idle();
	return 0;
}
