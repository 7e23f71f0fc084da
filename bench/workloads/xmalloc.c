/*
 * xmalloc: producers allocate, consumers free, after Lever and Boreham's
 * xmalloc-test ("malloc() Performance in a Multithreaded Linux
 * Environment", 2000).
 *
 * Producer threads allocate batches of objects of random small sizes, fill
 * them and put each batch on one shared queue; consumer threads take
 * batches off the queue, check every object and free it.  Every free is
 * of memory another thread allocated, and the memory flows one way, so an
 * allocator must send it back to the producers' heaps (or lose it).
 *
 * usage: xmalloc [PRODUCERS=2] [CONSUMERS=2] [BATCHES=20000] [BATCH=100] [MAXSIZE=512]
 *   BATCHES is per producer; sizes are in [16, MAXSIZE], skewed to small.
 */
#include "common.h"

#define QUEUE_LEN 64

struct batch {
	long n;
	void **p;
	size_t *size;
	uint64_t *tag;
};

struct counts {
	long id;
	uint64_t objs, bytes, sum;
};

static long nprod, ncons, nbatches, batchlen, maxsize;

/* A bounded queue of batches; NULL tells a consumer to stop. */
static struct batch *queue[QUEUE_LEN];
static long q_head, q_count;
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_nonempty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t q_nonfull = PTHREAD_COND_INITIALIZER;

static void queue_put(struct batch *b)
{
	pthread_mutex_lock(&q_lock);
	while (q_count == QUEUE_LEN)
		pthread_cond_wait(&q_nonfull, &q_lock);
	queue[(q_head + q_count++) % QUEUE_LEN] = b;
	pthread_cond_signal(&q_nonempty);
	pthread_mutex_unlock(&q_lock);
}

static struct batch *queue_get(void)
{
	struct batch *b;

	pthread_mutex_lock(&q_lock);
	while (q_count == 0)
		pthread_cond_wait(&q_nonempty, &q_lock);
	b = queue[q_head];
	q_head = (q_head + 1) % QUEUE_LEN;
	q_count--;
	pthread_cond_signal(&q_nonfull);
	pthread_mutex_unlock(&q_lock);
	return b;
}

static void *producer(void *arg)
{
	struct counts *c = arg;
	uint64_t rng = 2000 + c->id, next = 0;

	for (long i = 0; i < nbatches; i++) {
		struct batch *b = xmalloc(sizeof(*b));

		b->n = batchlen;
		b->p = xmalloc(batchlen * sizeof(*b->p));
		b->size = xmalloc(batchlen * sizeof(*b->size));
		b->tag = xmalloc(batchlen * sizeof(*b->tag));
		for (long j = 0; j < batchlen; j++) {
			b->size[j] = rnd_skew(&rng, 16, (uint64_t)maxsize);
			b->tag[j] = tag_of(((uint64_t)c->id << 40) | next++);
			b->p[j] = xmalloc(b->size[j]);
			obj_fill(b->p[j], b->size[j], b->tag[j]);
			c->objs++;
			c->bytes += b->size[j];
			c->sum += b->tag[j];
		}
		queue_put(b);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	struct counts *c = arg;
	struct batch *b;

	while ((b = queue_get())) {
		for (long j = 0; j < b->n; j++) {
			if (!obj_check(b->p[j], b->size[j], b->tag[j]))
				wrong("xmalloc: object of %zu bytes was overwritten", b->size[j]);
			free(b->p[j]);
			c->objs++;
			c->bytes += b->size[j];
			c->sum += b->tag[j];
		}
		free(b->p);
		free(b->size);
		free(b->tag);
		free(b);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct counts *pc, *cc, made = { 0 }, freed = { 0 };
	pthread_t *ptid, *ctid;

	nprod = arg_long(argc, argv, 1, 2);
	ncons = arg_long(argc, argv, 2, 2);
	nbatches = arg_long(argc, argv, 3, 20000);
	batchlen = arg_long(argc, argv, 4, 100);
	maxsize = arg_long(argc, argv, 5, 512);
	if (maxsize < 16)
		fail("MAXSIZE must be at least 16");

	pc = calloc(nprod, sizeof(*pc));
	cc = calloc(ncons, sizeof(*cc));
	ptid = xmalloc(nprod * sizeof(*ptid));
	ctid = xmalloc(ncons * sizeof(*ctid));
	if (!pc || !cc)
		fail("calloc returned NULL");
	for (long i = 0; i < nprod; i++)
		pc[i].id = i;
	for (long i = 0; i < ncons; i++)
		cc[i].id = i;
	start_threads(ctid, ncons, consumer, cc, sizeof(*cc), 0);
	start_threads(ptid, nprod, producer, pc, sizeof(*pc), 0);
	join_threads(ptid, nprod);
	for (long i = 0; i < ncons; i++)
		queue_put(NULL);
	join_threads(ctid, ncons);

	for (long i = 0; i < nprod; i++) {
		made.objs += pc[i].objs;
		made.bytes += pc[i].bytes;
		made.sum += pc[i].sum;
	}
	for (long i = 0; i < ncons; i++) {
		freed.objs += cc[i].objs;
		freed.bytes += cc[i].bytes;
		freed.sum += cc[i].sum;
	}
	if (made.objs != freed.objs || made.bytes != freed.bytes || made.sum != freed.sum)
		wrong("xmalloc: %llu objects made, %llu freed, or their sizes or tags differ",
		      (unsigned long long)made.objs, (unsigned long long)freed.objs);
	printf("xmalloc producers=%ld consumers=%ld objects=%llu bytes=%llu tags=%016llx\n", nprod,
	       ncons, (unsigned long long)made.objs, (unsigned long long)made.bytes,
	       (unsigned long long)made.sum);
	free(pc);
	free(cc);
	free(ptid);
	free(ctid);
	bench_idle();
	return 0;
}
