/* SPDX-License-Identifier: MIT */
/*
 * os.h - the one narrow interface through which libkmm talks to the kernel
 * about memory and topology.  Everything above it is plain data structures.
 *
 * Functions return 0 or -errno; mappings return an address or NULL.  None of
 * them allocates, uses stdio, or sets errno visibly to callers of libkmm's API
 * (the public boundary decides what errno a program sees).
 */
#ifndef KMM_NUMA_OS_H
#define KMM_NUMA_OS_H

#include <stdint.h>
#include <sys/types.h>

#include "../lib/compiler.h"

/* Reserve @size bytes of address space aligned to @align: PROT_NONE, no memory. */
void *os_reserve(size_t size, size_t align);
/* Reserve exactly [@addr, @addr + @size) if nothing is there; else NULL. */
void *os_reserve_at(void *addr, size_t size);
/* Read-write, MAP_NORESERVE: memory is charged page by page as it is touched. */
void *os_map_noreserve(size_t size);
/* Give back a whole mapping (only ranges that no pointer can reach any more). */
void os_unmap(void *addr, size_t size);

/* Bring reserved [@addr, @addr + @size) into service, read-write. */
int os_commit(void *addr, size_t size);
/* Make [@addr, @addr + @size) a guard (PROT_NONE); os_commit() opens it again. */
int os_guard(void *addr, size_t size);
/*
 * Map fresh read-write memory (hugetlb pages with @hugetlb) at exactly
 * [@addr, @addr + @size), where nothing is mapped yet.  Return: 0, -EEXIST if
 * another mapping is in the way, or -ENOMEM (RLIMIT_AS, no huge pages, ...).
 */
int os_commit_new(void *addr, size_t size, bool hugetlb);
/* The same with hugetlb pages (MAP_HUGETLB) replacing the reservation in place. */
int os_commit_hugetlb(void *addr, size_t size);
/*
 * madvise(MADV_HUGEPAGE) with @huge: ask for transparent huge pages; else
 * MADV_NOHUGEPAGE: 4 KiB pages, whatever the system's THP mode.
 */
int os_advise_hugepage(void *addr, size_t size, bool huge);

/*
 * The architecture probe (the kernel's setup_arch() checks): libkmm needs
 * 4 KiB OS pages.  Return: 0, or -EINVAL on any other page size.
 */
int os_arch_probe(void);

/* Read a small text file (sysfs) into @buf, NUL-terminated.  Return: length or -errno. */
ssize_t os_read_file(const char *path, char *buf, size_t size);

/*
 * Parse a CPU or node list in the kernel's format ("0-3,8,10-11") and call
 * @fn(@arg, id) for each id.  Return: the number of ids, or -EINVAL.
 */
int os_parse_list(const char *s, void (*fn)(void *arg, int id), void *arg);

/*
 * Randomness for where libkmm lays its zones out (address space layout
 * randomisation, as the kernel's for brk and mmap): getrandom(), or the
 * stack's address and the clock where it is refused.  Return: 0 if the
 * process runs without randomisation (ADDR_NO_RANDOMIZE: setarch -R, gdb),
 * else a number that is not 0.
 */
uint64_t os_layout_random(void);

/* A private read-write mapping anywhere (metadata).  Return: the address or NULL. */
void *os_map_anon(size_t size);

/*
 * Stitching (vmalloc/).  Every range these map into must already be owned by
 * libkmm (a reservation or a mapping of its own): MAP_FIXED and MREMAP_FIXED
 * replace what is there, so a range left unmapped even for a moment could be
 * taken by a thread stack and then overwritten (docs/DESIGN.md, "Facts").
 */
/*
 * Move the pages of [@from, @from + @size) to @to, page tables and all
 * (mremap with MREMAP_DONTUNMAP): @from stays mapped and reads zero from then
 * on; @to is replaced atomically.  Return: 0 or -errno (nothing moved).
 */
int os_move(void *from, size_t size, void *to);
/* Fresh zero read-write memory over owned [@addr, @addr + @size).  Return: 0 or -errno. */
int os_map_fixed(void *addr, size_t size);
/* Back to a PROT_NONE reservation, in place; the pages go to the system.  Return: 0 or -errno. */
int os_unmap_keep(void *addr, size_t size);
/*
 * Give pages back to the system: MADV_DONTNEED (they read zero after), or
 * with @lazy MADV_FREE (the kernel takes them when it needs memory; until
 * then they may keep their contents).
 */
int os_release(void *addr, size_t size, bool lazy);
/*
 * os_resident() - mincore(): vec[i] bit 0 set if the i-th page of [@addr,
 * @addr + @size) is in memory.  Return: 0, or -errno (vec then zeroed).
 */
int os_resident(void *addr, size_t size, unsigned char *vec);
/*
 * Prefer node @nid for the pages of [@addr, @addr + @size) (mbind(2) with
 * MPOL_PREFERRED, a raw system call: libnuma allocates).  Done on a whole
 * reservation before its first touch; a sub-range would split the mapping.
 * Return: 0 or -errno (EPERM where a seccomp filter forbids it).
 */
int os_bind_node(void *addr, size_t size, int nid);
/* /proc/sys/vm/max_map_count, or 65530 if it cannot be read. */
unsigned long os_max_map_count(void);

/*
 * Give back a reservation (or part of one) libkmm no longer needs: munmap.
 * Return: 0, or -errno (ENOMEM: the kernel could not split a mapping; the
 * range stays mapped and libkmm's).
 */
int os_unreserve(void *addr, size_t size);

/*
 * Fault injection for the tests (the kernel's fail_page_alloc), debug builds
 * only: after @skip more calls succeed, the next @times calls fail with
 * -ENOMEM (@times < 0: every call until reset).  os_move() and
 * os_map_fixed() consult theirs.
 */
struct os_fault {
	long skip, times;
};
extern struct os_fault os_fail_move, os_fail_map;
bool os_should_fail(struct os_fault *f);

#endif /* KMM_NUMA_OS_H */
