/*
 * rings: random-size objects passed around a ring of threads, after
 * rpmalloc's rptest as mimalloc-bench runs it.
 *
 * THREADS threads form a ring: each allocates objects of random sizes in
 * [16, MAXSIZE] (skewed to small), fills them and sends them in small
 * batches to the next thread through a lock-free single-producer
 * single-consumer queue, and checks what the previous thread sends it.
 * One received object in four goes into a local set of KEEP slots, whose
 * previous occupant is freed; the others are freed at once.  So most
 * frees are remote, of many size classes, and a thread also keeps a
 * changing set of objects other threads allocated.
 *
 * usage: rings [THREADS=4] [OBJECTS=400000] [MAXSIZE=1024] [KEEP=2000]
 *   OBJECTS is per thread.
 */
#include "common.h"

#include <sched.h>
#include <stdatomic.h>

#define RING 512
#define BATCH 8

struct msg {
	void *p;
	uint32_t size;
	uint64_t tag;
};

struct node {
	long id;
	struct msg ring[RING]; /* the queue from the previous thread */
	_Alignas(64) _Atomic long tail;
	_Alignas(64) _Atomic long head;
	_Alignas(64) uint64_t sent, got, freed_sum;
};

static long nthreads, nobjs, maxsize, nkeep;
static struct node *nodes;

static void msg_free(struct msg *m, struct node *me)
{
	if (!obj_check(m->p, m->size, m->tag))
		wrong("rings: object of %u bytes was overwritten", m->size);
	free(m->p);
	me->freed_sum += m->tag;
}

/* Send up to BATCH new objects to the next node; returns how many. */
static long send_some(struct node *me, struct node *to, long *made, uint64_t *rng)
{
	long tail = atomic_load_explicit(&to->tail, memory_order_relaxed);
	long head = atomic_load_explicit(&to->head, memory_order_acquire);
	long n = RING - (tail - head);

	if (n > BATCH)
		n = BATCH;
	if (n > nobjs - *made)
		n = nobjs - *made;
	for (long k = 0; k < n; k++) {
		struct msg *m = &to->ring[(tail + k) % RING];

		m->size = (uint32_t)rnd_skew(rng, 16, (uint64_t)maxsize);
		m->tag = tag_of(((uint64_t)me->id << 40) | (uint64_t)(*made)++);
		m->p = xmalloc(m->size);
		obj_fill(m->p, m->size, m->tag);
		me->sent += m->tag;
	}
	atomic_store_explicit(&to->tail, tail + n, memory_order_release);
	return n;
}

/* Take what the previous node sent: keep one in four, free the rest. */
static long take_some(struct node *me, struct msg *keep, long *got, uint64_t *rng)
{
	long head = atomic_load_explicit(&me->head, memory_order_relaxed);
	long tail = atomic_load_explicit(&me->tail, memory_order_acquire);

	for (long h = head; h < tail; h++) {
		struct msg m = me->ring[h % RING];

		me->got += m.tag;
		if (rnd_next(rng) % 4 == 0) {
			struct msg *k = &keep[rnd_next(rng) % (uint64_t)nkeep];

			if (k->p)
				msg_free(k, me);
			*k = m;
		} else {
			msg_free(&m, me);
		}
	}
	atomic_store_explicit(&me->head, tail, memory_order_release);
	*got += tail - head;
	return tail - head;
}

static void *node_main(void *arg)
{
	struct node *me = arg, *next = &nodes[(me->id + 1) % nthreads];
	uint64_t rng = 7000 + (uint64_t)me->id;
	struct msg *keep = calloc(nkeep, sizeof(*keep));
	long made = 0, got = 0;

	if (!keep)
		fail("calloc returned NULL");
	while (made < nobjs || got < nobjs) {
		long n = made < nobjs ? send_some(me, next, &made, &rng) : 0;

		if (!(n + take_some(me, keep, &got, &rng)))
			sched_yield();
	}
	for (long i = 0; i < nkeep; i++)
		if (keep[i].p)
			msg_free(&keep[i], me);
	free(keep);
	return NULL;
}

int main(int argc, char **argv)
{
	uint64_t sent = 0, got = 0, freed = 0;
	pthread_t *tid;

	nthreads = arg_long(argc, argv, 1, 4);
	nobjs = arg_long(argc, argv, 2, 400000);
	maxsize = arg_long(argc, argv, 3, 1024);
	nkeep = arg_long(argc, argv, 4, 2000);
	if (maxsize < 16)
		fail("MAXSIZE must be at least 16");
	nodes = aligned_alloc(64, nthreads * sizeof(*nodes));
	tid = xmalloc(nthreads * sizeof(*tid));
	if (!nodes)
		fail("aligned_alloc returned NULL");
	memset(nodes, 0, nthreads * sizeof(*nodes));
	for (long i = 0; i < nthreads; i++)
		nodes[i].id = i;
	start_threads(tid, nthreads, node_main, nodes, sizeof(*nodes), 0);
	join_threads(tid, nthreads);
	for (long i = 0; i < nthreads; i++) {
		sent += nodes[i].sent;
		got += nodes[i].got;
		freed += nodes[i].freed_sum;
	}
	if (sent != got || sent != freed)
		wrong("rings: objects sent, received and freed differ");
	printf("rings threads=%ld objects=%llu tags=%016llx\n", nthreads,
	       (unsigned long long)(nthreads * nobjs), (unsigned long long)sent);
	free(nodes);
	free(tid);
	bench_idle();
	return 0;
}
