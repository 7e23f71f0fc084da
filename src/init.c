// SPDX-License-Identifier: MIT
/*
 * init.c - kmm_init(): libkmm's start_kernel().
 *
 * The steps run in the order of the memory part of the kernel's start_kernel()
 * (seed chapter 4), each mirroring the kernel step named beside it.  Steps that
 * later layers add (slab, vmalloc, per-CPU pagesets) take their place in the
 * same sequence.
 *
 * Start-up sits above the layers and beside the views (dump.c) and reclaim:
 * it calls every layer's init, and starts the background thread (reclaim.c,
 * the kernel's kswapd_init()); only the public entry points call it, through
 * kmm_ready() (init.h), and nothing it calls calls it back.
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
#include "malloc/mempool.h"
#include "numa/mempolicy.h"
#include "numa/mmzone.h"
#include "numa/os.h"
#include "page/internal.h"
#include "page/pcp.h"
#include "reclaim.h"
#include "slab/secure.h"
#include "slab/slab.h"
#include "stats.h"
#include "track.h"
#include "vmalloc/vmalloc.h"

static struct kmm_lock init_lock = KMM_LOCK_INIT;

__init static int start_kernel(void)
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
	/* KMM_SECURE's reports name the call sites when KMM_TRACK records them. */
	if (kmm_config.track)
		secure_describe = track_describe;

	/* mm_init() -> vmalloc_init(): the vmalloc region. */
	ret = vmalloc_init();
	if (ret)
		return ret;

	/* setup_per_cpu_pageset(): the per-CPU page caches, and rseq. */
	return pcp_init();
}

/*
 * Open or close the hit paths of malloc() and free() (lib/ready.h): open
 * once libkmm is @up with rseq usable; closed without rseq, which KMM_TRACK
 * turns off, and in KMM_SECURE (whose slow paths still use rseq).  free()'s also stays
 * closed where a free must check the object's node (kmm_numa_remote_free).
 * Context: start-up under init_lock before kmm_initialized is set (no other
 * thread is past kmm_ready(), so no zone grows), or a fork child (one
 * thread; the zone locks may be a dead thread's there: none is taken).
 */
static void fastpath_publish(bool up)
{
	struct kmm_zone *zone = &kmm_nodes[0].node_zones[ZONE_NORMAL];
	bool ready = up && kmm_rseq_usable && !slab_secure;

	kmm_fast.rseq_offset = kmm_rseq_offset;
	kmm_fast.ncpu = (unsigned int)kmm_nr_cpu_ids;
	kmm_fast.free_base = zone->zone_start_pfn << PAGE_SHIFT;
	kmm_fast.free_map = zone->mem_map;
	kmm_fast.free_ok = ready && !kmm_numa_remote_free && zone->mem_map;
	__atomic_store_n(&kmm_fast.free_limit,
			 kmm_fast.free_ok ? zone_present(zone) << PAGE_SHIFT : 0, __ATOMIC_RELEASE);
	__atomic_store_n(&kmm_fast.malloc_limit, ready ? KMALLOC_FAST_MAX + 1 : 0,
			 __ATOMIC_RELEASE);
}

