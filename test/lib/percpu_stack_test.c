// SPDX-License-Identifier: MIT
/*
 * percpu_stack_test.c - the per-CPU stacks (lib/percpu_stack.h) in both
 * backends: push, pop and the bulk forms on a pinned thread, a drain's stop
 * and restart, and conservation while threads push and pop and a drainer
 * empties every CPU's stack: each item ends in exactly one place.
 *
 * The rseq backend runs when glibc registered rseq (not under valgrind nor
 * GLIBC_TUNABLES=glibc.pthread.rseq=0); KT_EXPECT_RSEQ=1 makes its absence a
 * failure.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/sysinfo.h>

static int setup(void);
#define KT_SETUP                                                                                   \
	do {                                                                                       \
		if (setup())                                                                       \
			return 2;                                                                  \
	} while (0)

#include "../ktest.h"
#include "lib/percpu_stack.h"

#define TEST_SLOTS 30 /* a small capacity, so that full stacks happen */

union test_stack {
	struct percpu_stack stack;
	char bytes[256];
};

_Static_assert(PERCPU_STACK_SLOTS(sizeof(union test_stack)) == TEST_SLOTS, "30 slots");

static union test_stack *stacks;
static int ncpu; /* possible CPUs */

static struct percpu_stack_ptr test_ptr(void)
{
	return (struct percpu_stack_ptr){ &stacks[0].stack, (long)sizeof(union test_stack),
					  (unsigned int)ncpu };
}

static void reset_stacks(unsigned int high)
{
	for (int cpu = 0; cpu < ncpu; cpu++)
		percpu_stack_init(&stacks[cpu].stack, high);
}

static const char *backend(void)
{
	return percpu_stack_rseq() ? "rseq" : "locked";
}

/* Pin this thread to the CPU it is on; return that CPU. */
static int pin_here(void)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	KT_REQUIRE(sched_setaffinity(0, sizeof(set), &set) == 0, "sched_setaffinity");
	return cpu;
}

