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

#include <kmm/kmm.h>

#include "init.h"
#include "lib/config.h"
#include "lib/lock.h"
#include "numa/mmzone.h"
#include "numa/os.h"
#include "page/internal.h"
#include "page/pcp.h"

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

	/* setup_arch() -> init_mem_mapping() and alloc_node_mem_map(): arenas. */
	ret = arena_init();
	if (ret)
		return ret;

	/* setup_per_cpu_areas(): per-CPU data is sized from the possible CPUs above. */

	/* build_all_zonelists(). */
	build_all_zonelists();

	/* page_alloc_init() and mm_init() -> mem_init(): the buddy takes over. */
	buddy_init();

	/* mm_init() -> kmem_cache_init(), vmalloc_init(): later layers. */

	/* setup_per_cpu_pageset(): the per-CPU page caches, and rseq. */
	return pcp_init();
}

int kmm_init_slow(void)
{
	int ret = 0;

	kmm_lock(&init_lock);
	if (!__atomic_load_n(&kmm_initialized, __ATOMIC_ACQUIRE)) {
		ret = start_kernel();
		if (!ret)
			__atomic_store_n(&kmm_initialized, true, __ATOMIC_RELEASE);
	}
	kmm_unlock(&init_lock);
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
