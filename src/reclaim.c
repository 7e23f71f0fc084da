// SPDX-License-Identifier: MIT
/*
 * reclaim.c - giving memory back, across the layers: reclaim_all() (under
 * kmm_reclaim() and malloc_trim(), the kernel's drop_caches for libkmm's own
 * caches) and the background thread, kswapd's role.  It calls the layers,
 * never start-up nor the views.
 *
 * Without the thread, free memory goes back on libkmm's own paths: a free
 * that finds the zone's last sweep a decay period old (page/page_alloc.c),
 * a large allocation or free for cached vmalloc areas.  A program that stops
 * calling libkmm would keep what it freed last; the thread covers that.
 *
 * When.  The thread starts once the arenas hold KMM_BACKGROUND bytes (16 MiB,
 * where huge pages start too; 1: at start-up, 0: never), on the first
 * allocation past the fast path after that: small programs never get one.
 * (At 64 MiB, sqlite3's 24 MiB heap, all freed when the database closes,
 * stayed resident while it waited: 27.9 MiB after 1-2 s idle, 5.5 at 16.)
 * It wakes every quarter of KMM_DECAY_MS.  While the zones see traffic the
 * program is calling libkmm, whose own paths run the decays, and the thread
 * does nothing.  After a whole interval without any (the program went idle,
 * as the kernel's vmstat_update finds a quiet CPU) it gives back everything
 * malloc_trim(0) would: the per-CPU stocks, empty slabs, cached vmalloc
 * areas and free blocks down to 256 KiB, once per idle stretch.  So memory freed before a
 * pause is back with the system within half a decay period of the pause.
 *
 * fork() and locks.  The thread takes the allocator's locks only in world
 * mode (lib/lock.h): all of the fork() handlers' list with trylocks, or none;
 * it never waits for a lock while holding one, and holds none while it
 * sleeps.  A fork() in a signal handler that interrupted the allocator
 * (kmm_lock_any_held()) parks it (kswapd_park()): it lets go within one
 * sweep, since the lock the interrupted code holds fails that sweep, and
 * then takes none until the fork is done.  An ordinary fork() takes every
 * lock as in any threaded process.  The child has no thread and starts one
 * again on its first allocation past the fast path.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/lock.h"
#include "lib/memcheck.h"
#include "lib/printk.h"
#include "numa/mmzone.h"
#include "page/internal.h"
#include "reclaim.h"
#include "slab/slab.h"
#include "vmalloc/vmalloc.h"

void reclaim_all(void)
{
	vmalloc_purge();
	slab_shrink_all();
	drain_all_pages();
	release_free_pages();
}

/* Arena pages at which the thread starts; ULONG_MAX: started, or never. */
unsigned long kswapd_wake_pages = ~0UL;
static unsigned long kswapd_threshold; /* KMM_BACKGROUND in pages */

static void (*kswapd_lock_all)(void); /* the fork() handlers' locks (start-up's) */
static bool kswapd_running;	      /* this process has the thread */
static int kswapd_busy;		      /* it is taking or holding locks */
static int kswapd_gate;		      /* forks in a signal handler that want it parked */
static unsigned long kswapd_rounds, kswapd_busy_rounds, kswapd_parks; /* vmstat */

/*
 * Traffic between the program and the shared structures: blocks through the
 * zones, objects between the per-CPU stacks and the slabs, areas allocated
 * and freed (a loop of large blocks goes through the area cache alone).
 * Unchanged over a wake-up interval means idle.  Context: world mode
 * (slab_stat_sum() takes slab_mutex).
 */
static unsigned long traffic(void)
{
	unsigned long sum = slab_stat_sum(SLAB_STAT_REFILL) + slab_stat_sum(SLAB_STAT_FLUSH) +
			    vmalloc_traffic();
	struct kmm_zone *zone;

	for_each_zone (zone)
		sum += READ_ONCE(zone->stat[ZSTAT_PGALLOC]) + READ_ONCE(zone->stat[ZSTAT_PGFREE]);
	return sum;
}

/*
 * The thread is the program's last: the main thread called pthread_exit()
 * (a zombie until the group is empty, still counted) and the others are
 * gone.  Exit as the last thread would have (status 0): it blocks every
 * signal, so nothing else would end the process.
 */
static bool kswapd_alone(void)
{
	char buf[512], *p = buf, state;
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC), field = 1, threads;
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	/* The command may hold spaces: fields count from its closing parenthesis. */
	for (char *q = buf; *q; q++)
		if (*q == ')')
			p = q;
	if (p[0] != ')' || p[1] != ' ')
		return false;
	state = p[2];
	for (p++; *p && field < 19; p++)
		if (*p == ' ')
			field++;
	if (field != 19)
		return false;
	threads = atoi(p);
	return threads == 1 || (threads == 2 && state == 'Z');
}

/*
 * One wake-up, in world mode: the traffic since the last, and when there
 * was none (and this quiet stretch was not trimmed yet) what malloc_trim(0)
 * gives back.  Holds no lock outside world mode, so that a fork in a signal
 * handler that waits for kswapd_busy to clear never waits for long.
 */
