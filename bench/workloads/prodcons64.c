/*
 * prodcons64: producers allocate 64-byte objects, consumers free them,
 * after xmalloc-testN (Lever and Boreham, 2000) as mimalloc-bench runs it.
 *
 * Producer i allocates 64-byte objects one at a time, writes a tag into
 * each and hands it to consumer i through a single-producer
 * single-consumer ring of pointers; consumer i checks and frees it.  The
 * ring is lock-free (one atomic store to publish, every BATCH objects), so
 * the handoff costs a few nanoseconds and the allocator is the bottleneck:
 * every free is remote, all objects share one size class, and the memory
 * flows one way, from the consumers' frees back to the producers'
 * allocations.  A thread that finds its ring full or empty yields.
 *
 * usage: prodcons64 [PAIRS=2] [OBJECTS=2000000] [BATCH=16] [RING=1024]
 *   OBJECTS is per producer.
 */
#include "common.h"

#include <sched.h>
#include <stdatomic.h>

#define OBJSIZE 64

struct pair {
	long id;
	void **ring;
	_Alignas(64) _Atomic long tail; /* written by the producer */
	_Alignas(64) _Atomic long head; /* written by the consumer */
	_Alignas(64) uint64_t made, freed;
};

static long npairs, nobjs, batch, ringlen;

static uint64_t obj_tag(long pair, long i)
{
	return tag_of(((uint64_t)pair << 40) | (uint64_t)i);
}

static void *producer(void *arg)
{
	struct pair *q = arg;
	long tail = 0, head = 0;

	for (long i = 0; i < nobjs;) {
		long room, n;

		while ((room = ringlen - (tail - head)) < batch &&
		       (room = ringlen - (tail - (head = atomic_load_explicit(
							  &q->head, memory_order_acquire)))) <
			       batch)
			sched_yield();
		n = nobjs - i < batch ? nobjs - i : batch;
		for (long k = 0; k < n; k++, i++) {
			uint64_t *o = xmalloc(OBJSIZE), t = obj_tag(q->id, i);

			o[0] = t;
			o[7] = ~t;
			q->made += t;
			q->ring[(tail + k) % ringlen] = o;
		}
		tail += n;
		atomic_store_explicit(&q->tail, tail, memory_order_release);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	struct pair *q = arg;
	long head = 0, tail = 0;

	while (head < nobjs) {
		while (head == tail &&
		       (tail = atomic_load_explicit(&q->tail, memory_order_acquire)) == head)
			sched_yield();
		for (; head < tail; head++) {
			uint64_t *o = q->ring[head % ringlen];

			if (o[0] != ~o[7])
				wrong("prodcons64: object %ld of pair %ld was overwritten", head,
				      q->id);
			q->freed += o[0];
			free(o);
			if ((head + 1) % batch == 0)
				atomic_store_explicit(&q->head, head + 1, memory_order_release);
		}
		atomic_store_explicit(&q->head, head, memory_order_release);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t *ptid, *ctid;
	struct pair *pairs;
	uint64_t made = 0, want = 0;

	npairs = arg_long(argc, argv, 1, 2);
	nobjs = arg_long(argc, argv, 2, 2000000);
	batch = arg_long(argc, argv, 3, 16);
	ringlen = arg_long(argc, argv, 4, 1024);
	if (batch > ringlen)
		fail("BATCH must not exceed RING");
	pairs = aligned_alloc(64, npairs * sizeof(*pairs));
	ptid = xmalloc(npairs * sizeof(*ptid));
	ctid = xmalloc(npairs * sizeof(*ctid));
	if (!pairs)
		fail("aligned_alloc returned NULL");
	memset(pairs, 0, npairs * sizeof(*pairs));
	for (long i = 0; i < npairs; i++) {
		pairs[i].id = i;
		pairs[i].ring = xmalloc(ringlen * sizeof(void *));
	}
	start_threads(ctid, npairs, consumer, pairs, sizeof(*pairs), 0);
	start_threads(ptid, npairs, producer, pairs, sizeof(*pairs), 0);
	join_threads(ptid, npairs);
	join_threads(ctid, npairs);
	for (long i = 0; i < npairs; i++) {
		for (long k = 0; k < nobjs; k++)
			want += obj_tag(i, k);
		if (pairs[i].made != pairs[i].freed)
			wrong("prodcons64: pair %ld freed other objects than it made", i);
		made += pairs[i].made;
		free(pairs[i].ring);
	}
	if (made != want)
		wrong("prodcons64: the tag sum is wrong");
	printf("prodcons64 pairs=%ld objects=%llu tags=%016llx\n", npairs,
	       (unsigned long long)(npairs * nobjs), (unsigned long long)made);
	free(pairs);
	free(ptid);
	free(ctid);
	bench_idle();
	return 0;
}
