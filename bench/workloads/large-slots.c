/*
 * large-slots: mimalloc-bench's malloc-large as it runs there (issue 15's
 * "large blocks" row), where large-zero frees first.
 *
 * SLOTS slots start empty.  Each round picks a slot and a size in
 * [MIN, MAX] MiB at random, allocates a block of that size and zeroes it
 * with the program's own memset (C++'s make_unique<char[]>(n)), and only
 * then frees the block the slot held (the unique_ptr's assignment): the
 * new block can never take the place of the one it replaces, so up to
 * SLOTS + 1 blocks are live and an allocator reuses the memory of blocks
 * freed in earlier rounds, at other sizes.  Nearly all the time is the
 * program's first writes to the memory it is handed.
 *
 * usage: large-slots [ROUNDS=2000] [SLOTS=20] [MIN=5] [MAX=25]
 */
#include "common.h"

/* Through a volatile pointer: GCC would turn malloc + memset(0) into calloc. */
static void *(*volatile zero_fill)(void *, int, size_t) = memset;

struct slot {
	unsigned char *p;
	size_t size;
	uint64_t tag;
};

/* The tags at both ends, and zeros at a few places in between. */
static void slot_check(const struct slot *s, uint64_t *rng)
{
	uint64_t a, z;

	memcpy(&a, s->p, 8);
	memcpy(&z, s->p + s->size - 8, 8);
	if (a != s->tag || z != s->tag)
		wrong("large-slots: the tags of a block of %zu bytes changed", s->size);
	for (int i = 0; i < 4; i++) {
		size_t k = 8 + rnd_next(rng) % (s->size - 16);

		if (s->p[k])
			wrong("large-slots: byte %zu of a block of %zu bytes is not zero", k,
			      s->size);
	}
}

int main(int argc, char **argv)
{
	long rounds = arg_long(argc, argv, 1, 2000);
	long nslots = arg_long(argc, argv, 2, 20);
	long min = arg_long(argc, argv, 3, 5);
	long max = arg_long(argc, argv, 4, 25);
	uint64_t rng = 42, id = 0, bytes = 0, sum = 0;
	struct slot *slots;

	if (max < min)
		fail("MAX must be at least MIN");
	slots = calloc((size_t)nslots, sizeof(*slots));
	if (!slots)
		fail("calloc of %ld slots failed", nslots);
	for (long r = 0; r < rounds; r++) {
		struct slot *s = &slots[rnd_next(&rng) % (uint64_t)nslots];
		size_t size =
			rnd_range(&rng, (uint64_t)min << 20, (uint64_t)max << 20) & ~(size_t)7;
		unsigned char *p = xmalloc(size);

		zero_fill(p, 0, size);
		if (s->p) {
			slot_check(s, &rng);
			free(s->p);
		}
		s->p = p;
		s->size = size;
		s->tag = tag_of(id++);
		memcpy(p, &s->tag, 8);
		memcpy(p + size - 8, &s->tag, 8);
		bytes += size;
		sum += s->tag;
	}
	for (long i = 0; i < nslots; i++) {
		if (slots[i].p) {
			slot_check(&slots[i], &rng);
			free(slots[i].p);
		}
	}
	free(slots);
	printf("large-slots blocks=%llu bytes=%llu tags=%016llx\n", (unsigned long long)id,
	       (unsigned long long)bytes, (unsigned long long)sum);
	bench_idle();
	return 0;
}
