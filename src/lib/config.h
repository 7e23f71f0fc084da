/* SPDX-License-Identifier: MIT */
/*
 * config.h - libkmm's run-time settings, read once from the environment at
 * kmm_init() (the kernel's early boot parameters).
 *
 * Every option is defined once in KMM_OPTIONS: from it come the fields of
 * struct kmm_config, their defaults, the environment names and the parser.
 * Sizes take a K, M, G or T suffix (powers of 1024); booleans take 0 or 1;
 * KMM_PURGE takes dontneed or free; KMM_NUMA local, interleave or a node number;
 * KMM_STATS_SIGNAL a signal: SIGUSR2, USR2 or 12 (SIGRTMIN+N too).
 */
#ifndef KMM_LIB_CONFIG_H
#define KMM_LIB_CONFIG_H

#include "compiler.h"

enum kmm_opt_kind { KMM_OPT_SIZE, KMM_OPT_BOOL, KMM_OPT_PURGE, KMM_OPT_NUMA, KMM_OPT_SIGNAL };

/* KMM_PURGE: how free memory goes back to the system. */
enum { KMM_PURGE_DONTNEED, KMM_PURGE_FREE };

/* KMM_NUMA: a node number, or one of these (numa/mempolicy.h). */
#define KMM_NUMA_OPT_LOCAL 0x10000ULL
#define KMM_NUMA_OPT_INTERLEAVE 0x10001ULL

/* X(field, ENV_NAME, kind, default, description) */
#define KMM_OPTIONS(X)                                                                             \
	X(arena_limit, "KMM_ARENA_LIMIT", KMM_OPT_SIZE, 0,                                         \
	  "bytes the arenas may bring into service in all (0: no limit)")                          \
	X(arena_reserve, "KMM_ARENA_RESERVE", KMM_OPT_SIZE, 64ULL << 30,                           \
	  "address space reserved for each node's Normal zone")                                    \
	X(dma32_reserve, "KMM_DMA32_RESERVE", KMM_OPT_SIZE, 256ULL << 20,                          \
	  "address space reserved below 4 GiB for the DMA32 zone")                                 \
	X(hugetlb, "KMM_HUGETLB", KMM_OPT_BOOL, 0,                                                 \
	  "back sections with hugetlb pages when the system has them")                             \
	X(thp, "KMM_THP", KMM_OPT_BOOL, 0,                                                         \
	  "1: madvise(MADV_HUGEPAGE) past KMM_THP_THRESHOLD; 0: the zones on 4 KiB pages")         \
	X(thp_threshold, "KMM_THP_THRESHOLD", KMM_OPT_SIZE, 16ULL << 20,                           \
	  "zone size from which whole-section runs get huge pages (every section from 4x)")        \
	X(pcp, "KMM_PCP", KMM_OPT_BOOL, 1, "per-CPU page cache in front of the buddy")             \
	X(rseq, "KMM_RSEQ", KMM_OPT_BOOL, 1,                                                       \
	  "lock-free per-CPU fast paths with rseq (0: the locked fallback)")                       \
	X(vmalloc_reserve, "KMM_VMALLOC_RESERVE", KMM_OPT_SIZE, 1ULL << 40,                        \
	  "most address space the vmalloc region reserves (as its areas need it)")                 \
	X(max_maps, "KMM_MAX_MAPS", KMM_OPT_SIZE, 0,                                               \
	  "mappings the vmalloc layer may create (0: vm.max_map_count / 16)")                      \
	X(purge, "KMM_PURGE", KMM_OPT_PURGE, KMM_PURGE_DONTNEED,                                   \
	  "dontneed: MADV_DONTNEED (RSS drops at once); free: MADV_FREE (lazily)")                 \
	X(background, "KMM_BACKGROUND", KMM_OPT_SIZE, 16ULL << 20,                                 \
	  "arena bytes past which a thread gives memory back while idle (0: never, 1: always)")    \
	X(decay_ms, "KMM_DECAY_MS", KMM_OPT_SIZE, 1000,                                            \
	  "milliseconds freed memory waits for reuse before it goes back (0: no decay)")           \
	X(trim, "KMM_TRIM", KMM_OPT_SIZE, 128ULL << 10,                                            \
	  "free memory at the top of a zone that goes back at once, as glibc's trim (0: never)")   \
	X(numa, "KMM_NUMA", KMM_OPT_NUMA, KMM_NUMA_OPT_LOCAL,                                      \
	  "where allocations that name no node come from: local, interleave or a node")            \
	X(fake_numa, "KMM_FAKE_NUMA", KMM_OPT_SIZE, 0,                                             \
	  "split the CPUs and the arena into N made-up nodes, without mbind (0: the real ones)")   \
	X(track, "KMM_TRACK", KMM_OPT_BOOL, 0,                                                     \
	  "record the caller of each block (alloc_traces, free_traces); turns KMM_RSEQ off")       \
	X(secure, "KMM_SECURE", KMM_OPT_BOOL, 0,                                                   \
	  "hardened mode: redzones, guard pages, poisoning, quarantine; turns KMM_RSEQ off")       \
	X(stats_signal, "KMM_STATS_SIGNAL", KMM_OPT_SIGNAL, 0,                                     \
	  "a signal that writes the KMM_STATS views (default slabtop,meminfo) at once (0: none)")  \
	X(stats_fd, "KMM_STATS_FD", KMM_OPT_SIZE, 2, "where KMM_STATS_SIGNAL writes the views")

struct kmm_config {
#define X(field, env, kind, def, desc) unsigned long long field;
	KMM_OPTIONS(X)
#undef X
};

extern struct kmm_config kmm_config;

/*
 * Is this a secure-execution process (AT_SECURE: setuid, setgid, file
 * capabilities)?  Its environment is not trusted: every setting keeps its default.
 */
bool kmm_secure_exec(void);
/*
 * getenv(@name), or NULL when it is empty or in a secure-execution process:
 * every KMM_* read goes through it.
 */
const char *kmm_getenv(const char *name);

/* Fill kmm_config from the defaults and the environment; warn about bad values. */
void kmm_config_init(void);

/* Parse "123", "64K", "2G" ...  Return: 0, or -EINVAL. */
int kmm_parse_size(const char *s, unsigned long long *out);

#endif /* KMM_LIB_CONFIG_H */