/*
 * fork() and the allocator's locks.
 *
 * fork() copies one thread; any lock another thread holds at that moment
 * stays held in the child, with the structure it guards half changed.  So
 * the prepare handler takes every lock a thread can hold, in this order,
 * outermost first; the parent handler releases them; the child handler
 * re-initializes them:
 *
 *   _IO_list_lock             glibc's list of FILEs (recursive)
 *   mempool_list_lock         the list of mempools
 *   pool->lock                each mempool's reserve
 *   init_lock                 start-up
 *   tt.lock                   KMM_TRACK's table of callers (track.c)
 *   vm_state.lock             vmalloc: the area index and its system calls
 *   slab_mutex                the cache list, and drains of the stacks
 *   cache->cpu[].lock         every cache's per-CPU stacks (*)
 *   cache->node[].list_lock   every cache's partial lists
 *   pcp_drain_mutex           drains of the per-CPU page caches
 *   pcp->lock                 every zone's per-CPU page caches (*)
 *   zone->lock                every zone's buddy lists
 *
 * (*) Only without rseq.  With rseq, the per-CPU locks are taken by drains
 * and by a stack's first use (percpu_stack_grow()), always under slab_mutex
 * or pcp_drain_mutex, so holding those two keeps
 * them free, and fork() spares the pages they sit in (a copy-on-write fault
 * per cache, zone and CPU, in the parent and in the child).
 *
 * fork_locks[] below is that list; nothing else in libkmm is a lock
 * (counters and the arena's commit charge are atomics, the topology and the
 * configuration are written once at start-up, the rseq and membarrier state
 * is per process and set again in the child).  The background thread
 * (reclaim.c) takes only these locks, all at once with trylocks or none
 * (world mode, lib/lock.h: fork_lock_world()), and holds none while it
 * sleeps; the child starts it again on its first allocation past the fast
 * path.
 *
 * The stdio list lock comes first.  glibc's fork() runs the prepare handlers
 * and only then takes that lock, while getline() allocates under a FILE's
 * lock and fflush(NULL) takes the list lock and then each FILE's: a prepare
 * handler that took the allocator's locks and then waited in fork() for the
 * list lock would close the cycle allocator -> list -> FILE -> allocator
 * (glibc bug 19431).  Taken first (it is recursive, so fork() takes it again
 * without waiting), the order is list -> FILE -> allocator, the one glibc
 * itself follows, and no thread that holds an allocator lock ever waits for
 * stdio.  glibc's fork() releases it once in the parent (we release our
 * hold) and re-initializes it in the child (so does our reset).
 *
 * A single-threaded process takes nothing, as glibc does: no other thread
 * can hold a lock, and fork() may run in a signal handler that interrupted
 * malloc() with a lock held.  The child then goes on with that lock exactly
 * as the interrupted code left it, and that code releases it.  Whether this
 * fork took the locks is remembered: the parent and child handlers undo what
 * the prepare handler did, whatever the flag says by then (the child has one
 * thread).
 *
 * The handlers are registered only once the process has threads
 * (lib/lock.h: kmm_fork_arm()), so a program that never starts one never
 * runs pthread_atfork() (64 KiB of libc's text).  A fork() before that runs
 * none of them, which is what they would do there anyway: the prepare
 * handler takes nothing in a process with one thread; the child's rseq
 * fence is registered again by its first use (lib/rseq.c); and the
 * background thread, whose state the child handler resets, registers them
 * before it starts.  glibc's pthread_create() calloc()s the new thread's
 * TLS while its caller is still the only thread, and calloc() registers
 * them there: no fork() can run between the process gaining a thread and
 * the handlers being in place.  The lock paths check too, for a C library
 * that allocates nothing there: a thread's first lock in a process with
 * threads registers them before it takes anything.  (There, a fork() in
 * another thread that has run its prepare handlers already can still miss
 * them, once.)
 *
 * The background thread makes the process multi-threaded.  A fork() in a
 * signal handler that interrupted the allocator is then known by the
 * forking thread's own count of the locks it holds or is taking
 * (kmm_lock_any_held()): the prepare handler parks the thread, which never
 * waits for a lock while it holds one and so lets go within one sweep, and
 * takes no lock, as in a single-threaded process.  A process with threads
 * of its own that forks in such a handler is not helped by this: another
 * of its threads may be half-way through a change; as under glibc's
 * malloc, it must not do that.
 */
extern void _IO_list_lock(void) __attribute__((weak));
extern void _IO_list_unlock(void) __attribute__((weak));
extern void _IO_list_resetlock(void) __attribute__((weak));

static void stdio_fork(enum kmm_fork_op op)
{
	if (!_IO_list_lock || !_IO_list_unlock || !_IO_list_resetlock)
		return;
	if (op == FORK_LOCK)
		_IO_list_lock();
	else if (op == FORK_UNLOCK)
		_IO_list_unlock();
	else
		_IO_list_resetlock();
}

static void init_fork(enum kmm_fork_op op)
{
	kmm_lock_fork(&init_lock, op);
}

static void track_fork(enum kmm_fork_op op)
{
	if (op == FORK_LOCK)
		track_fork_prepare();
	else if (op == FORK_UNLOCK)
		track_fork_parent();
	else
		track_fork_child();
}

