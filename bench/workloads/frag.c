/*
 * frag: long-lived and short-lived objects mixed, to measure fragmentation
 * (peak RSS against the live bytes the program really had), after the
 * program traces studied by Johnstone and Wilson ("The Memory
 * Fragmentation Problem: Solved?", 1998).
 *
 * Each round allocates a burst of short-lived objects around one size (the
 * size moves between rounds, from tens of bytes to tens of KiB, as a
 * program's phases do), keeps one in KEEP of them in a long-lived set
 * (freeing the long-lived object whose place it takes), and frees the rest
 * in random order.  The long-lived survivors pin the pages of each burst,
 * so an allocator that cannot reuse the holes between them grows.  The
 * last line gives the peak of the live bytes, to set beside the peak RSS.
 *
 * usage: frag [ROUNDS=200] [BURST=2000] [LONGLIVED=10000] [KEEP=8]
 */
#include "common.h"

struct obj {
	void *p;
	size_t size;
	uint64_t tag;
};

static uint64_t live, live_peak, nallocs, nfrees, alloc_sum, free_sum;

static void obj_new(struct obj *o, size_t size, uint64_t id)
{
	o->size = size;
	o->tag = tag_of(id);
	o->p = xmalloc(size);
	obj_fill(o->p, size, o->tag);
	nallocs++;
	alloc_sum += o->tag;
	live += size;
	if (live > live_peak)
		live_peak = live;
}

static void obj_del(struct obj *o)
{
	if (!o->p)
		return;
	if (!obj_check(o->p, o->size, o->tag))
		wrong("frag: object of %zu bytes was overwritten", o->size);
	free(o->p);
	nfrees++;
	free_sum += o->tag;
	live -= o->size;
	o->p = NULL;
}

int main(int argc, char **argv)
{
	/* The size a round's objects are centred on, in turn. */
	static const size_t centre[] = { 24, 200, 48, 3000, 96, 16000, 32, 700, 64, 8000 };
	long rounds = arg_long(argc, argv, 1, 200);
	long burst = arg_long(argc, argv, 2, 2000);
	long nlong = arg_long(argc, argv, 3, 10000);
	long keep = arg_long(argc, argv, 4, 8);
	struct obj *shortl = calloc(burst, sizeof(*shortl));
	struct obj *longl = calloc(nlong, sizeof(*longl));
	long *order = xmalloc(burst * sizeof(*order));
	uint64_t rng = 3000, id = 0, bytes = 0;

	if (!shortl || !longl)
		fail("calloc returned NULL");
	for (long r = 0; r < rounds; r++) {
		size_t c = centre[r % (sizeof(centre) / sizeof(centre[0]))];

		for (long i = 0; i < burst; i++) {
			size_t size = rnd_range(&rng, c / 2 < 16 ? 16 : c / 2, c * 2);

			obj_new(&shortl[i], size, id++);
			bytes += size;
			order[i] = i;
		}
		/* Free in random order (Fisher-Yates), keeping one in KEEP. */
		for (long i = burst - 1; i > 0; i--) {
			long j = rnd_next(&rng) % (uint64_t)(i + 1), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		for (long i = 0; i < burst; i++) {
			struct obj *o = &shortl[order[i]];

			if (rnd_next(&rng) % (uint64_t)keep == 0) {
				struct obj *l = &longl[rnd_next(&rng) % (uint64_t)nlong];

				obj_del(l);
				*l = *o;
				o->p = NULL;
			} else {
				obj_del(o);
			}
		}
	}
	for (long i = 0; i < nlong; i++)
		obj_del(&longl[i]);
	if (nallocs != nfrees || alloc_sum != free_sum || live != 0)
		wrong("frag: %llu allocated, %llu freed, or tag sums differ",
		      (unsigned long long)nallocs, (unsigned long long)nfrees);
	printf("frag allocs=%llu bytes=%llu live_peak_kib=%llu tags=%016llx\n",
	       (unsigned long long)nallocs, (unsigned long long)bytes,
	       (unsigned long long)(live_peak / 1024), (unsigned long long)alloc_sum);
	free(shortl);
	free(longl);
	free(order);
	bench_idle();
	return 0;
}
