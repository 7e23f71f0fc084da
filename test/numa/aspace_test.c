// SPDX-License-Identifier: MIT
/*
 * aspace_test.c - the zones hold address space as they grow (arena.c): a
 * process that has allocated little holds little, one that has allocated a
 * lot holds a small multiple of it; under a lowered RLIMIT_AS threads can
 * still be created, allocation fails only at the limit and works again once
 * the limit is raised; a mapping of someone else's inside a zone's layout
 * stops the zone there and is never overwritten.  The layout's place is
 * random, as the kernel's brk and mmap are, unless the process runs without
 * address space randomisation.
 */
#include <pthread.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/wait.h>

static void print_layout_if_asked(void);
#define KT_SETUP print_layout_if_asked()

#include <kmm/vmalloc.h>

#include "../kt_kmm.h"
#include "numa/mmzone.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define MiB (1UL << 20)
#define ORDER_1M 8
#define ORDER_2M 9
#define MAX_BLOCKS 2048

static void *blocks[MAX_BLOCKS];

static uintptr_t overlap(uintptr_t lo, uintptr_t hi, uintptr_t from, uintptr_t to)
{
	lo = MAX(lo, from);
	hi = MIN(hi, to);
	return hi > lo ? hi - lo : 0;
}

/* Bytes the process has mapped inside the zones' layouts and their descriptors'. */
static unsigned long zones_mapped(void)
{
	const struct kmm_arena *a = &kmm_arena;
	unsigned long lo, hi, total = 0;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		total += overlap(lo, hi, a->normal_base, a->normal_end) +
			 overlap(lo, hi, a->normal_map, a->normal_map_end) +
			 overlap(lo, hi, a->dma32_base, a->dma32_end) +
			 overlap(lo, hi, a->dma32_map, a->dma32_map_end);
	}
	if (f)
		fclose(f);
	return total;
}

static void free_blocks(unsigned int order)
{
	for (int i = 0; i < MAX_BLOCKS; i++) {
		if (blocks[i])
			kmm_free_pages_va(blocks[i], order);
		blocks[i] = NULL;
	}
}

/*
 * Right after start the zones hold a section and a chunk of descriptors
 * each, not their layout, and the vmalloc region reserves nothing until a
 * large block needs it: the process grew by less than 1 GiB.
 */
static void test_start_holds_little(void)
{
	unsigned long before = kt_status_kb("VmSize:") << 10, after, zones;
	unsigned long per_zone = 2 * SECTION_SIZE + 4 * MiB; /* a section, descriptors, growth */
	struct kmm_zone *dma32 = &kmm_nodes[0].node_zones[ZONE_DMA32];

	KT_REQUIRE(kmm_init() == 0, "init");
	after = kt_status_kb("VmSize:") << 10;
	zones = zones_mapped();
	KT_CHECK(kmm_arena.on_demand, "the layout at %#lx was refused: the whole of it is reserved",
		 (unsigned long)kmm_arena.normal_base);
	/* valgrind hands out holes below 4 GiB: there the DMA32 zone is held whole. */
	if (kt_under_valgrind() && dma32->reserved_pages == dma32->spanned_pages)
		zones -= dma32->spanned_pages << PAGE_SHIFT;
	KT_CHECK(zones <= per_zone * (unsigned long)(kmm_nr_online_nodes + 1),
		 "the zones hold %lu MiB after start", zones / MiB);
	KT_CHECK(after - before <= (1UL << 30), "start grew VmSize by %lu MiB",
		 (after - before) / MiB);
	for (int nid = 0; nid < kmm_nr_node_ids; nid++) {
		struct kmm_zone *zone = &kmm_nodes[nid].node_zones[ZONE_NORMAL];

		if (node_online(nid))
			KT_CHECK(zone->spanned_pages << PAGE_SHIFT >= (64UL << 30),
				 "node %d's layout is %lu MiB, not the 64 GiB default", nid,
				 (zone->spanned_pages << PAGE_SHIFT) / MiB);
	}
}

