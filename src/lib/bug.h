/* SPDX-License-Identifier: MIT */
/*
 * bug.h - reporting misuse and corruption: a one-line message on stderr,
 * written with write(2) from a stack buffer, then abort().  Never continue
 * after a broken invariant (the kernel's BUG(); there is no oops to survive).
 */
#ifndef KMM_LIB_BUG_H
#define KMM_LIB_BUG_H

#include "compiler.h"

/* "libkmm: <message>" on fd 2, then abort(). */
void kmm_panic(const char *fmt, ...) __printf(1, 2) __noreturn __cold;

/* Internal assertion, compiled in at debug level >= 1. */
#define KMM_BUG_ON(cond)                                                                           \
	do {                                                                                       \
		if (KMM_DEBUG >= 1 && unlikely(cond))                                              \
			kmm_panic("BUG at %s:%d: %s", __FILE__, __LINE__, #cond);                  \
	} while (0)

#endif /* KMM_LIB_BUG_H */
