/* SPDX-License-Identifier: MIT */
/*
 * memcheck.h - what libkmm tells valgrind's memcheck about its blocks, so
 * that a program running on libkmm under memcheck gets leak reports and
 * use-after-free errors (jemalloc and mimalloc do the same).
 *
 * Under valgrind the rseq fast paths never run (valgrind does not support
 * rseq, so glibc registers none and kmm_rseq_usable is false): every
 * allocation and free reaches the out-of-line slab, page-run and vmalloc
 * paths, and only those carry requests.  Each is behind kmm_vg(), one load of
 * a flag set at start-up from RUNNING_ON_VALGRIND; built without valgrind's
 * headers (meson -Dvalgrind=disabled) they compile to nothing.
 *
 * The states memcheck keeps, by libkmm's memory:
 *   - a block handed out: MALLOCLIKE at the size asked for; its slack up to
 *     the usable size stays addressable (undefined), as malloc_usable_size()
 *     promises, and the 8 bytes of the double-free mark (obj + 8, slab
 *     objects) are defined: free() reads them.
 *   - a freed slab object: FREELIKE, then the whole object NOACCESS; the
 *     slab layer opens the 4-byte link for each of its own reads and writes.
 *   - a freed page run or vmalloc area: FREELIKE; pages leaving the page
 *     allocator or the vmalloc cache are made addressable (undefined) again.
 */
#ifndef KMM_LIB_MEMCHECK_H
#define KMM_LIB_MEMCHECK_H

#include "compiler.h"

#ifndef KMM_VALGRIND
#define KMM_VALGRIND 0
#endif

#if KMM_VALGRIND
#include <valgrind/memcheck.h>

/* Set at start-up (kmm_config_init()): the process runs under valgrind. */
extern bool kmm_on_valgrind;

static __always_inline bool kmm_vg(void)
{
	return unlikely(kmm_on_valgrind);
}

static inline void kmm_vg_malloclike(const void *p, size_t size, bool defined)
{
	VALGRIND_MALLOCLIKE_BLOCK(p, size, 0, defined);
}

static inline void kmm_vg_freelike(const void *p)
{
	VALGRIND_FREELIKE_BLOCK(p, 0);
}

static inline void kmm_vg_noaccess(const void *p, size_t size)
{
	VALGRIND_MAKE_MEM_NOACCESS(p, size);
}

static inline void kmm_vg_undefined(const void *p, size_t size)
{
	VALGRIND_MAKE_MEM_UNDEFINED(p, size);
}

static inline void kmm_vg_defined(const void *p, size_t size)
{
	VALGRIND_MAKE_MEM_DEFINED(p, size);
}

static inline void kmm_vg_resize(const void *p, size_t old, size_t size)
{
	VALGRIND_RESIZEINPLACE_BLOCK(p, old, size, 0);
}
#else
static __always_inline bool kmm_vg(void)
{
	return false;
}

static inline void kmm_vg_malloclike(const void *p, size_t size, bool defined)
{
}

static inline void kmm_vg_freelike(const void *p)
{
}

static inline void kmm_vg_noaccess(const void *p, size_t size)
{
}

static inline void kmm_vg_undefined(const void *p, size_t size)
{
}

static inline void kmm_vg_defined(const void *p, size_t size)
{
}

static inline void kmm_vg_resize(const void *p, size_t old, size_t size)
{
}
#endif

/* Set kmm_on_valgrind (once, at start-up). */
void kmm_vg_init(void);

#endif /* KMM_LIB_MEMCHECK_H */
