// SPDX-License-Identifier: MIT
/*
 * cases.cc - the heap-misuse corpus: one program per misuse and size, run by
 * name in a child of misuse.c's driver.  Each case does one wrong thing,
 * then returns 0.  A case that probes a weakness rather than an error
 * (reading freed memory, reuse of a freed address, stale bytes in a new
 * block) returns 1 when the allocator shows the weakness.
 *
 * Written in C++ for the delete cases; the rest is plain C in C++ syntax.
 * The calls go through volatile function pointers so that the compiler can
 * neither see nor remove the misuse.
 */
#include <alloca.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <new>

#include "misuse.h"

static void *(*volatile do_malloc)(size_t) = malloc;
static void (*volatile do_free)(void *) = free;
static void *(*volatile do_realloc)(void *, size_t) = realloc;
static void *(*volatile do_memset)(void *, int, size_t) = memset;
static void *(*volatile do_memcpy)(void *, const void *, size_t) = memcpy;

#define MIB (1UL << 20)

static char *alloc(size_t n)
{
	char *p = (char *)do_malloc(n);

	if (!p)
		abort();
	do_memset(p, 'A', n);
	return p;
}

static int double_free(size_t n)
{
	char *p = alloc(n);

	do_free(p);
	do_free(p);
	return 0;
}

static int double_free_delayed(size_t n)
{
	char *p = alloc(n), *q[8];

	do_free(p);
	for (int i = 0; i < 8; i++)
		q[i] = alloc(n * 2 + 16);
	do_free(p);
	for (int i = 0; i < 8; i++)
		do_free(q[i]);
	return 0;
}

static int double_free_interleaved(size_t n)
{
	char *p = alloc(n), *q = alloc(n);

	do_free(p);
	do_free(q);
	do_free(p);
	return 0;
}

/* The second free of p frees q if the address was reused: then q's free is the double one. */
static int double_free_reuse(size_t n)
{
	char *p = alloc(n), *q;

	do_free(p);
	q = alloc(n);
	do_free(p);
	do_free(q);
	return 0;
}

static int double_free_realloc(size_t n)
{
	char *p = alloc(n);

	do_free(p);
	p = (char *)do_realloc(p, n * 2);
	return 0;
}

static int double_delete(size_t n)
{
	char *p = (char *)::operator new(n);

	::operator delete(p);
	::operator delete(p);
	return 0;
}

static int free_interior(size_t n)
{
	char *p = alloc(n);

	do_free(p + (n >= 32 ? n / 2 : 4) / 16 * 16 + (n >= 32 ? 0 : 4));
	return 0;
}

static int free_unaligned(size_t n)
{
	do_free(alloc(n) + 1);
	return 0;
}

static int free_far(size_t n)
{
	do_free(alloc(n) + 64 * MIB);
	return 0;
}

static int free_near(size_t n)
{
	do_free(alloc(n) - 16);
	return 0;
}

static int free_stack(size_t n)
{
	char big[256 * 1024 + 64];

	do_memset(big, 0, n);
	do_free(big + 16);
	return 0;
}

static int free_alloca(size_t n)
{
	char *p = (char *)alloca(n + 16);

	do_memset(p, 0, n);
	do_free(p);
	return 0;
}

static char static_buf[256 * 1024 + 4096] __attribute__((aligned(4096)));

static int free_static(size_t n)
{
	(void)n;
	do_free(static_buf + 4096);
	return 0;
}

static int free_foreign(size_t n)
{
	char *p = (char *)mmap(NULL, n + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);

	if (p == MAP_FAILED)
		abort();
	do_free(p);
	return 0;
}

/*
 * Overflow (@dir 1) or underflow (-1) by @by bytes, by a loop or by memcpy.
 * The bytes written past the block differ from the ones there (a byte XORed
 * with 0x5a): a check of what lies there (a canary, a free block's mark)
 * must not pass because a 'B' happened to be the byte it held (1 in 256).
 */
static int overrun(size_t n, long dir, size_t by, bool use_memcpy)
{
	char *p = alloc(n), *src = (char *)do_malloc(n + by);
	volatile char *vp = p;

	if (!src)
		abort();
	do_memset(src, 'B', n + by);
	if (dir > 0)
		for (size_t i = n; i < n + by; i++)
			src[i] = (char)(vp[i] ^ 0x5a);
	if (use_memcpy) {
		do_memcpy(dir > 0 ? p : p - by, src, n + by);
	} else if (dir > 0) {
		for (size_t i = 0; i < n + by; i++)
			vp[i] = src[i];
	} else {
		for (size_t i = 1; i <= by; i++)
			((volatile char *)p)[-(long)i] = 'B';
	}
	do_free(p);
	do_free(src);
	return 0;
}

static int uaf_write(size_t n)
{
	char *p = alloc(n);

	do_free(p);
	((volatile char *)p)[n / 2] = 'X';
	do_free(alloc(16));
	return 0;
}

static int uaf_write_memcpy(size_t n)
{
	char *p = alloc(n);
	char src[64] = "written after free";

	do_free(p);
	do_memcpy(p, src, n < 64 ? n : 64);
	return 0;
}

/* Written after free, then the same size allocated again (which may be that block). */
static int uaf_write_reuse(size_t n)
{
	char *p = alloc(n), *q;

	do_free(p);
	((volatile char *)p)[0] ^= 0x5a; /* always a change: see overrun() */
	q = alloc(n);
	do_free(q);
	return 0;
}

/* Weakness: the freed block still reads as it was (its data leaks). */
static int uaf_read(size_t n)
{
	char *p = alloc(n);
	size_t same = 0;

	do_free(p);
	for (size_t i = 0; i < n; i++)
		same += ((volatile char *)p)[i] == 'A';
	return same == n ? 1 : 0;
}

