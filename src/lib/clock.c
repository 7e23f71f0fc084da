// SPDX-License-Identifier: MIT
/*
 * clock.c - the clock libkmm's delays run on, read through the vDSO's own
 * clock_gettime(), found in the vDSO's symbol table at the first read.
 *
 * Why not libc's clock_gettime(): its wrapper lies in a part of libc's code
 * that a program which only allocates never runs, and the kernel maps a
 * whole 64 KiB window of a file around each read fault (fault_around_bytes).
 * libkmm reads the clock at start-up and on its free paths, so every small
 * program paid that window: 23-36 KiB more of libc resident in logicmin,
 * simple and bignum (10 runs each, address layouts averaged).  The vDSO's
 * page is mapped in every process anyway.  Without a vDSO (valgrind maps
 * none) or without the symbol, libc's wrapper is the fallback.
 */
#include <elf.h>
#include <link.h>
#include <string.h>
#include <sys/auxv.h>

#include "clock.h"

typedef int (*gettime_fn)(clockid_t, struct timespec *);

static gettime_fn gettime; /* NULL until the first read */

/*
 * The number of symbols of a DT_GNU_HASH table: one past the highest index
 * its buckets reach, found by walking that chain to its end.
 */
static unsigned long gnu_hash_symbols(const uint32_t *h)
{
	uint32_t nbuckets = h[0], symoffset = h[1], bloom_words = h[2];
	const uint32_t *buckets = (const uint32_t *)((const ElfW(Addr) *)(h + 4) + bloom_words);
	const uint32_t *chain = buckets + nbuckets;
	uint32_t last = 0;

	for (uint32_t i = 0; i < nbuckets; i++)
		last = MAX(last, buckets[i]);
	if (last < symoffset)
		return symoffset;
	while (!(chain[last - symoffset] & 1))
		last++;
	return (unsigned long)last + 1;
}

/* The vDSO's clock_gettime(), or NULL. */
static gettime_fn vdso_gettime(void)
{
	const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)getauxval(AT_SYSINFO_EHDR);
	const ElfW(Phdr) * ph;
	const ElfW(Dyn) *dyn = NULL;
	const ElfW(Sym) *symtab = NULL;
	const char *strtab = NULL;
	const uint32_t *hash = NULL, *gnu_hash = NULL;
	uintptr_t bias = 0;
	unsigned long nsyms;
	bool loaded = false;

	if (!eh || eh->e_ident[EI_MAG0] != ELFMAG0 || eh->e_ident[EI_MAG1] != ELFMAG1 ||
	    eh->e_ident[EI_MAG2] != ELFMAG2 || eh->e_ident[EI_MAG3] != ELFMAG3)
		return NULL;
	ph = (const ElfW(Phdr) *)((const char *)eh + eh->e_phoff);
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && !loaded) {
			bias = (uintptr_t)eh + ph[i].p_offset - ph[i].p_vaddr;
			loaded = true;
		} else if (ph[i].p_type == PT_DYNAMIC) {
			dyn = (const ElfW(Dyn) *)((const char *)eh + ph[i].p_offset);
		}
	}
	if (!loaded || !dyn)
		return NULL;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		const void *p = (const void *)(bias + dyn->d_un.d_ptr);

		if (dyn->d_tag == DT_SYMTAB)
			symtab = p;
		else if (dyn->d_tag == DT_STRTAB)
			strtab = p;
		else if (dyn->d_tag == DT_HASH)
			hash = p;
		else if (dyn->d_tag == DT_GNU_HASH)
			gnu_hash = p;
	}
	if (!symtab || !strtab || (!hash && !gnu_hash))
		return NULL;
	nsyms = hash ? hash[1] : gnu_hash_symbols(gnu_hash);
	for (unsigned long i = 0; i < nsyms; i++) {
		const char *name = strtab + symtab[i].st_name;

		if (ELF64_ST_TYPE(symtab[i].st_info) != STT_FUNC || symtab[i].st_shndx == SHN_UNDEF)
			continue;
		/* x86's name, then arm64's and riscv's. */
		if (!strcmp(name, "__vdso_clock_gettime") ||
		    !strcmp(name, "__kernel_clock_gettime"))
			return (gettime_fn)(bias + symtab[i].st_value);
	}
	return NULL;
}

int kmm_clock_gettime(clockid_t clock, struct timespec *ts)
{
	gettime_fn fn = __atomic_load_n(&gettime, __ATOMIC_RELAXED);

	if (unlikely(!fn)) {
		/* Racing first readers find the same function. */
		fn = vdso_gettime();
		if (!fn)
			fn = clock_gettime;
		__atomic_store_n(&gettime, fn, __ATOMIC_RELAXED);
	}
	return fn(clock, ts);
}

bool kmm_clock_uses_vdso(void)
{
	struct timespec ts;

	kmm_clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return __atomic_load_n(&gettime, __ATOMIC_RELAXED) != clock_gettime;
}