static void unpin(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	for (int i = 0; i < get_nprocs_conf() && i < CPU_SETSIZE; i++)
		CPU_SET(i, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *token(unsigned int i)
{
	static char tokens[1 << 16];

	return &tokens[i];
}

/* Push to full, pop back in LIFO order, on this CPU's stack only. */
static void single_ops(void)
{
	struct percpu_stack_ptr p = test_ptr();
	int cpu = pin_here();
	void *item = NULL;
	unsigned int high = 20;

	reset_stacks(high);
	for (unsigned int i = 0; i < high; i++)
		KT_CHECK(percpu_stack_push(p, token(i)) == 0, "%s: push %u", backend(), i);
	KT_CHECK(percpu_stack_push(p, token(99)) == 1, "%s: push onto a full stack", backend());
	KT_CHECK(percpu_stack_count(&stacks[cpu].stack) == high, "%s: count %u on CPU %d",
		 backend(), percpu_stack_count(&stacks[cpu].stack), cpu);
	KT_CHECK(ncpu == 1 || percpu_stack_count(&stacks[cpu ? 0 : 1].stack) == 0,
		 "%s: another CPU's stack", backend());
	for (unsigned int i = high; i-- > 0;) {
		KT_CHECK(percpu_stack_pop(p, &item) == 1 && item == token(i),
			 "%s: pop %u gave %p, expected %p", backend(), i, item, token(i));
	}
	KT_CHECK(percpu_stack_pop(p, &item) == 0, "%s: pop from an empty stack", backend());
	/* The fast forms: the rseq backend's. */
	if (percpu_stack_rseq()) {
		KT_CHECK(__percpu_stack_push(p, token(7)) == 0 && __percpu_stack_pop(p) == token(7),
			 "rseq: the fast push and pop");
		KT_CHECK(__percpu_stack_pop(p) == NULL, "rseq: the fast pop of an empty stack");
	}
	unpin();
}

static void bulk_ops(void)
{
	struct percpu_stack_ptr p = test_ptr();
	void *in[TEST_SLOTS + 5], *out[TEST_SLOTS + 5];
	int cpu = pin_here(), n;

	reset_stacks(TEST_SLOTS);
	for (unsigned int i = 0; i < TEST_SLOTS + 5; i++)
		in[i] = token(i);
	n = percpu_stack_push_bulk(p, in, 10);
	KT_CHECK(n == 10, "%s: push_bulk 10 gave %d", backend(), n);
	/* More than the room: what fits, items[0] deepest. */
	n = percpu_stack_push_bulk(p, in + 10, TEST_SLOTS);
	KT_CHECK(n == TEST_SLOTS - 10, "%s: push_bulk over the room gave %d", backend(), n);
	KT_CHECK(percpu_stack_push_bulk(p, in, 3) == 0, "%s: push_bulk onto a full stack",
		 backend());
	n = percpu_stack_pop_bulk(p, out, 4);
	KT_CHECK(n == 4, "%s: pop_bulk 4 gave %d", backend(), n);
	for (int i = 0; i < n; i++)
		KT_CHECK(out[i] == token(TEST_SLOTS - 1 - (unsigned int)i), "%s: pop_bulk out[%d]",
			 backend(), i);
	n = percpu_stack_pop_bulk(p, out, TEST_SLOTS + 5);
	KT_CHECK(n == TEST_SLOTS - 4, "%s: pop_bulk of the rest gave %d", backend(), n);
	for (int i = 0; i < n; i++)
		KT_CHECK(out[i] == token(TEST_SLOTS - 5 - (unsigned int)i), "%s: pop_bulk out[%d]",
			 backend(), i);
	KT_CHECK(percpu_stack_pop_bulk(p, out, 4) == 0, "%s: pop_bulk from an empty stack",
		 backend());
	KT_CHECK(percpu_stack_count(&stacks[cpu].stack) == 0, "%s: empty at the end", backend());
	unpin();
}

/* A stopped stack is the drainer's: nothing pushes to or pops from it. */
static void stop_restart(void)
{
	struct percpu_stack_ptr p = test_ptr();
	int cpu = pin_here();
	struct percpu_stack *s = &stacks[cpu].stack;
	void *item = NULL, *out[4];
	unsigned int taken;

	reset_stacks(TEST_SLOTS);
	for (unsigned int i = 0; i < 5; i++)
		percpu_stack_push(p, token(i));
	percpu_stack_stop(&s, 1, cpu);
	/* rseq: stopped (full for a push, empty for a pop); locked: the lock is held. */
	KT_CHECK(percpu_stack_push(p, token(50)) == (percpu_stack_rseq() ? 1 : -1),
		 "%s: push onto a stopped stack", backend());
	KT_CHECK(percpu_stack_pop(p, &item) == (percpu_stack_rseq() ? 0 : -1),
		 "%s: pop from a stopped stack", backend());
	KT_CHECK(percpu_stack_pop_bulk(p, out, 4) == (percpu_stack_rseq() ? 0 : -1),
		 "%s: pop_bulk from a stopped stack", backend());
	KT_CHECK(percpu_stack_push_bulk(p, out, 1) == (percpu_stack_rseq() ? 0 : -1),
		 "%s: push_bulk onto a stopped stack", backend());
	taken = percpu_stack_take_all(s);
	KT_CHECK(taken == 5 && s->slot[0] == token(0) && s->slot[4] == token(4),
		 "%s: take_all gave %u", backend(), taken);
	percpu_stack_restart(&s, 1);
	KT_CHECK(s->high == TEST_SLOTS && s->count == 0 && !kmm_lock_held(&s->lock),
		 "%s: restarted: high %u count %u", backend(), s->high, s->count);
	KT_CHECK(percpu_stack_push(p, token(60)) == 0 && percpu_stack_pop(p, &item) == 1 &&
			 item == token(60),
		 "%s: push and pop after the restart", backend());
	unpin();
}

/*
 * A stack left zero (as mmap() gives it) takes nothing until its CPU's first
 * push that finds no room activates it; a stopped one is left as it is; an
 * active one only grows.
 */
static void lazy_activate(void)
{
	static struct kmm_lock drains = KMM_LOCK_INIT; /* the owner's drain lock */
	struct percpu_stack_ptr p = test_ptr();
	int cpu = pin_here();
	struct percpu_stack *s = &stacks[cpu].stack;
	void *item = NULL, *in[3] = { token(1), token(2), token(3) };

	memset(stacks, 0, (size_t)ncpu * sizeof(*stacks));
	KT_CHECK(percpu_stack_push(p, token(0)) == 1, "%s: push onto a zero stack", backend());
	KT_CHECK(percpu_stack_push_bulk(p, in, 3) == 0, "%s: push_bulk onto a zero stack",
		 backend());
	/* Stopped by a drain, under the drains' lock: it stays without room. */
	kmm_lock(&drains);
	percpu_stack_stop(&s, 1, cpu);
	KT_CHECK(!percpu_stack_grow(p, 12, &drains), "%s: activate a stopped stack", backend());
	percpu_stack_restart(&s, 1);
	/* The drains' lock alone (fork() holds it): no stack lock is taken. */
	KT_CHECK(!percpu_stack_grow(p, 12, &drains) && !kmm_lock_held(&s->lock),
		 "%s: activate while the drains' lock is held", backend());
	kmm_unlock(&drains);
	KT_CHECK(s->high == 0, "%s: a drain leaves a zero stack zero (high %u)", backend(),
		 s->high);
	KT_CHECK(percpu_stack_grow(p, 12, &drains) && !kmm_lock_held(&drains),
		 "%s: activate a zero stack", backend());
	KT_CHECK(s->high == 12 && s->count == 0 && !kmm_lock_held(&s->lock),
		 "%s: activated: high %u count %u", backend(), s->high, s->count);
	KT_CHECK(ncpu == 1 || stacks[cpu ? 0 : 1].stack.high == 0,
		 "%s: another CPU's stack stays zero", backend());
	KT_CHECK(!percpu_stack_grow(p, 10, &drains) && s->high == 12,
		 "%s: a lower capacity leaves it as it is (high %u)", backend(), s->high);
	KT_CHECK(percpu_stack_push_bulk(p, in, 3) == 3 && percpu_stack_push(p, token(0)) == 0,
		 "%s: pushes after activation", backend());
	KT_CHECK(percpu_stack_pop(p, &item) == 1 && item == token(0), "%s: pop after activation",
		 backend());
	for (unsigned int i = 0; i < 9; i++)
		percpu_stack_push(p, token(10 + i));
	KT_CHECK(percpu_stack_push(p, token(30)) == 1, "%s: full at 12", backend());
	KT_CHECK(percpu_stack_grow(p, 20, &drains) && s->high == 20 && s->count == 12,
		 "%s: grown: high %u count %u", backend(), s->high, s->count);
	KT_CHECK(percpu_stack_push(p, token(30)) == 0 && percpu_stack_count(s) == 13,
		 "%s: push after growing", backend());
	unpin();
}

/*
 * Conservation: workers move tokens between their hands, the stacks and a
 * shared pool (what a failed or full push hands back, as pcp's buddy); a
 * drainer keeps emptying every CPU's stacks into the pool.  At the end each
 * token is in exactly one place.
 */
#define NR_TOKENS 4096
#define NR_WORKERS 4

static struct {
	pthread_mutex_t lock;
	void *item[NR_TOKENS];
	unsigned int n, overflow; /* overflow: more items than tokens (duplicates) */
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER };

static volatile int stop_drainer;
static long worker_iters;

static void pool_put(void *const *items, unsigned int n)
{
	pthread_mutex_lock(&pool.lock);
	for (unsigned int i = 0; i < n; i++) {
		if (pool.n < NR_TOKENS)
			pool.item[pool.n++] = items[i];
		else
			pool.overflow++;
	}
	pthread_mutex_unlock(&pool.lock);
}

static void *pool_get(void)
{
	void *item = NULL;

	pthread_mutex_lock(&pool.lock);
	if (pool.n)
		item = pool.item[--pool.n];
	pthread_mutex_unlock(&pool.lock);
	return item;
}

struct worker {
	pthread_t thread;
	uint64_t rng;
	void *hand[NR_TOKENS];
	unsigned int held;
};

static void worker_free(struct percpu_stack_ptr p, void *item)
{
	void *batch[8];
	int ret = percpu_stack_push(p, item), n;

	if (ret == 0)
		return;
	if (ret == 1) {
		n = percpu_stack_pop_bulk(p, batch, 8);
		if (n > 0)
			pool_put(batch, (unsigned int)n);
		if (n >= 0 && percpu_stack_push(p, item) == 0)
			return;
	}
	pool_put(&item, 1);
}

static void *worker_alloc(struct percpu_stack_ptr p)
{
	void *item = NULL, *batch[8];
	int ret = percpu_stack_pop(p, &item), n;

	if (ret == 1)
		return item;
	item = pool_get();
	if (ret == 0 && item) {
		/* Refill: a few more from the pool onto the stack. */
		for (n = 0; n < 8 && (batch[n] = pool_get()); n++)
			;
		int pushed = n ? percpu_stack_push_bulk(p, batch, (unsigned int)n) : 0;

		if (pushed < 0)
			pushed = 0;
		if (pushed < n)
			pool_put(batch + pushed, (unsigned int)(n - pushed));
	}
	return item;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct percpu_stack_ptr p = test_ptr();

	for (long i = 0; i < worker_iters; i++) {
		bool push = w->held && (kt_rand_r(&w->rng) & 1);

		if (push) {
			unsigned int k = (unsigned int)(kt_rand_r(&w->rng) % w->held);

			worker_free(p, w->hand[k]);
			w->hand[k] = w->hand[--w->held];
		} else {
			void *item = worker_alloc(p);

			if (item && w->held < NR_TOKENS)
				w->hand[w->held++] = item;
			else if (item)
				pool_put(&item, 1); /* more than exist: duplicates, seen below */
		}
		if ((i & 255) == 0)
			sched_yield(); /* share CPUs: preemption inside the operations */
	}
	return NULL;
}

static void drain_all(void)
{
	for (int cpu = 0; cpu < ncpu; cpu++) {
		struct percpu_stack *s = &stacks[cpu].stack;
		unsigned int n;

		percpu_stack_stop(&s, 1, cpu);
		n = percpu_stack_take_all(s);
		pool_put(s->slot, n);
		percpu_stack_restart(&s, 1);
	}
}

static void *drainer_main(void *arg)
{
	long *rounds = arg;

	while (!stop_drainer) {
		drain_all();
		++*rounds;
	}
	return NULL;
}

static void conservation(void)
{
	static struct worker w[NR_WORKERS];
	static unsigned char seen[NR_TOKENS];
	pthread_t drainer;
	long rounds = 0;
	unsigned int found = 0, dup = 0;

	worker_iters = kt_under_valgrind() ? 20000 : 400000;
	reset_stacks(TEST_SLOTS);
	pool.n = 0;
	pool.overflow = 0;
	for (unsigned int i = 0; i < NR_TOKENS; i++)
		pool.item[pool.n++] = token(i);
	stop_drainer = 0;
	for (int i = 0; i < NR_WORKERS; i++) {
		w[i].rng = kt_rand() | 1;
		w[i].held = 0;
		pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
	}
	pthread_create(&drainer, NULL, drainer_main, &rounds);
	for (int i = 0; i < NR_WORKERS; i++)
		pthread_join(w[i].thread, NULL);
	stop_drainer = 1;
	pthread_join(drainer, NULL);
	drain_all();

	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < NR_WORKERS; i++)
		pool_put(w[i].hand, w[i].held);
	for (unsigned int i = 0; i < pool.n; i++) {
		unsigned int t = (unsigned int)((char *)pool.item[i] - (char *)token(0));

		KT_REQUIRE(t < NR_TOKENS, "%s: a token that never existed: %p", backend(),
			   pool.item[i]);
		dup += seen[t]++ != 0;
		found += seen[t] == 1;
	}
	printf("%s: %d workers x %ld operations, %ld drain rounds\n", backend(), NR_WORKERS,
	       worker_iters, rounds);
	KT_CHECK(found == NR_TOKENS && dup == 0 && pool.overflow == 0,
		 "%s: %u of %u tokens found, %u duplicates (%u more past the pool)", backend(),
		 found, NR_TOKENS, dup, pool.overflow);
	KT_CHECK(rounds > 0, "%s: the drainer ran", backend());
}

/*
 * Each case in the locked backend, then in the rseq backend when there is one
 * (KT_EXPECT_RSEQ=1: there must be, valgrind aside; 0: there must not be).
 */
static void run_both(void (*fn)(void))
{
	const char *expect = getenv("KT_EXPECT_RSEQ");
	bool rseq;

	rseq_init(false);
	fn();
	rseq = rseq_init(true);
	if (rseq)
		fn();
	else
		printf("rseq backend unusable here: locked backend only\n");
	if (expect && *expect == '1' && !kt_under_valgrind())
		KT_CHECK(rseq, "rseq expected (KT_EXPECT_RSEQ=1) but unusable");
	if (expect && *expect == '0')
		KT_CHECK(!rseq, "rseq unexpected (KT_EXPECT_RSEQ=0) but usable");
}

static void test_single(void)
{
	run_both(single_ops);
}

static void test_bulk(void)
{
	run_both(bulk_ops);
}

static void test_stop_restart(void)
{
	run_both(stop_restart);
}

static void test_lazy_activate(void)
{
	run_both(lazy_activate);
}

static void test_conservation(void)
{
	run_both(conservation);
}

static int setup(void)
{
	ncpu = get_nprocs_conf();
	stacks = calloc((size_t)ncpu, sizeof(*stacks));
	return !stacks || sched_getcpu() < 0 || sched_getcpu() >= ncpu;
}

KT_MAIN(KT_TEST(test_single), KT_TEST(test_bulk), KT_TEST(test_stop_restart),
	KT_TEST(test_lazy_activate), KT_TEST(test_conservation))
