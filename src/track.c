// SPDX-License-Identifier: MIT
/*
 * track.c - KMM_TRACK=1: who allocated each live block, who freed each free
 * one (the kernel's SLAB_STORE_USER and its alloc_traces/free_traces files).
 *
 * Records live in one hash table keyed by the block's address, with linear
 * probing, in memory from libkmm's own vmalloc layer (never malloc).  A
 * record is never deleted: a free turns the address's record into a free
 * record (the last free of that memory, as SLUB keeps it in the object), the
 * next allocation at the address turns it back.  So the table holds one
 * record per address ever handed out, and needs no tombstones.
 *
 * The malloc layer calls in only from its out-of-line paths: with tracking
 * on, kmm_config_init() turns the rseq fast paths off, so every call reaches
 * them.  With tracking off nothing here runs and the fast paths are as they
 * are (no instruction added).
 *
 * The views copy the records under the table's lock into a vmalloc'd
 * snapshot, then group, sort and symbolize (dladdr1) with no lock held.
 */
#include <dlfcn.h>
#include <link.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/config.h"
#include "lib/lock.h"
#include "lib/printk.h"
#include "lib/rseq.h"
#include "page/internal.h"
#include "slab/slab.h"
#include "track.h"
#include "vmalloc/vmalloc.h"

/* A record's section besides the slab caches. */
#define TRACK_PAGES ((const void *)1)
#define TRACK_VMALLOC ((const void *)2)

#define TRACK_MIN_SLOTS (1UL << 14)
#define TRACK_CPUS 256 /* CPUs told apart in cpus=; higher ones count as the last */

struct track_rec {
	uintptr_t addr; /* 0: an empty slot */
	const void *caller;
	const void *alloc_caller; /* of a free record: who allocated the block */
	const void *where;	  /* the kmm_cache, TRACK_PAGES or TRACK_VMALLOC */
	uint32_t when;		  /* milliseconds since the first record */
	uint32_t tid;
	uint16_t cpu;
	uint16_t freed;
};

static struct {
	struct kmm_lock lock;
	struct track_rec *slot;
	size_t nr_slots; /* a power of two, or 0 */
	size_t used;
	unsigned long dropped; /* records lost for want of memory */
	uint64_t start_ms;
} tt = { .lock = KMM_LOCK_INIT };

static __thread uint32_t track_tid __attribute__((tls_model("initial-exec")));

static uint32_t this_tid(void)
{
	if (!track_tid)
		track_tid = (uint32_t)syscall(SYS_gettid);
	return track_tid;
}

static const void *where_of(const void *p)
{
	struct kmm_page *page = virt_to_page_checked(p);

	if (!page)
		return TRACK_VMALLOC;
	if (page->flags & (PG_slab | PG_slab_tail))
		return slab_head(page)->private;
	return TRACK_PAGES;
}

static size_t slot_of(uintptr_t addr, size_t nr_slots)
{
	return (size_t)(((addr >> 4) * 0x9e3779b97f4a7c15ULL) >> 20) & (nr_slots - 1);
}

static void *table_alloc(size_t bytes)
{
	return __vmalloc_node(bytes, PAGE_SIZE, KMM_GFP_ZERO, KMM_NUMA_NO_NODE, VM_ALLOC, NULL);
}

/* Double the table (or make the first).  Context: tt.lock.  Return: false without memory. */
static bool table_grow(void)
{
	size_t nr = tt.nr_slots ? tt.nr_slots * 2 : TRACK_MIN_SLOTS;
	struct track_rec *slot = table_alloc(nr * sizeof(*slot));

	if (!slot)
		return false;
	for (size_t i = 0; i < tt.nr_slots; i++) {
		size_t j;

		if (!tt.slot[i].addr)
			continue;
		for (j = slot_of(tt.slot[i].addr, nr); slot[j].addr; j = (j + 1) & (nr - 1))
			;
		slot[j] = tt.slot[i];
	}
	if (tt.slot)
		__vfree(tt.slot, "track");
	tt.slot = slot;
	tt.nr_slots = nr;
	return true;
}

/* The record of @addr, a new one if it has none.  Context: tt.lock. */
static struct track_rec *table_find(uintptr_t addr)
{
	size_t i;

