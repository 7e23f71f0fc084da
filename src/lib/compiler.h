/* SPDX-License-Identifier: MIT */
/*
 * compiler.h - the few compiler words every file uses, after the kernel's
 * include/linux/compiler.h.
 *
 * KMM_DEBUG is the meson option "debug_level" (0, 1, 2).  Checks are written
 * as `if (KMM_DEBUG >= 2) ...` so that every build compiles them and constant
 * folding removes the ones that are off.
 */
#ifndef KMM_LIB_COMPILER_H
#define KMM_LIB_COMPILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef KMM_DEBUG
#define KMM_DEBUG 0
#endif

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define __cold __attribute__((cold, noinline))
/*
 * Start-up code (the kernel's __init): it runs once, so it is built for
 * size, as gcc builds cold code.  It still runs in every program, so
 * src/layout.ld keeps it in the first 64 KiB window of code, by name.
 */
#define __init __cold
#define __noinline __attribute__((noinline))
#define __noreturn __attribute__((noreturn))
/* Opaque to interprocedural analysis: a call to it can stay a tail call. */
#if defined(__clang__)
#define __noipa __attribute__((noinline, optnone))
#else
#define __noipa __attribute__((noipa))
#endif
/* One copy of the function, not one per constant argument (gcc's clones). */
#if defined(__clang__)
#define __noclone
#else
#define __noclone __attribute__((noclone))
#endif
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#define __export __attribute__((visibility("default")))
/* On a declaration: defined in libkmm, so reached without the GOT. */
#define __hidden __attribute__((visibility("hidden")))
#define __printf(a, b) __attribute__((format(printf, a, b)))

#define KMM_CACHELINE 64
#define ____cacheline_aligned __attribute__((aligned(KMM_CACHELINE)))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((__typeof__(x))(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a)-1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a)-1)) == 0)
#define DIV_ROUND_UP(n, d) (((n) + (d)-1) / (d))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* Relaxed single-copy accesses for fields read without the lock. */
#define READ_ONCE(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

#endif /* KMM_LIB_COMPILER_H */