static void kswapd_wake(unsigned long *seen, unsigned long *trimmed)
{
	unsigned long now;

	__atomic_store_n(&kswapd_busy, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&kswapd_gate, __ATOMIC_SEQ_CST) || !kmm_world_begin(kswapd_lock_all)) {
		__atomic_store_n(&kswapd_busy, 0, __ATOMIC_RELEASE);
		__atomic_fetch_add(&kswapd_busy_rounds, 1, __ATOMIC_RELAXED);
		return;
	}
	now = traffic();
	if (now == *seen && now != *trimmed) {
		reclaim_all();
		/* Its own traffic is not the program's. */
		now = traffic();
		*trimmed = now;
		__atomic_fetch_add(&kswapd_rounds, 1, __ATOMIC_RELAXED);
	} else {
		/*
		 * At work: the freed areas no request took for KMM_DECAY_MS
		 * go back all the same (the cache may hold up to the program's
		 * peak, and a program busy with small blocks makes no request
		 * that would decay it).
		 */
		vmalloc_decay();
	}
	*seen = now;
	kmm_world_end();
	__atomic_store_n(&kswapd_busy, 0, __ATOMIC_RELEASE);
}

/* A wake-up that finds a lock busy (the program is at work) tries at the next. */
static void *kswapd(void *arg)
{
	unsigned long ms = kmm_config.decay_ms / 4 ? kmm_config.decay_ms / 4 : 1;
	struct timespec period = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };
	unsigned long seen = ~0UL, trimmed = ~0UL;

	(void)arg;
	prctl(PR_SET_NAME, "kmm_kswapd", 0, 0, 0);
	for (;;) {
		nanosleep(&period, NULL);
		if (kswapd_alone())
			exit(0);
		kswapd_wake(&seen, &trimmed);
	}
	return NULL;
}

/* Its stack: the shrinkers' bulk arrays are a few KiB; not 8 MiB of address space. */
#define KSWAPD_STACK (256UL << 10)

void kswapd_start(void)
{
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t t;
	int ret = -1;

	/* Its process has threads: fork() must find the handlers registered. */
	if (!kmm_fork_arm(FORK_ARM_THREAD))
		return;
	/* One caller starts it: the one that moves the mark to "never". */
	if (__atomic_exchange_n(&kswapd_wake_pages, ~0UL, __ATOMIC_RELAXED) == ~0UL)
		return;
	/* The program's signals are not for this thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (!pthread_attr_init(&attr)) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		/* A program with a large static TLS needs more: then the default. */
		if (!pthread_attr_setstacksize(&attr, KSWAPD_STACK))
			ret = pthread_create(&t, &attr, kswapd, NULL);
		if (ret) {
			pthread_attr_destroy(&attr);
			pthread_attr_init(&attr);
			pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
			ret = pthread_create(&t, &attr, kswapd, NULL);
		}
		pthread_attr_destroy(&attr);
	}
	if (!ret)
		kswapd_running = true;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void kswapd_init(void (*lock_all)(void))
{
	unsigned long bytes = kmm_config.background;

	kswapd_lock_all = lock_all;
	if (!bytes || !kmm_config.decay_ms)
		return;
	/*
	 * Under memcheck only if asked for: valgrind ends the other threads
	 * before it runs glibc's freeres at exit, which frees through libkmm,
	 * and a thread ended in a round would leave every lock held.
	 */
	if (kmm_vg() && !kmm_getenv("KMM_BACKGROUND"))
		return;
	kswapd_threshold = bytes > 1 ? bytes >> PAGE_SHIFT : 0;
	__atomic_store_n(&kswapd_wake_pages, kswapd_threshold, __ATOMIC_RELAXED);
	kswapd_maybe_start();
}

void kswapd_park(void)
{
	__atomic_fetch_add(&kswapd_parks, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&kswapd_gate, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&kswapd_busy, __ATOMIC_SEQ_CST))
		sched_yield();
}

void kswapd_unpark(void)
{
	__atomic_fetch_sub(&kswapd_gate, 1, __ATOMIC_RELEASE);
}

/*
 * The child has no thread.  What it inherited is shared with the parent
 * until written: it gets one once its own footprint grows by the threshold
 * (at once with KMM_BACKGROUND=1), so that a child that only execs or runs
 * briefly, the common case, never starts one.
 */
void kswapd_fork_child(void)
{
	kswapd_gate = 0;
	kswapd_busy = 0;
	if (kswapd_running) {
		kswapd_running = false;
		kswapd_wake_pages =
			kswapd_threshold ? kmm_arena.committed_pages + kswapd_threshold : 0;
	}
}

void show_kswapd_vmstat(struct kmm_seq *m)
{
	kmm_seq_printf(m, "kswapd_running %d\n", (int)READ_ONCE(kswapd_running));
	kmm_seq_printf(m, "kswapd_rounds %lu\n", READ_ONCE(kswapd_rounds));
	kmm_seq_printf(m, "kswapd_busy_rounds %lu\n", READ_ONCE(kswapd_busy_rounds));
	kmm_seq_printf(m, "kswapd_parks %lu\n", READ_ONCE(kswapd_parks));
}
