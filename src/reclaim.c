// SPDX-License-Identifier: MIT
/*
 * reclaim.c - giving memory back, across the layers: reclaim_all() (under
 * kmm_reclaim() and malloc_trim(), the kernel's drop_caches for libkmm's own
 * caches) and the optional background thread, kswapd's role
 * (KMM_BACKGROUND=1), which start-up starts.  It calls the layers, never
 * start-up nor the views.
 *
 * Without the thread, free memory goes back on libkmm's own paths: a free
 * that finds the zone's last sweep a decay period old (page/page_alloc.c),
 * a large allocation or free for cached vmalloc areas.  A program that stops
 * calling libkmm keeps what it freed last; the thread covers that, waking
 * every half period to run the same decays and to give empty slabs back.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <time.h>

#include "lib/config.h"
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

static void *kswapd(void *arg)
{
	unsigned long ms = kmm_config.decay_ms / 2 ? kmm_config.decay_ms / 2 : 1;
	struct timespec period = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

	(void)arg;
	prctl(PR_SET_NAME, "kmm_kswapd", 0, 0, 0);
	for (;;) {
		struct kmm_zone *zone;

		nanosleep(&period, NULL);
		vmalloc_decay();
		/* Empty slabs and per-CPU stocks back to the buddy, to merge there. */
		slab_shrink_all();
		drain_all_pages();
		for_each_zone (zone)
			zone_release_maybe(zone, RELEASE_MIN_ORDER);
	}
	return NULL;
}

bool kswapd_pending;

void kswapd_restart(void)
{
	if (__atomic_exchange_n(&kswapd_pending, false, __ATOMIC_RELAXED))
		kswapd_run();
}

void kswapd_run(void)
{
	sigset_t all, old;
	pthread_t t;

	if (!kmm_config.background || !kmm_config.decay_ms)
		return;
	/* The program's signals are not for this thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (!pthread_create(&t, NULL, kswapd, NULL))
		pthread_detach(t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}
