// SPDX-License-Identifier: MIT
/*
 * init.c - kmm_init(): libkmm's start_kernel().
 *
 * The steps run in the order of the memory part of the kernel's start_kernel()
 * (seed chapter 4), each mirroring the kernel step named beside it.  Steps that
 * later layers add (slab, vmalloc, per-CPU pagesets) take their place in the
 * same sequence.
 *
 * It runs lazily, on the first call of any entry point, possibly inside the
 * first malloc of a program before any constructor: so it uses no malloc, no
 * stdio, no dlsym, and reports with write(2).  A global lock makes concurrent
 * first calls wait for the one that initializes; a failed init is retried by
 * the next call.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <kmm/kmm.h>

#include "init.h"
#include "lib/config.h"
#include "lib/lock.h"
#include "lib/printk.h"
#include "lib/rseq.h"
#include "numa/mempolicy.h"
#include "numa/mmzone.h"
#include "numa/os.h"
#include "page/internal.h"
#include "page/pcp.h"
#include "slab/slab.h"
#include "stats.h"
#include "track.h"
#include "vmalloc/vmalloc.h"

bool kmm_initialized;
static struct kmm_lock init_lock = KMM_LOCK_INIT;

static int start_kernel(void)
{
	int ret;

	/* page_address_init(): nothing to do; pfn << PAGE_SHIFT is the address. */

	/* setup_arch(): parse_early_param() and the architecture probe. */
	kmm_config_init();
	ret = os_arch_probe();
	if (ret)
		return ret;

	/* setup_arch() -> initmem_init(): nodes, CPUs, distances. */
	ret = numa_init();
	if (ret)
		return ret;
	/* numa_policy_init(): KMM_NUMA, and the numastat counters. */
	ret = mempolicy_init();
	if (ret)
		return ret;

	/* setup_arch() -> init_mem_mapping() and alloc_node_mem_map(): arenas. */
	ret = arena_init();
	if (ret)
		return ret;

	/*
	 * setup_per_cpu_areas(): per-CPU data is sized from the possible CPUs
	 * found above; here we learn whether it can be reached lock-free (rseq).
	 */
	rseq_init(kmm_config.rseq);

	/* build_all_zonelists(). */
	build_all_zonelists();

	/* page_alloc_init() and mm_init() -> mem_init(): the buddy takes over. */
	buddy_init();

	/* mm_init() -> kmem_cache_init(): the slab caches and kmalloc. */
	ret = kmem_cache_init();
	if (ret)
		return ret;

	/* mm_init() -> vmalloc_init(): the vmalloc region. */
	ret = vmalloc_init();
	if (ret)
		return ret;

	/* setup_per_cpu_pageset(): the per-CPU page caches, and rseq. */
	return pcp_init();
}

/*
 * fork(): every lock of every layer, top layer first (vmalloc, slab, page), so a
 * child never inherits a lock held by a thread that does not exist in it.
 */
static void fork_prepare(void)
{
	kmm_lock(&init_lock);
	track_fork_prepare();
	vmalloc_fork_prepare();
	slab_fork_prepare();
	page_fork_prepare();
}

static void fork_parent(void)
{
	page_fork_parent();
	slab_fork_parent();
	vmalloc_fork_parent();
	track_fork_parent();
	kmm_unlock(&init_lock);
}

static void fork_child(void)
{
	if (!rseq_fork_child() && pcp_mode == PCP_RSEQ)
		pcp_mode = PCP_LOCKED;
	kswapd_pending = kmm_config.background && kmm_config.decay_ms;
	page_fork_child();
	slab_fork_child();
	vmalloc_fork_child();
	track_fork_child();
	kmm_lock_init(&init_lock);
}

/* Set while this thread runs start_kernel(): an allocation from inside it recursed. */
static __thread bool initializing __attribute__((tls_model("initial-exec")));

int kmm_init_slow(void)
{
	static bool atfork_registered;
	bool register_atfork = false;
	int ret = 0;

	/*
	 * start_kernel() allocates nothing, but a hook it triggers might (a
	 * sanitizer's report, a debugger): fail that nested call instead of
	 * waiting for the lock this thread holds.
	 */
	if (initializing)
		return -EDEADLK;
	kmm_lock(&init_lock);
	initializing = true;
	if (!__atomic_load_n(&kmm_initialized, __ATOMIC_ACQUIRE)) {
		ret = start_kernel();
		if (!ret) {
			__atomic_store_n(&kmm_initialized, true, __ATOMIC_RELEASE);
			register_atfork = !atfork_registered;
			atfork_registered = true;
		}
	}
	initializing = false;
	kmm_unlock(&init_lock);
	/*
	 * pthread_atfork() may itself allocate (glibc grows its handler array):
	 * only now, with the allocator up and no lock held.
	 */
	if (register_atfork) {
		pthread_atfork(fork_prepare, fork_parent, fork_child);
		/* Likewise the background thread (it allocates its stack and TLS). */
		kswapd_run();
		/* And KMM_STATS_SIGNAL's. */
		stats_signal_start();
	}
	return ret;
}

/*
 * KMM_STATS=buddyinfo,slabinfo,... (or LD_PRELOAD/kmm-run --stats): write
 * those views to stderr when the program exits.
 */
__attribute__((destructor)) static void kmm_exit_stats(void)
{
	const char *list = kmm_getenv("KMM_STATS");

	if (!list || !*list || !__atomic_load_n(&kmm_initialized, __ATOMIC_ACQUIRE))
		return;
	kmm_dump_list(2, list);
}

__export int kmm_init(void)
{
	int ret = kmm_init_slow();

	if (ret) {
		errno = -ret;
		return -1;
	}
	return 0;
}
