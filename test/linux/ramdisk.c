// SPDX-License-Identifier: MIT
/*
 * ramdisk.c - kernel-style code built against <kmm/linux.h>: a small RAM disk
 * "driver" written with the kernel's allocation API only (kmem_cache with a
 * constructor, mempool, kmalloc/kcalloc/krealloc, alloc_pages/page_address,
 * __get_free_pages, vmalloc, kvmalloc), then checked.  The test compiles it
 * through pkg-config against an installed libkmm and runs it: it proves the
 * header compiles with -Wall -Wextra -Werror, links, and keeps the kernel's
 * semantics where libkmm can (ctor state, zeroing, mempool reserve and wait).
 */
#include <kmm/linux.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

static int failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* ---- the kernel's list, as drivers use it ---- */

struct list_head {
	struct list_head *next, *prev;
};

static void INIT_LIST_HEAD(struct list_head *l)
{
	l->next = l->prev = l;
}

static void list_add_tail(struct list_head *n, struct list_head *head)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

static void list_del(struct list_head *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
}

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* ---- the driver ---- */

#define RD_MAGIC 0x52444951u /* "RDIQ" */
#define RD_SECTORS 64
#define RD_SECTOR_SIZE 512
#define RD_ORDER 3 /* 8 pages of sector data per chunk */

struct rd_request {
	unsigned int magic; /* set by the constructor, kept across frees */
	unsigned int sector;
	unsigned int nr;
	struct list_head queue;
};

struct ramdisk {
	char *name;
	struct kmem_cache *req_cache;
	mempool_t *req_pool;
	struct page *chunk; /* RD_SECTORS * RD_SECTOR_SIZE bytes = 8 pages */
	unsigned long *bitmap;
	unsigned int *map; /* vmalloc'd sector map */
	struct list_head queue;
	unsigned int ctor_calls;
};

static struct ramdisk *the_disk;

static void rd_req_ctor(void *obj)
{
	struct rd_request *rq = obj;

	rq->magic = RD_MAGIC;
	INIT_LIST_HEAD(&rq->queue);
	__atomic_fetch_add(&the_disk->ctor_calls, 1, __ATOMIC_RELAXED);
}

static struct ramdisk *rd_probe(const char *name)
{
	struct ramdisk *rd = kzalloc(sizeof(*rd), GFP_KERNEL);

	if (!rd)
		return NULL;
	the_disk = rd;
	rd->name = kstrdup(name, GFP_KERNEL);
	rd->req_cache = kmem_cache_create("rd_request", sizeof(struct rd_request), 0,
					  SLAB_HWCACHE_ALIGN | SLAB_ACCOUNT, rd_req_ctor);
	if (!rd->name || !rd->req_cache)
		goto fail;
	rd->req_pool = mempool_create_slab_pool(4, rd->req_cache);
	rd->chunk = alloc_pages(GFP_KERNEL | __GFP_ZERO, RD_ORDER);
	rd->bitmap = kcalloc(RD_SECTORS / (8 * sizeof(long)), sizeof(long), GFP_KERNEL);
	rd->map = vzalloc(RD_SECTORS * sizeof(*rd->map));
	if (!rd->req_pool || !rd->chunk || !rd->bitmap || !rd->map)
		goto fail;
	INIT_LIST_HEAD(&rd->queue);
	return rd;
fail:
	vfree(rd->map);
	kfree(rd->bitmap);
	if (rd->chunk)
		__free_pages(rd->chunk, RD_ORDER);
	mempool_destroy(rd->req_pool);
	kmem_cache_destroy(rd->req_cache);
	kfree(rd->name);
	kfree(rd);
	return NULL;
}

static int rd_submit(struct ramdisk *rd, unsigned int sector, unsigned int nr, gfp_t gfp)
{
	struct rd_request *rq = mempool_alloc(rd->req_pool, gfp);

	if (!rq)
		return -ENOMEM;
	CHECK(rq->magic == RD_MAGIC); /* the constructor's state survives free */
	rq->sector = sector;
	rq->nr = nr;
	list_add_tail(&rq->queue, &rd->queue);
	return 0;
}

