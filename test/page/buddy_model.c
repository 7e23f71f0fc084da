// SPDX-License-Identifier: MIT
/*
 * buddy_model.c - a randomized model test of the buddy allocator.
 *
 * Run with KMM_ARENA_LIMIT (meson sets 128M) so the zone's size is known: the
 * test first fills the whole limit with order-10 blocks and frees them, so the
 * starting buddyinfo is "every page in service, merged into 4 MiB blocks".
 * Then thousands of random allocations (random orders) and frees in random
 * order, checking for each block: it lies in a zone in service, it is aligned
 * to its size, it overlaps no live block (a shadow bitmap of pages), and the
 * pattern written into each of its pages is intact when it is freed.  At the
 * end buddyinfo must be back to the starting state, and the free lists must
 * pass buddy_check_zone().
 */
#include "../kt_kmm.h"
#include "page/internal.h"

#define LIMIT_PAGES ((128UL << 20) >> KMM_PAGE_SHIFT)
#define MAX_LIVE 4096

struct block {
	char *addr;
	unsigned int order;
	uint64_t tag;
};

static struct block live[MAX_LIVE];
static int nr_live;
static uint8_t shadow[LIMIT_PAGES / 8];
static uintptr_t zone_base;

static unsigned long shadow_index(const void *p)
{
	return ((uintptr_t)p - zone_base) >> KMM_PAGE_SHIFT;
}

static struct kmm_zone *normal_zone(void)
{
	return &kmm_nodes[0].node_zones[ZONE_NORMAL];
}

/* Orders weighted like a real workload: mostly small, some up to 4 MiB. */
static unsigned int random_order(void)
{
	uint64_t r = kt_rand() % 100;

	if (r < 40)
		return 0;
	if (r < 60)
		return 1 + (unsigned int)(kt_rand() % 2);
	if (r < 85)
		return 3 + (unsigned int)(kt_rand() % 4);
	return 7 + (unsigned int)(kt_rand() % 4);
}

static void write_pattern(const struct block *b)
{
	for (unsigned long i = 0; i < (1UL << b->order); i++) {
		uint64_t *w = (uint64_t *)(b->addr + (i << KMM_PAGE_SHIFT));

		w[0] = b->tag ^ i;
		w[KMM_PAGE_SIZE / 8 - 1] = ~(b->tag ^ i);
	}
}

static int check_pattern(const struct block *b)
{
	for (unsigned long i = 0; i < (1UL << b->order); i++) {
		uint64_t *w = (uint64_t *)(b->addr + (i << KMM_PAGE_SHIFT));

		if (w[0] != (b->tag ^ i) || w[KMM_PAGE_SIZE / 8 - 1] != ~(b->tag ^ i))
			return 0;
	}
	return 1;
}

static void model_alloc(void)
{
	struct block b = { NULL, random_order(), kt_rand() };
	unsigned long first, n = 1UL << b.order, overlaps = 0;
	struct kmm_page *page;

	errno = 0;
	if (kt_rand() & 1) {
		page = kmm_alloc_pages(KMM_GFP_KERNEL, b.order);
		b.addr = page ? kmm_page_address(page) : NULL;
	} else {
		b.addr = kmm_get_free_pages(KMM_GFP_KERNEL, b.order);
	}
	if (!b.addr) {
		/* Possible only when the limit is full or fragmented. */
		KT_CHECK(errno == ENOMEM, "errno %d", errno);
		return;
	}
	page = kmm_virt_to_page(b.addr);
	KT_REQUIRE(page && kmm_page_address(page) == b.addr, "descriptor round trip %p",
		   (void *)b.addr);
	KT_REQUIRE(kmm_virt_to_page(b.addr + (n << KMM_PAGE_SHIFT) - 1) == page + n - 1,
		   "block %p order %u not within one zone", (void *)b.addr, b.order);
	KT_REQUIRE(((uintptr_t)b.addr & ((n << KMM_PAGE_SHIFT) - 1)) == 0,
		   "block %p of order %u not aligned to its size", (void *)b.addr, b.order);
	first = shadow_index(b.addr);
	KT_REQUIRE(first + n <= LIMIT_PAGES, "block %p beyond the limit", (void *)b.addr);
	for (unsigned long i = first; i < first + n; i++) {
		overlaps += (shadow[i / 8] >> (i % 8)) & 1;
		shadow[i / 8] |= (uint8_t)(1u << (i % 8));
	}
	KT_REQUIRE(overlaps == 0, "block %p order %u overlaps %lu live pages", (void *)b.addr,
		   b.order, overlaps);
	write_pattern(&b);
	live[nr_live++] = b;
}