	if (tt.used + 1 > tt.nr_slots / 2 && !table_grow() && tt.used + 1 >= tt.nr_slots)
		return NULL;
	for (i = slot_of(addr, tt.nr_slots); tt.slot[i].addr; i = (i + 1) & (tt.nr_slots - 1))
		if (tt.slot[i].addr == addr)
			return &tt.slot[i];
	tt.used++;
	return &tt.slot[i];
}

static void track_record(const void *p, const void *caller, bool freed)
{
	struct track_rec r = {
		.addr = (uintptr_t)p,
		.caller = caller,
		.where = where_of(p),
		.tid = this_tid(),
		.cpu = (uint16_t)MIN(kmm_current_cpu(), TRACK_CPUS - 1),
		.freed = freed,
	};
	uint64_t now = kmm_now_ms();
	struct track_rec *rec;

	kmm_lock(&tt.lock);
	if (!tt.start_ms)
		tt.start_ms = now;
	r.when = (uint32_t)(now - tt.start_ms);
	rec = table_find(r.addr);
	if (rec && freed && rec->addr == r.addr && !rec->freed)
		r.alloc_caller = rec->caller;
	if (rec)
		*rec = r;
	else
		tt.dropped++;
	kmm_unlock(&tt.lock);
}

void track_alloc(const void *p, const void *caller)
{
	track_record(p, caller, false);
}

void track_free(const void *p, const void *caller)
{
	track_record(p, caller, true);
}

/* "name+0x12" or the address, for a report. */
static size_t format_caller(char *buf, size_t n, const void *addr)
{
	Dl_info info;

	if (addr && dladdr(addr, &info) && info.dli_sname)
		return kmm_snprintf(buf, n, "%s+%#lx", info.dli_sname,
				    (unsigned long)((uintptr_t)addr - (uintptr_t)info.dli_saddr));
	return kmm_snprintf(buf, n, "%p", addr);
}

void track_describe(const void *p, char *buf, size_t n)
{
	const void *alloc = NULL, *free = NULL;
	size_t len = 0;

	buf[0] = '\0';
	kmm_lock(&tt.lock);
	for (size_t i = tt.nr_slots ? slot_of((uintptr_t)p, tt.nr_slots) : 0;
	     tt.nr_slots && tt.slot[i].addr; i = (i + 1) & (tt.nr_slots - 1)) {
		if (tt.slot[i].addr != (uintptr_t)p)
			continue;
		alloc = tt.slot[i].freed ? tt.slot[i].alloc_caller : tt.slot[i].caller;
		free = tt.slot[i].freed ? tt.slot[i].caller : NULL;
		break;
	}
	kmm_unlock(&tt.lock);
	if (alloc) {
		len += kmm_snprintf(buf + len, n - len, "; allocated by ");
		len += format_caller(buf + len, n - len, alloc);
	}
	if (free && len < n) {
		len += kmm_snprintf(buf + len, n - len, "; freed by ");
		format_caller(buf + len, n - len, free);
	}
}

/* ---- the views ---- */

/* One line of a view: the records of one caller in one section. */
struct trace_line {
	const void *where;
	const void *caller;
	unsigned long count;
	unsigned long top; /* the largest count of the section: sections sort by it */
	uint64_t age_sum;
	uint32_t age_min, age_max;
	uint32_t tid_min, tid_max;
	uint64_t cpus[TRACK_CPUS / 64];
};

typedef int (*cmp_fn)(const void *a, const void *b);

static void swap_bytes(char *a, char *b, size_t size)
{
	while (size--) {
		char t = *a;

		*a++ = *b;
		*b++ = t;
	}
}

static void sift_down(char *base, size_t size, size_t root, size_t n, cmp_fn cmp)
{
	for (;;) {
		size_t child = 2 * root + 1;

		if (child >= n)
			return;
		if (child + 1 < n && cmp(base + child * size, base + (child + 1) * size) < 0)
			child++;
		if (cmp(base + root * size, base + child * size) >= 0)
			return;
		swap_bytes(base + root * size, base + child * size, size);
		root = child;
	}
}

/* Heapsort: glibc's qsort() may call malloc. */
static void sort(void *base, size_t n, size_t size, cmp_fn cmp)
{
	char *b = base;

	for (size_t i = n / 2; i-- > 0;)
		sift_down(b, size, i, n, cmp);
	for (size_t end = n; end-- > 1;) {
		swap_bytes(b, b + end * size, size);
		sift_down(b, size, 0, end, cmp);
	}
}