/* Completes every queued request: writes its sectors, frees it to the pool. */
static unsigned int rd_complete_all(struct ramdisk *rd)
{
	unsigned char *data = page_address(rd->chunk);
	unsigned int done = 0;

	while (rd->queue.next != &rd->queue) {
		struct rd_request *rq = container_of(rd->queue.next, struct rd_request, queue);

		list_del(&rq->queue);
		for (unsigned int s = rq->sector; s < rq->sector + rq->nr; s++) {
			memset(data + (size_t)s * RD_SECTOR_SIZE, (int)(s & 0xff), RD_SECTOR_SIZE);
			rd->bitmap[s / (8 * sizeof(long))] |= 1ul << (s % (8 * sizeof(long)));
			rd->map[s]++;
		}
		mempool_free(rq, rd->req_pool);
		done++;
	}
	return done;
}

static void rd_remove(struct ramdisk *rd)
{
	vfree(rd->map);
	kfree(rd->bitmap);
	__free_pages(rd->chunk, RD_ORDER);
	mempool_destroy(rd->req_pool);
	kmem_cache_destroy(rd->req_cache);
	kfree(rd->name);
	kfree(rd);
}

/* ---- the checks ---- */

static void check_driver(void)
{
	struct ramdisk *rd = rd_probe("ram0");
	unsigned char *data;

	CHECK(rd != NULL);
	if (!rd)
		return;
	CHECK(strcmp(rd->name, "ram0") == 0);
	CHECK(rd->ctor_calls > 0);
	CHECK(virt_to_page(page_address(rd->chunk)) == rd->chunk);
	CHECK(((uintptr_t)page_address(rd->chunk) & ((PAGE_SIZE << RD_ORDER) - 1)) == 0);
	CHECK(is_vmalloc_addr(rd->map));
	CHECK(!is_vmalloc_addr(rd->bitmap));
	for (unsigned int s = 0; s < RD_SECTORS; s++)
		CHECK(rd->map[s] == 0);

	for (unsigned int i = 0; i < 8; i++)
		CHECK(rd_submit(rd, i * 8, 8, GFP_NOIO) == 0);
	CHECK(rd_complete_all(rd) == 8);
	data = page_address(rd->chunk);
	CHECK(data[0] == 0 && data[5 * RD_SECTOR_SIZE] == 5 && data[63 * RD_SECTOR_SIZE] == 63);
	for (unsigned int s = 0; s < RD_SECTORS; s++)
		CHECK(rd->map[s] == 1);
	CHECK(rd->bitmap[0] == ~0ul);
	rd_remove(rd);
}

static void check_kmalloc(void)
{
	char *p = kmalloc(100, GFP_KERNEL);
	int *z = kzalloc(64 * sizeof(int), GFP_ATOMIC);
	unsigned long *big;

	CHECK(p && z);
	CHECK(ksize(p) >= 100);
	for (int i = 0; i < 64; i++)
		CHECK(z[i] == 0);
	memcpy(p, "kernel", 7);
	p = krealloc(p, 5000, GFP_KERNEL);
	CHECK(p && strcmp(p, "kernel") == 0 && ksize(p) >= 5000);
	CHECK(kmalloc_array(SIZE_MAX / 2, 4, GFP_KERNEL) == NULL); /* overflow */
	CHECK(kcalloc(SIZE_MAX / 2, 4, GFP_KERNEL) == NULL);
	big = kmemdup(z, 64 * sizeof(int), GFP_KERNEL);
	CHECK(big && memcmp(big, z, 64 * sizeof(int)) == 0);
	kfree(big);
	kfree(p);
	kfree(z);
	kfree(NULL);
}

static void check_pages(void)
{
	unsigned long a = __get_free_pages(GFP_KERNEL, 2);
	unsigned long z = get_zeroed_page(GFP_KERNEL);
	unsigned long low = __get_free_page(GFP_DMA32);
	struct page *pg = alloc_page(GFP_KERNEL);

	CHECK(a && z && low && pg);
	CHECK((a & ((PAGE_SIZE << 2) - 1)) == 0);
	for (size_t i = 0; i < PAGE_SIZE; i++)
		CHECK(((unsigned char *)z)[i] == 0);
	CHECK(low < (1ul << 32));
	CHECK(virt_to_page((void *)a) != NULL);
	CHECK(page_to_nid(virt_to_page((void *)a)) >= 0);
	memset(page_address(pg), 0xa5, PAGE_SIZE);
	__free_page(pg);
	free_pages(a, 2);
	free_page(z);
	free_page(low);
	free_pages(0, 3); /* ignored, as in the kernel */
}

