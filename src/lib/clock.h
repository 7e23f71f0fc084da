/* SPDX-License-Identifier: MIT */
/*
 * clock.h - the coarse monotonic clock libkmm's decay delays run on (the
 * vDSO's CLOCK_MONOTONIC_COARSE: some nanoseconds a call, no system call).
 */
#ifndef KMM_LIB_CLOCK_H
#define KMM_LIB_CLOCK_H

#include <time.h>

#include "compiler.h"

static inline uint64_t kmm_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif /* KMM_LIB_CLOCK_H */
