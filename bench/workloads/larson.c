/*
 * larson: a server simulation, after Larson and Krishnan's benchmark
 * ("Memory allocation for long-running server applications", 1998).
 *
 * Each thread works on an array of slots holding objects of random sizes:
 * it picks a random slot, checks and frees the object there and puts a new
 * one in its place.  After every round the arrays move on to the next
 * thread (thread t works on array (t + round) % threads), as a server hands
 * connections between workers, so most frees are of objects another thread
 * allocated.
 *
 * With MODE 2 (bench/run's larson-sized, after mimalloc-bench's
 * larson-sized), each round runs in new threads, as in the original
 * benchmark where every thread hands its array to a thread it starts and
 * exits, so the objects freed were allocated by threads that have exited;
 * and objects are allocated with C++'s operator new and freed with the
 * sized operator delete(void *, size_t) when the preloaded allocator
 * exports both (glibc alone does not: then malloc and free); only the
 * first and last 8 bytes of an object are written and checked, so the
 * allocator's share of the time is larger.
 *
 * usage: larson [THREADS=4] [SLOTS=1000] [ROUNDS=20] [OPS=50000] [MAXSIZE=1024] [MODE=1]
 *   OPS is the number of replacements per thread per round; sizes are
 *   uniform in [16, MAXSIZE].
 */
#include "common.h"

#include <dlfcn.h>

struct slot {
	void *p;
	size_t size;
	uint64_t tag;
};

struct worker {
	long id;
	uint64_t rng;
	uint64_t next_id;
	uint64_t allocs, bytes, alloc_sum, free_sum, frees;
};

static long nthreads, nslots, nrounds, nops, maxsize, mode;
static void *(*op_new)(size_t);
static void (*op_delete_sized)(void *, size_t);
static struct slot **arrays;
static pthread_barrier_t barrier;

/* MODE 2 touches only the first and last 8 bytes, as larson itself does. */
static void ends_fill(void *p, size_t n, uint64_t tag)
{
	memcpy(p, &tag, 8);
	memcpy((char *)p + n - 8, &tag, 8);
}

static int ends_check(const void *p, size_t n, uint64_t tag)
{
	uint64_t a, b;

	memcpy(&a, p, 8);
	memcpy(&b, (const char *)p + n - 8, 8);
	return a == tag && b == tag;
}

static void slot_free(struct slot *s, struct worker *w)
{
	if (!s->p)
		return;
	if (mode == 2 ? !ends_check(s->p, s->size, s->tag) : !obj_check(s->p, s->size, s->tag))
		wrong("larson: object of %zu bytes was overwritten", s->size);
	if (op_delete_sized)
		op_delete_sized(s->p, s->size);
	else
		free(s->p);
	w->free_sum += s->tag;
	w->frees++;
	s->p = NULL;
}

static void slot_fill(struct slot *s, struct worker *w)
{
	s->size = rnd_range(&w->rng, 16, (uint64_t)maxsize);
	s->tag = tag_of(((uint64_t)w->id << 40) | w->next_id++);
	s->p = op_new ? op_new(s->size) : xmalloc(s->size);
	if (mode == 2)
		ends_fill(s->p, s->size, s->tag);
	else
		obj_fill(s->p, s->size, s->tag);
	w->allocs++;
	w->bytes += s->size;
	w->alloc_sum += s->tag;
}

static void work_round(struct worker *w, long r)
{
	struct slot *a = arrays[(w->id + r) % nthreads];

	for (long i = 0; i < nops; i++) {
		struct slot *s = &a[rnd_next(&w->rng) % (uint64_t)nslots];

		slot_free(s, w);
		slot_fill(s, w);
	}
}

/* MODE 1: one thread for all rounds, a barrier between rounds. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (long r = 0; r < nrounds; r++) {
		work_round(w, r);
		pthread_barrier_wait(&barrier);
	}
	return NULL;
}

/* MODE 2: one thread per round; the round number is in w->round. */
static long cur_round;

static void *round_main(void *arg)
{
	work_round(arg, cur_round);
	return NULL;
}

int main(int argc, char **argv)
{
	struct worker *workers, total = { 0 };
	pthread_t *tid;

	nthreads = arg_long(argc, argv, 1, 4);
	nslots = arg_long(argc, argv, 2, 1000);
	nrounds = arg_long(argc, argv, 3, 20);
	nops = arg_long(argc, argv, 4, 50000);
	maxsize = arg_long(argc, argv, 5, 1024);
	mode = arg_long(argc, argv, 6, 1);
	if (maxsize < 16)
		fail("MAXSIZE must be at least 16");
	if (mode > 2)
		fail("MODE is 1 (threads live for all rounds) or 2 (sized, threads per round)");
	if (mode == 2) {
		op_new = (void *(*)(size_t))dlsym(RTLD_DEFAULT, "_Znwm");
		op_delete_sized = (void (*)(void *, size_t))dlsym(RTLD_DEFAULT, "_ZdlPvm");
		if (!op_new || !op_delete_sized)
			op_new = NULL, op_delete_sized = NULL;
	}

	arrays = xmalloc(nthreads * sizeof(*arrays));
	for (long t = 0; t < nthreads; t++)
		arrays[t] = calloc(nslots, sizeof(struct slot));
	workers = calloc(nthreads, sizeof(*workers));
	tid = xmalloc(nthreads * sizeof(*tid));
	if (!workers)
		fail("calloc returned NULL");
	for (long t = 0; t < nthreads; t++) {
		if (!arrays[t])
			fail("calloc returned NULL");
		workers[t].id = t;
		workers[t].rng = 1000 + t;
	}
	if (mode == 1) {
		pthread_barrier_init(&barrier, NULL, nthreads);
		start_threads(tid, nthreads, worker_main, workers, sizeof(*workers), 0);
		join_threads(tid, nthreads);
	} else {
		for (cur_round = 0; cur_round < nrounds; cur_round++) {
			start_threads(tid, nthreads, round_main, workers, sizeof(*workers), 0);
			join_threads(tid, nthreads);
		}
	}

	/* The main thread frees what is left, all of it allocated elsewhere. */
	for (long t = 0; t < nthreads; t++)
		for (long i = 0; i < nslots; i++)
			slot_free(&arrays[t][i], &total);
	for (long t = 0; t < nthreads; t++) {
		total.allocs += workers[t].allocs;
		total.bytes += workers[t].bytes;
		total.alloc_sum += workers[t].alloc_sum;
		total.free_sum += workers[t].free_sum;
		total.frees += workers[t].frees;
	}
	if (total.allocs != total.frees || total.alloc_sum != total.free_sum)
		wrong("larson: %llu allocated, %llu freed, or tag sums differ",
		      (unsigned long long)total.allocs, (unsigned long long)total.frees);
	printf("larson threads=%ld allocs=%llu bytes=%llu tags=%016llx\n", nthreads,
	       (unsigned long long)total.allocs, (unsigned long long)total.bytes,
	       (unsigned long long)total.alloc_sum);
	for (long t = 0; t < nthreads; t++)
		free(arrays[t]);
	free(arrays);
	free(workers);
	free(tid);
	bench_idle();
	return 0;
}