static void model_free(int idx)
{
	struct block b = live[idx];
	unsigned long first = shadow_index(b.addr);

	KT_CHECK(check_pattern(&b), "block %p order %u was overwritten", (void *)b.addr, b.order);
	for (unsigned long i = first; i < first + (1UL << b.order); i++)
		shadow[i / 8] &= (uint8_t) ~(1u << (i % 8));
	if (kt_rand() & 1)
		kmm_free_pages(kmm_virt_to_page(b.addr), b.order);
	else
		kmm_free_pages_va(b.addr, b.order);
	live[idx] = live[--nr_live];
}

static void test_fill_and_model(void)
{
	unsigned long start[KMM_NR_PAGE_ORDERS], end[KMM_NR_PAGE_ORDERS];
	char start_text[8192], end_text[8192];
	void *blocks[LIMIT_PAGES >> KMM_MAX_PAGE_ORDER];
	int steps = kt_under_valgrind() ? 10000 : 40000, nr = 0, nr_filled;
	unsigned long nallocs = 0;

	/* Fill the limit with 4 MiB blocks: the zone then holds exactly the limit. */
	while (nr < (int)ARRAY_SIZE(blocks)) {
		void *p;

		errno = 0;
		p = kmm_get_free_pages(KMM_GFP_KERNEL, KMM_MAX_PAGE_ORDER);
		if (!p) {
			KT_CHECK(errno == ENOMEM, "errno %d after the limit", errno);
			break;
		}
		blocks[nr++] = p;
	}
	/* kmm_init() keeps a few pages (kmalloc metadata): at most one block short. */
	KT_REQUIRE(nr >= (int)ARRAY_SIZE(blocks) - 1, "only %d of %zu 4 MiB blocks", nr,
		   ARRAY_SIZE(blocks));
	errno = 0;
	KT_CHECK(!kmm_get_free_pages(KMM_GFP_KERNEL, KMM_MAX_PAGE_ORDER) && errno == ENOMEM,
		 "a 4 MiB block past the limit (errno %d)", errno);
	nr_filled = nr;
	while (nr)
		kmm_free_pages_va(blocks[--nr], KMM_MAX_PAGE_ORDER);

	zone_base = normal_zone()->zone_start_pfn << KMM_PAGE_SHIFT;
	kmm_drain_all_pages();
	KT_REQUIRE(kt_buddyinfo("Normal", start) == 0, "no Normal line in buddyinfo");
	KT_CHECK(start[KMM_MAX_PAGE_ORDER] == (unsigned long)nr_filled, "%lu blocks of order 10",
		 start[KMM_MAX_PAGE_ORDER]);
	kt_dump("buddyinfo", start_text, sizeof(start_text));

	for (int step = 0; step < steps; step++) {
		/* Drift between mostly-allocating and mostly-freeing phases. */
		int alloc_bias = (step / 2000) % 2 ? 35 : 65;

		if (nr_live < MAX_LIVE && (nr_live == 0 || (int)(kt_rand() % 100) < alloc_bias)) {
			model_alloc();
			nallocs++;
		} else {
			model_free((int)(kt_rand() % (uint64_t)nr_live));
		}
		if (step % 5000 == 0)
			buddy_check_zone(normal_zone());
	}
	printf("model: %lu allocations, %d live at the end of the random phase\n", nallocs,
	       nr_live);
	buddy_check_zone(normal_zone());
	while (nr_live)
		model_free(nr_live - 1);
	kmm_drain_all_pages();
	buddy_check_zone(normal_zone());

	KT_REQUIRE(kt_buddyinfo("Normal", end) == 0, "no Normal line in buddyinfo");
	kt_dump("buddyinfo", end_text, sizeof(end_text));
	KT_CHECK(strcmp(start_text, end_text) == 0, "buddyinfo changed:\nstart:\n%s\nend:\n%s",
		 start_text, end_text);
	printf("buddyinfo after the model test:\n%s", end_text);
}

KT_MAIN(KT_TEST(test_fill_and_model))