static void check_vmalloc(void)
{
	size_t n = 12ul << 20;
	unsigned char *v = vmalloc(n);
	unsigned char *kv = kvmalloc(64, GFP_KERNEL);
	unsigned char *kvbig = kvzalloc(16ul << 20, GFP_KERNEL);

	CHECK(v && kv && kvbig);
	memset(v, 1, n);
	CHECK(v[n - 1] == 1 && is_vmalloc_addr(v));
	CHECK(vmalloc_to_page(v + PAGE_SIZE) == NULL || is_vmalloc_addr(v + PAGE_SIZE));
	CHECK(!is_vmalloc_addr(kv));
	CHECK(kvbig[(16ul << 20) - 1] == 0 && is_vmalloc_addr(kvbig));
	vfree(v);
	kvfree(kv);
	kvfree(kvbig);
	vfree(NULL);
}

#define POOL_ELEM 65536 /* 64 KiB kmalloc blocks: page runs */

struct waiter {
	mempool_t *pool;
	void *got;
	int done;
};

static void *mempool_waiter(void *arg)
{
	struct waiter *w = arg;

	w->got = mempool_alloc(w->pool, GFP_KERNEL); /* may wait: the kernel's semantics */
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Every POOL_ELEM block kmalloc gives until it fails, chained through their first word. */
static void *exhaust(void)
{
	void *head = NULL, *p;

	while ((p = kmalloc(POOL_ELEM, GFP_KERNEL))) {
		*(void **)p = head;
		head = p;
	}
	return head;
}

/*
 * Under KMM_ARENA_LIMIT with the allocator exhausted: GFP_ATOMIC takes the
 * reserve and then fails; GFP_KERNEL waits until an element is freed.
 */
static void check_mempool(void)
{
	mempool_t *pool = mempool_create(2, mempool_kmalloc, mempool_kfree, (void *)POOL_ELEM);
	struct waiter w = { pool, NULL, 0 };
	void *a, *b, *c, *held;
	pthread_t t;

	CHECK(pool != NULL);
	if (!pool)
		return;
	CHECK(mempool_resize(pool, 3) == 0);
	held = exhaust();
	CHECK(held != NULL && kmalloc(POOL_ELEM, GFP_KERNEL) == NULL);
	a = mempool_alloc(pool, GFP_ATOMIC);
	b = mempool_alloc(pool, GFP_ATOMIC);
	c = mempool_alloc(pool, GFP_NOIO);
	CHECK(a && b && c);
	CHECK(mempool_alloc(pool, GFP_ATOMIC) == NULL); /* reserve empty: no wait */
	CHECK(pthread_create(&t, NULL, mempool_waiter, &w) == 0);
	usleep(200 * 1000);
	CHECK(!__atomic_load_n(&w.done, __ATOMIC_ACQUIRE)); /* still waiting */
	mempool_free(b, pool);				    /* wakes the waiter */
	pthread_join(t, NULL);
	CHECK(w.got == b);
	mempool_free(a, pool);
	mempool_free(c, pool);
	mempool_free(w.got, pool);
	while (held) {
		void *next = *(void **)held;

		kfree(held);
		held = next;
	}
	mempool_destroy(pool);
}

static struct kmem_cache *cache_from_macro(void)
{
	return KMEM_CACHE(rd_request, SLAB_HWCACHE_ALIGN);
}

int main(void)
{
	struct kmem_cache *c;
	struct rd_request *rq;

	check_kmalloc();
	check_driver();
	check_pages();
	check_vmalloc();
	c = cache_from_macro();
	rq = kmem_cache_zalloc(c, GFP_KERNEL);
	CHECK(rq && rq->magic == 0 && rq->sector == 0);
	CHECK(((uintptr_t)rq & 63) == 0);
	kmem_cache_free(c, rq);
	kmem_cache_destroy(c);
	CHECK(numa_node_id() >= 0 && cpu_to_node(0) >= 0);
	if (getenv("KMM_ARENA_LIMIT"))
		check_mempool(); /* last: it fills the arena up to the limit */
	else
		fprintf(stderr, "ramdisk: no KMM_ARENA_LIMIT, the mempool checks skipped\n");
	if (failures) {
		fprintf(stderr, "ramdisk: %d checks failed\n", failures);
		return 1;
	}
	printf("ramdisk: all checks passed\n");
	return 0;
}