/* 256 MiB allocated: the zones hold at least that and less than twice it. */
static void test_holds_what_is_used(void)
{
	unsigned long start = zones_mapped(), held;
	const unsigned long n = 256;

	for (unsigned long i = 0; i < n; i++)
		KT_REQUIRE((blocks[i] = kmm_get_free_pages(KMM_GFP_KERNEL, ORDER_1M)),
			   "1 MiB block %lu", i);
	held = zones_mapped();
	KT_CHECK(held >= n * MiB, "%lu MiB allocated, only %lu MiB mapped in the zones", n,
		 held / MiB);
	KT_CHECK(held - start <= 2 * n * MiB, "%lu MiB allocated, the zones grew by %lu MiB", n,
		 (held - start) / MiB);
	free_blocks(ORDER_1M);
}

static void *thread_allocates(void *arg)
{
	void *p = kmm_get_free_pages(KMM_GFP_KERNEL, 0);

	(void)arg;
	if (p)
		kmm_free_pages_va(p, 0);
	return p;
}

/*
 * RLIMIT_AS lowered to 256 MiB over what the process holds: a thread can be
 * created, 1 MiB blocks come until the limit is really near, then NULL; once
 * the limit is lifted they come again.
 */
static void test_rlimit_as(void)
{
	struct rlimit old, low;
	unsigned long vm, at_failure = 0, got = 0;
	pthread_t t;
	void *ret = NULL;
	int err;

	if (kt_under_valgrind()) {
		printf("skipped: RLIMIT_AS would limit valgrind itself\n");
		return;
	}
	KT_REQUIRE(getrlimit(RLIMIT_AS, &old) == 0, "getrlimit");
	vm = kt_status_kb("VmSize:") << 10;
	low = old;
	low.rlim_cur = vm + 256 * MiB;
	if (old.rlim_cur != RLIM_INFINITY && old.rlim_cur < low.rlim_cur) {
		printf("skipped: RLIMIT_AS is already %lu MiB\n",
		       (unsigned long)old.rlim_cur / MiB);
		return;
	}
	KT_REQUIRE(setrlimit(RLIMIT_AS, &low) == 0, "setrlimit");
	err = pthread_create(&t, NULL, thread_allocates, NULL);
	if (!err)
		pthread_join(t, &ret);
	for (got = 0; got < MAX_BLOCKS; got++) {
		blocks[got] = kmm_get_free_pages(KMM_GFP_KERNEL, ORDER_1M);
		if (!blocks[got])
			break;
	}
	at_failure = kt_status_kb("VmSize:") << 10;
	free_blocks(ORDER_1M);
	KT_REQUIRE(setrlimit(RLIMIT_AS, &old) == 0, "setrlimit back");

	KT_CHECK(!err, "pthread_create under RLIMIT_AS: %s", strerror(err));
	KT_CHECK(ret != NULL, "the thread could not allocate a page");
	KT_CHECK(got < MAX_BLOCKS, "%lu MiB allocated under a limit of 256 MiB more", got);
	KT_CHECK(got >= 150, "only %lu MiB allocated before NULL, under a limit 256 MiB away", got);
	KT_CHECK(at_failure + 16 * MiB >= low.rlim_cur,
		 "NULL %lu MiB below the limit: the limit was not reached",
		 (low.rlim_cur - at_failure) / MiB);
	/* More than was given back: the zones must grow again. */
	for (unsigned long i = 0; i < got + 64; i++)
		KT_REQUIRE((blocks[i] = kmm_get_free_pages(KMM_GFP_KERNEL, ORDER_1M)),
			   "block %lu of %lu after the limit is raised again", i, got + 64);
	free_blocks(ORDER_1M);
}

static struct kmm_page *pages[MAX_BLOCKS];

/* Allocate @order blocks on node 0 alone until NULL.  Return: how many. */
static int fill_node0(kmm_gfp_t gfp, unsigned int order)
{
	int n = 0;

	gfp |= KMM_GFP_THISNODE;
	while (n < MAX_BLOCKS && (pages[n] = kmm_alloc_pages_node(0, gfp, order)))
		n++;
	return n;
}

