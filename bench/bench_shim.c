// SPDX-License-Identifier: MIT
/*
 * bench_shim.c - what the benchmarks need from libkmm's insides, in C: turning
 * the per-CPU page cache off and on between benchmarks, so "with pcp" and
 * "KMM_PCP=0" are measured in one binary and one run.
 */
#include <kmm/kmm.h>

#include "page/pcp.h"
#include "bench_shim.h"

static int saved_mode = -1;

void bench_set_pcp(int on)
{
	kmm_init();
	if (saved_mode < 0)
		saved_mode = pcp_mode;
	kmm_drain_all_pages();
	pcp_mode = on ? saved_mode : PCP_OFF;
}

const char *bench_pcp_mode(void)
{
	kmm_init();
	switch (saved_mode < 0 ? pcp_mode : saved_mode) {
	case PCP_RSEQ: return "rseq";
	case PCP_LOCKED: return "locked";
	default: return "off";
	}
}