#define CMP(x, y)                                                                                  \
	do {                                                                                       \
		if ((x) != (y))                                                                    \
			return (x) < (y) ? -1 : 1;                                                 \
	} while (0)

static int cmp_rec(const void *a, const void *b)
{
	const struct track_rec *x = a, *y = b;

	CMP((uintptr_t)x->where, (uintptr_t)y->where);
	CMP((uintptr_t)x->caller, (uintptr_t)y->caller);
	return 0;
}

static int cmp_line_in_section(const void *a, const void *b)
{
	const struct trace_line *x = a, *y = b;

	CMP((uintptr_t)x->where, (uintptr_t)y->where);
	CMP(y->count, x->count);
	return 0;
}

/* Sections by their largest line, lines by count: the biggest caller comes first. */
static int cmp_line(const void *a, const void *b)
{
	const struct trace_line *x = a, *y = b;

	CMP(y->top, x->top);
	CMP((uintptr_t)x->where, (uintptr_t)y->where);
	CMP(y->count, x->count);
	CMP((uintptr_t)x->caller, (uintptr_t)y->caller);
	return 0;
}

/* Copy the records of one kind.  Return: how many, or -1 without memory. */
static long snapshot(bool freed, struct track_rec **out, size_t *bytes)
{
	size_t cap = READ_ONCE(tt.used) + 4096, n = 0;
	struct track_rec *recs;

	*bytes = ALIGN_UP(cap * sizeof(*recs), PAGE_SIZE);
	recs = __vmalloc_node(*bytes, PAGE_SIZE, 0, KMM_NUMA_NO_NODE, VM_ALLOC, NULL);
	if (!recs)
		return -1;
	kmm_lock(&tt.lock);
	for (size_t i = 0; i < tt.nr_slots && n < cap; i++)
		if (tt.slot[i].addr && tt.slot[i].freed == freed)
			recs[n++] = tt.slot[i];
	kmm_unlock(&tt.lock);
	*out = recs;
	return (long)n;
}

/* Group sorted records into lines.  Return: the number of lines. */
static size_t group(const struct track_rec *recs, size_t n, struct trace_line *lines, uint32_t now)
{
	size_t nr = 0;

	for (size_t i = 0; i < n; i++) {
		const struct track_rec *r = &recs[i];
		uint32_t age = now - r->when;
		struct trace_line *l = nr ? &lines[nr - 1] : NULL;

		if (!l || l->where != r->where || l->caller != r->caller) {
			l = &lines[nr++];
			memset(l, 0, sizeof(*l));
			l->where = r->where;
			l->caller = r->caller;
			l->age_min = l->tid_min = UINT32_MAX;
		}
		l->count++;
		l->age_sum += age;
		l->age_min = MIN(l->age_min, age);
		l->age_max = MAX(l->age_max, age);
		l->tid_min = MIN(l->tid_min, r->tid);
		l->tid_max = MAX(l->tid_max, r->tid);
		l->cpus[r->cpu / 64] |= 1ULL << (r->cpu % 64);
	}
	return nr;
}

/* The kernel's %pS: symbol+0xoff/0xsize, else [module+0xoff]. */
static void print_symbol(struct kmm_seq *m, const void *addr)
{
	const ElfW(Sym) *sym = NULL;
	Dl_info info;

	if (!dladdr1(addr, &info, (void **)&sym, RTLD_DL_SYMENT)) {
		kmm_seq_printf(m, "%p", addr);
	} else if (info.dli_sname && info.dli_saddr) {
		kmm_seq_printf(m, "%s+0x%lx/0x%lx", info.dli_sname,
			       (unsigned long)((uintptr_t)addr - (uintptr_t)info.dli_saddr),
			       sym ? (unsigned long)sym->st_size : 0UL);
	} else {
		const char *base = info.dli_fname ? strrchr(info.dli_fname, '/') : NULL;

		kmm_seq_printf(m, "[%s+0x%lx]", base ? base + 1 : "?",
			       (unsigned long)((uintptr_t)addr - (uintptr_t)info.dli_fbase));
	}
}

