/* SPDX-License-Identifier: MIT */
#ifndef KMM_BENCH_SHIM_H
#define KMM_BENCH_SHIM_H
#ifdef __cplusplus
extern "C" {
#endif
/* Drain the per-CPU page caches and turn them on (1) or off (0). */
void bench_set_pcp(int on);
/* The mode libkmm chose at start-up: "rseq", "locked" or "off". */
const char *bench_pcp_mode(void);
#ifdef __cplusplus
}
#endif
#endif