/* Weakness: the freed block reads what the next allocation wrote (it was handed straight back). */
static int uaf_read_reuse(size_t n)
{
	char *p = alloc(n), *q;

	do_free(p);
	q = alloc(n);
	do_memset(q, 'Q', n);
	return ((volatile char *)p)[0] == 'Q' ? 1 : 0;
}

/* Weakness: a new block holds what a freed one of its size held. */
static int zero_on_malloc(size_t n)
{
	char *p = alloc(n), *q;
	size_t stale = 0;

	do_free(p);
	q = (char *)do_malloc(n);
	for (size_t i = 0; i < n; i++)
		stale += q[i] == 'A';
	return stale ? 1 : 0;
}

/* Weakness: the block just freed is handed straight back. */
static int malloc_reuse(size_t n)
{
	char *p = alloc(n), *q;

	do_free(p);
	q = alloc(n);
	return q == p ? 1 : 0;
}

/* Weakness: the block a realloc moved away from is handed straight back. */
static int realloc_reuse(size_t n)
{
	char *p = alloc(n), *q, *r;

	q = (char *)do_realloc(p, n * 4);
	if (q == p)
		return 0; /* grew in place: nothing was freed */
	r = alloc(n);
	return r == p ? 1 : 0;
}

static int delete_of_new_array(size_t n)
{
	char *p = (char *)::operator new[](n);

	::operator delete(p);
	return 0;
}

static int delete_array_of_new(size_t n)
{
	char *p = (char *)::operator new(n);

	::operator delete[](p);
	return 0;
}

static int sized_delete_mismatch(size_t n)
{
	char *p = (char *)::operator new(n);

	::operator delete(p, n * 4 + 64);
	return 0;
}

/* ... and a size of a smaller class than the block's. */
static int sized_delete_smaller(size_t n)
{
	char *p = (char *)::operator new(n * 4 + 64);

	::operator delete(p, n);
	return 0;
}

/* Zero-size blocks: a write after free and a read after free. */
static int uaf_write_zero(size_t n)
{
	char *p = (char *)do_malloc(0);

	(void)n;
	do_free(p);
	((volatile char *)p)[0] ^= 0x5a; /* always a change: see overrun() */
	return 0;
}

static int ovf1(size_t n)
{
	return overrun(n, 1, 1, false);
}
static int ovf32(size_t n)
{
	return overrun(n, 1, 32, false);
}
static int ovf1m(size_t n)
{
	return overrun(n, 1, MIB, false);
}
static int ovf1_memcpy(size_t n)
{
	return overrun(n, 1, 1, true);
}
static int ovf32_memcpy(size_t n)
{
	return overrun(n, 1, 32, true);
}
static int ovf1m_memcpy(size_t n)
{
	return overrun(n, 1, MIB, true);
}
static int udf1(size_t n)
{
	return overrun(n, -1, 1, false);
}
static int udf32(size_t n)
{
	return overrun(n, -1, 32, false);
}
static int udf1m(size_t n)
{
	return overrun(n, -1, MIB, false);
}
static int udf1_memcpy(size_t n)
{
	return overrun(n, -1, 1, true);
}
static int udf32_memcpy(size_t n)
{
	return overrun(n, -1, 32, true);
}
static int udf1m_memcpy(size_t n)
{
	return overrun(n, -1, MIB, true);
}

#define C(fn, cat, weak)                                                                           \
	{                                                                                          \
#fn, fn, cat, weak, true                                                           \
	}
#define C1(fn, cat, weak)                                                                          \
	{                                                                                          \
#fn, fn, cat, weak, false                                                          \
	}

const struct misuse_case misuse_cases[] = {
	C(double_free, "double free", false),
	C(double_free_delayed, "double free", false),
	C(double_free_interleaved, "double free", false),
	C(double_free_reuse, "double free", false),
	C(double_free_realloc, "double free", false),
	C(double_delete, "double free", false),
	C(free_interior, "invalid free", false),
	C(free_unaligned, "invalid free", false),
	C(free_far, "invalid free", false),
	C(free_near, "invalid free", false),
	C(free_stack, "invalid free", false),
	C(free_alloca, "invalid free", false),
	C(free_static, "invalid free", false),
	C(free_foreign, "invalid free", false),
	C(ovf1, "overflow", false),
	C(ovf32, "overflow", false),
	C(ovf1m, "overflow 1 MiB", false),
	C(ovf1_memcpy, "overflow", false),
	C(ovf32_memcpy, "overflow", false),
	C(ovf1m_memcpy, "overflow 1 MiB", false),
	C(udf1, "underflow", false),
	C(udf32, "underflow", false),
	C(udf1m, "underflow 1 MiB", false),
	C(udf1_memcpy, "underflow", false),
	C(udf32_memcpy, "underflow", false),
	C(udf1m_memcpy, "underflow 1 MiB", false),
	C(uaf_write, "write after free", false),
	C(uaf_write_memcpy, "write after free", false),
	C(uaf_write_reuse, "write after free", false),
	C(uaf_read, "read after free", true),
	C(uaf_read_reuse, "read after free", true),
	C(zero_on_malloc, "zero_on_malloc", true),
	C(malloc_reuse, "malloc_reuse", true),
	C(realloc_reuse, "realloc_reuse", true),
	C(delete_of_new_array, "delete mismatch", false),
	C(delete_array_of_new, "delete mismatch", false),
	C(sized_delete_mismatch, "sized delete", false),
	C(sized_delete_smaller, "sized delete", false),
	C1(uaf_write_zero, "write after free", false),
	{ NULL, NULL, NULL, false, false },
};

const size_t misuse_sizes[MISUSE_NR_SIZES] = { 8, 4096, 256 * 1024 };
