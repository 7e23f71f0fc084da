// SPDX-License-Identifier: MIT
/*
 * vmalloc_reserve.c - the vmalloc region reserves address space as areas
 * need it: nothing before the first large block, a small multiple of what
 * is in use after, all of it given back once the blocks are freed.  Under a
 * lowered RLIMIT_AS a large block fails with ENOMEM only where the limit is
 * really reached, threads can still be created, and after the limit is
 * raised large blocks work again.
 */
#define KT_SETUP kmm_init()

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "../kt_kmm.h"

#define MiB (1UL << 20)

/* VmSize of this process, in bytes. */
static size_t vm_size(void)
{
	return kt_status_kb("VmSize:") << 10;
}

static size_t reserved(void)
{
	return kt_vmstat("vmalloc_reserved_kb") << 10;
}

static bool under_valgrind(void)
{
	const char *preload = getenv("LD_PRELOAD");

	return preload && strstr(preload, "vgpreload");
}

static void test_nothing_reserved_at_start(void)
{
	size_t before, during;
	char *p;

	KT_CHECK(reserved() == 0, "the region reserved %zu bytes before any large block",
		 reserved());
	KT_CHECK(kt_vmstat("vmalloc_chunks") == 0, "%lu chunks before any large block",
		 kt_vmstat("vmalloc_chunks"));
	before = vm_size();
	p = kmm_vmalloc(5 * MiB);
	KT_REQUIRE(p, "vmalloc of 5 MiB");
	during = vm_size();
	KT_CHECK(reserved() >= 5 * MiB && reserved() <= 64 * MiB,
		 "a 5 MiB block reserved %zu bytes", reserved());
	KT_CHECK(during - before <= 64 * MiB, "VmSize grew by %zu bytes for a 5 MiB block",
		 during - before);
	kmm_vfree(p);
	kmm_reclaim();
	KT_CHECK(reserved() == 0, "%zu bytes still reserved after the free", reserved());
	/* The area index's own page may stay. */
	KT_CHECK(vm_size() <= before + MiB, "VmSize %zu before, %zu after the free", before,
		 vm_size());
}

static void test_reserve_follows_use(void)
{
	enum { N = 64 };
	static char *areas[N];
	size_t used = 0, before;

	kmm_reclaim();
	before = vm_size();
	for (int i = 0; i < N; i++) {
		size_t size = (5 + kt_rand() % 28) * MiB;

		areas[i] = kmm_vmalloc(size);
		KT_REQUIRE(areas[i], "vmalloc of %zu bytes", size);
		areas[i][0] = (char)i;
		/* A few freed on the way: their ranges are reused or given back. */
		if (i % 4 == 3) {
			kmm_vfree(areas[i - 2]);
			areas[i - 2] = NULL;
		}
	}
	used = 0;
	for (int i = 0; i < N; i++)
		if (areas[i])
			used += kmm_ksize(areas[i]);
	KT_CHECK(reserved() <= 4 * used + 64 * MiB, "%zu MiB reserved for %zu MiB in use",
		 reserved() >> 20, used >> 20);
	KT_CHECK(reserved() >= used, "%zu MiB reserved for %zu MiB in use", reserved() >> 20,
		 used >> 20);
	for (int i = 0; i < N; i++)
		if (areas[i]) {
			KT_CHECK(areas[i][0] == (char)i, "area %d changed", i);
			kmm_vfree(areas[i]);
		}
	kmm_reclaim();
	KT_CHECK(reserved() == 0, "%zu bytes still reserved after every free", reserved());
	KT_CHECK(kt_vmstat("vmalloc_chunks") == 0, "%lu chunks left", kt_vmstat("vmalloc_chunks"));
	KT_CHECK(vm_size() <= before + MiB, "VmSize %zu MiB before, %zu MiB after", before >> 20,
		 vm_size() >> 20);
}

static void *thread_fn(void *arg)
{
	return arg;
}

static bool thread_works(void)
{
	pthread_t t;
	void *ret = NULL;

	if (pthread_create(&t, NULL, thread_fn, (void *)0x1234))
		return false;
	pthread_join(t, &ret);
	return ret == (void *)0x1234;
}

static void test_rlimit_as(void)
{
	struct rlimit old, low;
	char *p, *q;

	if (under_valgrind()) {
		printf("skipped under valgrind: RLIMIT_AS applies to valgrind itself\n");
		return;
	}
#if defined(__SANITIZE_ADDRESS__)
	printf("skipped under ASan: its shadow and allocator need address space of their own\n");
	return;
#endif
	kmm_reclaim();
	KT_REQUIRE(getrlimit(RLIMIT_AS, &old) == 0, "getrlimit");
	low = old;
	low.rlim_cur = vm_size() + 256 * MiB;
	KT_REQUIRE(setrlimit(RLIMIT_AS, &low) == 0, "setrlimit: %s", strerror(errno));
	p = kmm_kmalloc(100 * MiB, KMM_GFP_KERNEL);
	KT_CHECK(p, "a 100 MiB block under VmSize + 256 MiB: %s", strerror(errno));
	if (p)
		memset(p, 0x11, 100 * MiB);
	errno = 0;
	q = kmm_kmalloc(1024 * MiB, KMM_GFP_KERNEL);
	KT_CHECK(!q && errno == ENOMEM, "a 1 GiB block under VmSize + 256 MiB: %p, %s", (void *)q,
		 strerror(errno));
	kmm_kfree(q);
	KT_CHECK(thread_works(), "pthread_create under the lowered limit");
	KT_REQUIRE(setrlimit(RLIMIT_AS, &old) == 0, "setrlimit back: %s", strerror(errno));
	q = kmm_kmalloc(1024 * MiB, KMM_GFP_KERNEL);
	KT_CHECK(q, "a 1 GiB block after the limit was raised: %s", strerror(errno));
	if (q) {
		q[0] = 1;
		q[1024 * MiB - 1] = 2;
	}
	KT_CHECK(!p || (p[0] == 0x11 && p[100 * MiB - 1] == 0x11), "the 100 MiB block changed");
	kmm_kfree(q);
	kmm_kfree(p);
	kmm_reclaim();
	KT_CHECK(reserved() == 0, "%zu bytes still reserved", reserved());
}

KT_MAIN({ "nothing_reserved_at_start", test_nothing_reserved_at_start },
	{ "reserve_follows_use", test_reserve_follows_use }, { "rlimit_as", test_rlimit_as })
