/* SPDX-License-Identifier: MIT */
/*
 * clock.h - the coarse monotonic clock libkmm's decay delays run on (the
 * vDSO's CLOCK_MONOTONIC_COARSE: some nanoseconds a call, no system call;
 * clock.c calls the vDSO itself, not libc's wrapper).
 */
#ifndef KMM_LIB_CLOCK_H
#define KMM_LIB_CLOCK_H

#include <stdbool.h>
#include <time.h>

#include "compiler.h"

/* clock_gettime() through the vDSO's own function (libc's without a vDSO). */
int kmm_clock_gettime(clockid_t clock, struct timespec *ts);
/* Whether kmm_clock_gettime() found the vDSO's function (tests). */
bool kmm_clock_uses_vdso(void);

static inline uint64_t kmm_now_ms(void)
{
	struct timespec ts;

	kmm_clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif /* KMM_LIB_CLOCK_H */