static void vmalloc_fork(enum kmm_fork_op op)
{
	if (op == FORK_LOCK)
		vmalloc_fork_prepare();
	else if (op == FORK_UNLOCK)
		vmalloc_fork_parent();
	else
		vmalloc_fork_child();
}

static void (*const fork_locks[])(enum kmm_fork_op) = {
	stdio_fork,	    /* _IO_list_lock */
	mempool_fork_list,  /* mempool_list_lock */
	mempool_fork_pools, /* every pool->lock */
	init_fork,	    /* init_lock */
	track_fork,	    /* tt.lock (track.c) */
	vmalloc_fork,	    /* vm_state.lock */
	slab_fork_mutex,    /* slab_mutex */
	slab_fork_cpu,	    /* every cache->cpu[].lock (*) */
	slab_fork_depot,    /* every cache->node[].depot pop lock */
	slab_fork_node,	    /* every cache->node[].list_lock */
	secure_fork,	    /* KMM_SECURE: every quarantine ring's lock */
	page_fork_pcp,	    /* pcp_drain_mutex, every pcp->lock (*) */
	page_fork_zone,	    /* every zone->lock */
};

#define NR_FORK_LOCKS (sizeof(fork_locks) / sizeof(fork_locks[0]))

/* This fork's prepare handler took the locks (forks are serialized while it does). */
static bool fork_locked;
/* ... or parked the background thread, from a handler that interrupted the allocator. */
static bool fork_parked;

static void fork_prepare(void)
{
	fork_locked = !kmm_single_threaded();
	fork_parked = fork_locked && kmm_lock_any_held();
	if (fork_parked) {
		fork_locked = false;
		kswapd_park();
	}
	if (fork_locked)
		for (size_t i = 0; i < NR_FORK_LOCKS; i++)
			fork_locks[i](FORK_LOCK);
}

static void fork_parent(void)
{
	if (fork_locked)
		for (size_t i = NR_FORK_LOCKS; i-- > 0;)
			fork_locks[i](FORK_UNLOCK);
	if (fork_parked)
		kswapd_unpark();
}

static void fork_child(void)
{
	kmm_fork_arm_child();
	if (fork_locked) {
		for (size_t i = NR_FORK_LOCKS; i-- > 0;)
			fork_locks[i](FORK_RESET);
		/* Free again, and not held by this thread (it held none before). */
		kmm_lock_depth = 0;
	}
	/* A new mm: the membarrier fence is registered again, or rseq is off. */
	if (!rseq_fork_child() && pcp_mode == PCP_RSEQ)
		pcp_mode = PCP_LOCKED;
	fastpath_publish(kmm_is_up());
	kswapd_fork_child();
}

static bool fork_register(void)
{
	return pthread_atfork(fork_prepare, fork_parent, fork_child) == 0;
}

/*
 * The background thread's world mode (reclaim.c): the same locks but
 * glibc's stdio lock (it never touches stdio), stopping at the first busy
 * one, since the lists that later entries walk are stable only under the
 * locks before them.
 */
static void fork_lock_world(void)
{
	for (size_t i = 1; i < NR_FORK_LOCKS && !kmm_world_failed(); i++)
		fork_locks[i](FORK_LOCK);
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
			fastpath_publish(true);
			__atomic_store_n(&kmm_initialized, true, __ATOMIC_RELEASE);
			register_atfork = !atfork_registered;
			atfork_registered = true;
		}
	}
	initializing = false;
	kmm_unlock(&init_lock);
	/*
	 * pthread_atfork() may itself allocate (glibc grows its handler array):
	 * only now, with the allocator up and no lock held; and only once the
	 * process has threads (lib/lock.h: kmm_fork_arm()).
	 */
	if (register_atfork) {
		kmm_fork_arm_init(fork_register);
		kmm_fork_arm(FORK_ARM_STARTUP);
		/* Likewise the background thread (it allocates its stack and TLS). */
		kswapd_init(fork_lock_world);
		/* And KMM_STATS_SIGNAL's. */
		stats_signal_start();
	}
	return ret;
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