/* The kernel's %*pbl: 0-3,6. */
static void print_cpus(struct kmm_seq *m, const uint64_t *cpus)
{
	bool first = true;

	for (int c = 0; c < TRACK_CPUS; c++) {
		int end = c;

		if (!(cpus[c / 64] & (1ULL << (c % 64))))
			continue;
		while (end + 1 < TRACK_CPUS && (cpus[(end + 1) / 64] & (1ULL << ((end + 1) % 64))))
			end++;
		kmm_seq_printf(m, end > c ? "%s%d-%d" : "%s%d", first ? "" : ",", c, end);
		first = false;
		c = end;
	}
}

static void print_heading(struct kmm_seq *m, const void *where, const char *view)
{
	const char *name = where == TRACK_PAGES	    ? "page runs"
			   : where == TRACK_VMALLOC ? "vmalloc areas"
						    : ((const struct kmm_cache *)where)->name;

	kmm_seq_printf(m, "%s %s:\n", name, view);
}

/*
 * The kernel's line (mm/slub.c): count, caller, age=min/avg/max (here in
 * milliseconds, not jiffies), pid=min-max (thread ids), cpus=list.
 */
static void print_line(struct kmm_seq *m, const struct trace_line *l)
{
	kmm_seq_printf(m, "%7lu ", l->count);
	print_symbol(m, l->caller);
	if (l->age_min != l->age_max)
		kmm_seq_printf(m, " age=%u/%lu/%u", l->age_min,
			       (unsigned long)(l->age_sum / l->count), l->age_max);
	else
		kmm_seq_printf(m, " age=%u", l->age_min);
	if (l->tid_min != l->tid_max)
		kmm_seq_printf(m, " pid=%u-%u", l->tid_min, l->tid_max);
	else
		kmm_seq_printf(m, " pid=%u", l->tid_min);
	kmm_seq_puts(m, " cpus=");
	print_cpus(m, l->cpus);
	kmm_seq_puts(m, "\n");
}

static void show_traces(struct kmm_seq *m, bool freed, const char *view)
{
	struct trace_line *lines;
	struct track_rec *recs;
	size_t bytes, lbytes, nr;
	uint32_t now;
	long n;

	if (!kmm_config.track) {
		kmm_seq_printf(m, "# %s: run with KMM_TRACK=1 to record callers\n", view);
		return;
	}
	n = snapshot(freed, &recs, &bytes);
	if (n < 0) {
		kmm_seq_printf(m, "# %s: out of memory\n", view);
		return;
	}
	now = (uint32_t)(kmm_now_ms() - READ_ONCE(tt.start_ms));
	lbytes = ALIGN_UP(MAX((size_t)n, 1UL) * sizeof(*lines), PAGE_SIZE);
	lines = __vmalloc_node(lbytes, PAGE_SIZE, 0, KMM_NUMA_NO_NODE, VM_ALLOC, NULL);
	if (!lines) {
		__vfree(recs, "track");
		kmm_seq_printf(m, "# %s: out of memory\n", view);
		return;
	}
	sort(recs, (size_t)n, sizeof(*recs), cmp_rec);
	nr = group(recs, (size_t)n, lines, now);
	__vfree(recs, "track");
	sort(lines, nr, sizeof(*lines), cmp_line_in_section);
	for (size_t i = 0; i < nr; i++)
		lines[i].top = (i && lines[i].where == lines[i - 1].where) ? lines[i - 1].top
									   : lines[i].count;
	sort(lines, nr, sizeof(*lines), cmp_line);
	for (size_t i = 0; i < nr; i++) {
		if (!i || lines[i].where != lines[i - 1].where)
			print_heading(m, lines[i].where, view);
		print_line(m, &lines[i]);
	}
	if (READ_ONCE(tt.dropped))
		kmm_seq_printf(m, "# %lu records lost for want of memory\n", READ_ONCE(tt.dropped));
	__vfree(lines, "track");
}

void show_alloc_traces(struct kmm_seq *m)
{
	show_traces(m, false, "alloc_traces");
}

void show_free_traces(struct kmm_seq *m)
{
	show_traces(m, true, "free_traces");
}

void track_fork_prepare(void)
{
	kmm_lock(&tt.lock);
}

void track_fork_parent(void)
{
	kmm_unlock(&tt.lock);
}

void track_fork_child(void)
{
	kmm_lock_init(&tt.lock);
}