static void free_pages_of(unsigned int order)
{
	for (int i = 0; i < MAX_BLOCKS && pages[i]; i++) {
		kmm_free_pages(pages[i], order);
		pages[i] = NULL;
	}
}

/*
 * Someone else's mapping 4 MiB past where the DMA32 zone ends: the zone grows
 * up to it, not over it (its contents survive), and stops there.
 */
static void test_mapping_in_the_way_of_a_zone(void)
{
	struct kmm_zone *zone = &kmm_nodes[0].node_zones[ZONE_DMA32];
	uintptr_t end, other;
	unsigned char *p;
	int n;

	if (!zone->spanned_pages || zone->reserved_pages == zone->spanned_pages) {
		KT_CHECK(kt_under_valgrind() || !zone->spanned_pages, "DMA32 zone held whole");
		printf("skipped: no DMA32 zone on demand\n");
		return;
	}
	end = (zone->zone_start_pfn + zone->reserved_pages) << PAGE_SHIFT;
	other = end + 4 * MiB;
	p = mmap((void *)other, SECTION_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	KT_REQUIRE(p == (void *)other, "mapping at %#lx: %s", (unsigned long)other,
		   strerror(errno));
	memset(p, 0x5a, SECTION_SIZE);
	n = fill_node0(KMM_GFP_DMA32, ORDER_2M);
	KT_CHECK(n > 0 && n < MAX_BLOCKS, "%d DMA32 blocks", n);
	KT_CHECK((zone->zone_start_pfn + zone->present_pages) << PAGE_SHIFT == other,
		 "the zone ends at %#lx, the other mapping starts at %#lx",
		 (unsigned long)((zone->zone_start_pfn + zone->present_pages) << PAGE_SHIFT),
		 (unsigned long)other);
	KT_CHECK(kmm_alloc_pages_node(0, KMM_GFP_DMA32 | KMM_GFP_THISNODE, ORDER_2M) == NULL,
		 "the full zone grew");
	for (size_t i = 0; i < SECTION_SIZE; i++)
		if (p[i] != 0x5a) {
			KT_CHECK(0, "byte %zu of the other mapping is %#x", i, p[i]);
			break;
		}
	free_pages_of(ORDER_2M);
	munmap(p, SECTION_SIZE);
}

/*
 * Someone else's mapping where node 0's next chunk of descriptors goes: the
 * zone grows as far as its descriptors reach and stops there.
 */
static void test_mapping_in_the_way_of_descriptors(void)
{
	struct kmm_zone *zone = &kmm_nodes[0].node_zones[ZONE_NORMAL];
	uintptr_t other;
	void *p;
	int n;

	if (!kmm_arena.on_demand) {
		printf("skipped: the layout is reserved whole\n");
		return;
	}
	other = (uintptr_t)(zone->mem_map + zone->mapped_pages);
	p = mmap((void *)other, SECTION_SIZE, PROT_READ,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	KT_REQUIRE(p == (void *)other, "mapping at %#lx: %s", (unsigned long)other,
		   strerror(errno));
	n = fill_node0(KMM_GFP_KERNEL, ORDER_2M);
	KT_CHECK(n > 0 && n < MAX_BLOCKS, "%d blocks", n);
	KT_CHECK(zone->present_pages == zone->mapped_pages,
		 "%lu pages present, descriptors for %lu", zone->present_pages, zone->mapped_pages);
	KT_CHECK(zone->max_pages == zone->present_pages, "the zone may still grow to %lu pages",
		 zone->max_pages);
	free_pages_of(ORDER_2M);
	munmap(p, SECTION_SIZE);
}

/* Run as a child by test_layout_randomised(): print where the layout went and exit. */
static void print_layout_if_asked(void)
{
	if (!getenv("ASPACE_PRINT_LAYOUT"))
		return;
	if (kmm_init())
		exit(2);
	printf("%lx %d\n", (unsigned long)kmm_arena.normal_base, kmm_arena.on_demand);
	exit(0);
}

/* The layout's base in a new process of this program (run without randomisation: @fixed). */
static uintptr_t child_layout(bool fixed, int *on_demand)
{
	unsigned long base = 0;
	int fd[2], status = 0;
	char buf[64] = "";
	ssize_t n;
	pid_t pid;

	*on_demand = 0;
	if (pipe(fd))
		return 0;
	pid = fork();
	if (pid == 0) {
		dup2(fd[1], 1);
		setenv("ASPACE_PRINT_LAYOUT", "1", 1);
		if (fixed)
			personality(ADDR_NO_RANDOMIZE);
		execl("/proc/self/exe", "aspace_test", (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	n = read(fd[0], buf, sizeof(buf) - 1);
	close(fd[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) || n <= 0 || sscanf(buf, "%lx %d", &base, on_demand) != 2)
		return 0;
	return base;
}

/*
 * Each process lays its zones out at a random place between 32 and 42 TiB,
 * on a 4 MiB boundary (the zones' buddy arithmetic); a process that runs
 * without randomisation (setarch -R, gdb) at 32 TiB, as before.  Two random
 * places coincide with a chance of about 2^-21.
 */
static void test_layout_randomised(void)
{
	const uintptr_t lo = 32UL << 40, hi = 42UL << 40;
	uintptr_t a, b, fixed;
	int da, db, dfixed;

	if (kt_under_valgrind()) {
		/* /proc/self/exe is valgrind's tool, and it reserves the layout where mmap() puts it */
		printf("skipped: under valgrind\n");
		return;
	}
	a = child_layout(false, &da);
	b = child_layout(false, &db);
	fixed = child_layout(true, &dfixed);
	KT_REQUIRE(a && b && fixed, "a child did not report its layout");
	KT_CHECK(da && db && dfixed,
		 "the layout at %#lx, %#lx, %#lx was refused: reserved elsewhere", (unsigned long)a,
		 (unsigned long)b, (unsigned long)fixed);
	KT_CHECK(a >= lo && a < hi && b >= lo && b < hi, "layouts at %#lx and %#lx",
		 (unsigned long)a, (unsigned long)b);
	KT_CHECK(!(a & (4 * MiB - 1)) && !(b & (4 * MiB - 1)), "layouts at %#lx and %#lx",
		 (unsigned long)a, (unsigned long)b);
	KT_CHECK(a != b, "two processes laid out at the same place, %#lx", (unsigned long)a);
	KT_CHECK(fixed == lo, "without randomisation the layout is at %#lx", (unsigned long)fixed);
	printf("layouts at %#lx, %#lx; without randomisation %#lx\n", (unsigned long)a,
	       (unsigned long)b, (unsigned long)fixed);
}

/*
 * The DMA32 zone's descriptors lie in libkmm's layout, just below the Normal
 * zones' descriptors, not among the program's own mappings: mmap() puts a
 * mapping of 2 MiB on a 2 MiB boundary, and the program's next mappings go
 * below it (python3's 1 MiB arenas then began half-way through a huge page
 * in half the runs, and took 256 page faults each instead of one).
 */
static void test_dma32_map_in_layout(void)
{
	uintptr_t map, normal;

	KT_REQUIRE(!kmm_init(), "kmm_init() failed");
	map = kmm_arena.dma32_map;
	normal = kmm_arena.normal_map;
	if (!map || !kmm_arena.on_demand) {
		printf("skipped: no DMA32 zone, or the layout reserved where mmap() put it\n");
		return;
	}
	KT_CHECK(map < normal && normal - map <= 8 * MiB,
		 "the DMA32 descriptors at %#lx, not just below the Normal ones at %#lx",
		 (unsigned long)map, (unsigned long)normal);
	KT_CHECK(kmm_arena.dma32_map_end <= normal,
		 "the DMA32 descriptors [%#lx, %#lx) reach past the start of the Normal ones, %#lx",
		 (unsigned long)map, (unsigned long)kmm_arena.dma32_map_end, (unsigned long)normal);
	printf("DMA32 descriptors at %#lx, the Normal ones at %#lx\n", (unsigned long)map,
	       (unsigned long)normal);
}

/*
 * vmalloc's chunks too lie in libkmm's part of the address space, above the
 * Normal zones, not among the program's mappings: a chunk placed by mmap()
 * left holes of up to 2 MiB beside it (its slack trimmed), and python3's
 * arenas, scattered into them, lost their huge pages.
 */
static void test_vmalloc_chunks_in_layout(void)
{
	uintptr_t end;
	char *a, *b;

	KT_REQUIRE(!kmm_init(), "kmm_init() failed");
	end = kmm_arena.normal_end;
	if (!kmm_arena.on_demand) {
		printf("skipped: the layout reserved where mmap() put it\n");
		return;
	}
	a = kmm_vmalloc(6 * MiB);
	b = kmm_vmalloc(40 * MiB); /* past the first chunk: a second one */
	KT_REQUIRE(a && b, "vmalloc of 6 and 40 MiB failed");
	a[0] = b[40 * MiB - 1] = 1;
	KT_CHECK((uintptr_t)a >= end && (uintptr_t)a < end + (1UL << 40) && (uintptr_t)b >= end &&
			 (uintptr_t)b < end + (1UL << 40),
		 "vmalloc areas at %p and %p, not just above the Normal zones' layout (%#lx)",
		 (void *)a, (void *)b, (unsigned long)end);
	printf("vmalloc areas at %p and %p; the Normal layout ends at %#lx\n", (void *)a, (void *)b,
	       (unsigned long)end);
	kmm_vfree(a);
	kmm_vfree(b);
}

/* The VmFlags line of the mapping holding @addr in /proc/self/smaps, into @flags. */
static int vm_flags_of(uintptr_t addr, char *flags, size_t size)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0, found = 0;

	while (f && !found && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (line[strspn(line, "0123456789abcdef")] == '-' &&
		    sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			in = addr >= lo && addr < hi;
		else if (in && !strncmp(line, "VmFlags:", 8)) {
			size_t n = strlen(line + 8);

			n = n < size ? n : size - 1;
			memcpy(flags, line + 8, n);
			flags[n] = 0;
			found = 1;
		}
	}
	if (f)
		fclose(f);
	return found;
}

/*
 * The first section and the descriptors stay on 4 KiB pages whatever the
 * system's THP mode (MADV_NOHUGEPAGE, "nh" in smaps): with THP on "always"
 * the kernel put a huge page under each at its first touch, and a program of
 * a few allocations held 4 MiB more (arena.c, keep_small_pages()).  Run
 * early: a section a 2 MiB run later takes whole is advised huge by design.
 */
static void test_small_sections_no_huge_pages(void)
{
	char flags[256];
	void *p;

	KT_REQUIRE(!kmm_init(), "kmm_init() failed");
	if (access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK)) {
		printf("skipped: a kernel without transparent huge pages\n");
		return;
	}
	p = kmm_kmalloc(64, KMM_GFP_KERNEL);
	KT_REQUIRE(p, "kmalloc(64) failed");
	KT_REQUIRE(vm_flags_of((uintptr_t)p, flags, sizeof(flags)), "no mapping at %p", p);
	KT_CHECK(strstr(flags, " nh") && !strstr(flags, " hg"),
		 "the section of a small object (%p) may get a huge page: VmFlags%s", p, flags);
	KT_REQUIRE(vm_flags_of((uintptr_t)kmm_virt_to_page(p), flags, sizeof(flags)),
		   "no mapping at the descriptor of %p", p);
	KT_CHECK(strstr(flags, " nh") && !strstr(flags, " hg"),
		 "the descriptors of a small object (%p) may get a huge page: VmFlags%s", p, flags);
	kmm_kfree(p);
}

KT_MAIN(KT_TEST(test_start_holds_little), KT_TEST(test_small_sections_no_huge_pages),
	KT_TEST(test_holds_what_is_used), KT_TEST(test_rlimit_as),
	KT_TEST(test_mapping_in_the_way_of_a_zone), KT_TEST(test_mapping_in_the_way_of_descriptors),
	KT_TEST(test_layout_randomised), KT_TEST(test_dma32_map_in_layout),
	KT_TEST(test_vmalloc_chunks_in_layout))
