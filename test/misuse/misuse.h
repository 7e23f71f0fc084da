/* SPDX-License-Identifier: MIT */
/* misuse.h - the heap-misuse corpus (cases.cc) and its driver (misuse.c). */
#ifndef KMM_TEST_MISUSE_H
#define KMM_TEST_MISUSE_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct misuse_case {
	const char *name;
	int (*run)(size_t size);
	const char *category;
	bool weakness; /* returns 1 when the allocator shows the weakness, else 0 */
	bool sized;    /* run at each of misuse_sizes[]; else once */
};

#define MISUSE_NR_SIZES 3
extern const struct misuse_case misuse_cases[];
extern const size_t misuse_sizes[MISUSE_NR_SIZES];

#ifdef __cplusplus
}
#endif

#endif /* KMM_TEST_MISUSE_H */
