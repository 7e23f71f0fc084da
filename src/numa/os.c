// SPDX-License-Identifier: MIT
/*
 * os.c - the system calls behind os.h.
 *
 * errno is saved and restored around every call, so that nothing below the
 * public API changes what a program sees in errno.
 */
#include "os.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mempolicy.h>
#include <string.h>
#include <time.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MAP_HUGETLB
#define MAP_HUGETLB 0x40000
#endif

#define PAGE_SIZE_4K 4096UL
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE)

void *os_reserve(size_t size, size_t align)
{
	int saved = errno;
	size_t len = size + align;
	char *p = mmap(NULL, len, PROT_NONE, ANON, -1, 0);
	uintptr_t start, end;

	errno = saved;
	if (p == MAP_FAILED)
		return NULL;
	/* Trim the slack on both sides so the reservation is exactly aligned. */
	start = ALIGN_UP((uintptr_t)p, align);
	end = start + size;
	if (start > (uintptr_t)p)
		munmap(p, start - (uintptr_t)p);
	if ((uintptr_t)p + len > end)
		munmap((void *)end, (uintptr_t)p + len - end);
	errno = saved;
	return (void *)start;
}

void *os_reserve_at(void *addr, size_t size)
{
	int saved = errno;
	void *p = mmap(addr, size, PROT_NONE, ANON | MAP_FIXED_NOREPLACE, -1, 0);

	if (p != MAP_FAILED && p != addr) {
		/* A kernel older than 4.17 took the flag as a hint. */
		munmap(p, size);
		p = MAP_FAILED;
	}
	errno = saved;
	return p == MAP_FAILED ? NULL : p;
}

void *os_map_noreserve(size_t size)
{
	int saved = errno;
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, ANON, -1, 0);

	errno = saved;
	return p == MAP_FAILED ? NULL : p;
}

void os_unmap(void *addr, size_t size)
{
	int saved = errno;

	munmap(addr, size);
	errno = saved;
}

int os_commit(void *addr, size_t size)
{
	int saved = errno, ret = 0;

	if (mprotect(addr, size, PROT_READ | PROT_WRITE))
		ret = -errno;
	errno = saved;
	return ret;
}

int os_guard(void *addr, size_t size)
{
	int saved = errno, ret = 0;

	if (mprotect(addr, size, PROT_NONE))
		ret = -errno;
	errno = saved;
	return ret;
}

int os_commit_new(void *addr, size_t size, bool hugetlb)
{
	int saved = errno, ret = 0;
	/* Huge pages with MAP_NORESERVE could fault SIGBUS later: reserve them. */
	int flags = hugetlb ? MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB : ANON;
	void *p = mmap(addr, size, PROT_READ | PROT_WRITE, flags | MAP_FIXED_NOREPLACE, -1, 0);

	if (p == MAP_FAILED) {
		ret = -errno;
	} else if (p != addr) {
		/* Taken as a hint (a kernel before 4.17, valgrind): the range is not free. */
		munmap(p, size);
		ret = -EEXIST;
	}
	errno = saved;
	return ret;
}

int os_commit_hugetlb(void *addr, size_t size)
{
	int saved = errno, ret = 0;
	void *p = mmap(addr, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_HUGETLB, -1, 0);

	/* On failure MAP_FIXED leaves the reservation as it was. */
	if (p == MAP_FAILED)
		ret = -errno;
	errno = saved;
	return ret;
}

int os_advise_hugepage(void *addr, size_t size, bool huge)
{
	int saved = errno, ret = 0;

	if (madvise(addr, size, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE))
		ret = -errno;
	errno = saved;
	return ret;
}

ssize_t os_read_file(const char *path, char *buf, size_t size)
{
	int saved = errno;
	ssize_t len = 0, n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		len = -errno;
		errno = saved;
		return len;
	}
	while ((size_t)len + 1 < size) {
		n = read(fd, buf + len, size - 1 - (size_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	close(fd);
	errno = saved;
	return len;
}

static const char *parse_uint(const char *s, int *out)
{
	int v = 0;

	if (*s < '0' || *s > '9')
		return NULL;
	while (*s >= '0' && *s <= '9') {
		if (v > 1 << 20)
			return NULL;
		v = v * 10 + (*s++ - '0');
	}
	*out = v;
	return s;
}

int os_parse_list(const char *s, void (*fn)(void *arg, int id), void *arg)
{
	int count = 0;

	while (*s == ' ' || *s == '\n')
		s++;
	while (*s && *s != '\n') {
		int lo, hi;

		s = parse_uint(s, &lo);
		if (!s)
			return -EINVAL;
		hi = lo;
		if (*s == '-') {
			s = parse_uint(s + 1, &hi);
			if (!s || hi < lo)
				return -EINVAL;
		}
		for (int id = lo; id <= hi; id++, count++)
			fn(arg, id);
		if (*s == ',')
			s++;
		else if (*s && *s != '\n')
			return -EINVAL;
	}
	return count;
}

__init int os_arch_probe(void)
{
	unsigned long page = getauxval(AT_PAGESZ);

	return page == 0 || page == PAGE_SIZE_4K ? 0 : -EINVAL;
}

__init uint64_t os_layout_random(void)
{
	int saved = errno;
	long persona = syscall(SYS_personality, 0xffffffffUL);
	uint64_t r = 0;
	struct timespec ts;

	if (persona != -1 && (persona & ADDR_NO_RANDOMIZE)) {
		errno = saved;
		return 0;
	}
	if (syscall(SYS_getrandom, &r, sizeof(r), 1 /* GRND_NONBLOCK */) != sizeof(r)) {
		/* No getrandom (an old kernel, a seccomp filter): the stack's ASLR and the clock. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		r = ((uint64_t)(uintptr_t)&ts >> 4) * 0x9e3779b97f4a7c15ULL ^
		    ((uint64_t)ts.tv_nsec << 20 | (uint64_t)ts.tv_sec);
	}
	errno = saved;
	return r | 1;
}

void *os_map_anon(size_t size)
{
	int saved = errno;
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	errno = saved;
	return p == MAP_FAILED ? NULL : p;
}

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

int os_move(void *from, size_t size, void *to)
{
	int saved = errno, ret = 0;
	void *p;

	if (KMM_DEBUG > 0 && os_should_fail(&os_fail_move))
		return -ENOMEM;
	p = mremap(from, size, size, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, to);

	if (p == MAP_FAILED)
		ret = -errno;
	errno = saved;
	return ret;
}

int os_map_fixed(void *addr, size_t size)
{
	int saved = errno, ret = 0;
	void *p;

	if (KMM_DEBUG > 0 && os_should_fail(&os_fail_map))
		return -ENOMEM;
	p = mmap(addr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
		 0);

	if (p == MAP_FAILED)
		ret = -errno;
	errno = saved;
	return ret;
}

int os_unmap_keep(void *addr, size_t size)
{
	int saved = errno, ret = 0;
	void *p = mmap(addr, size, PROT_NONE, ANON | MAP_FIXED, -1, 0);

	if (p == MAP_FAILED)
		ret = -errno;
	errno = saved;
	return ret;
}

#ifndef MADV_FREE
#define MADV_FREE 8
#endif

int os_release(void *addr, size_t size, bool lazy)
{
	int saved = errno, ret = 0;

	if (madvise(addr, size, lazy ? MADV_FREE : MADV_DONTNEED))
		ret = -errno;
	errno = saved;
	return ret;
}

int os_resident(void *addr, size_t size, unsigned char *vec)
{
	int saved = errno, ret = 0;

	if (mincore(addr, size, vec)) {
		ret = -errno;
		memset(vec, 0, (size + PAGE_SIZE_4K - 1) / PAGE_SIZE_4K);
	}
	errno = saved;
	return ret;
}

unsigned long os_max_map_count(void)
{
	char buf[32];
	unsigned long v = 0;

	if (os_read_file("/proc/sys/vm/max_map_count", buf, sizeof(buf)) <= 0)
		return 65530;
	for (const char *s = buf; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (unsigned long)(*s - '0');
	return v ? v : 65530;
}

int os_bind_node(void *addr, size_t size, int nid)
{
	unsigned long mask[(64 + 63) / 64] = { 0 };
	int saved = errno, ret = 0;

	if (nid < 0 || nid >= 64)
		return -EINVAL;
	mask[nid / 64] = 1UL << (nid % 64);
	/* maxnode counts one bit more than the mask holds (mbind(2)'s quirk). */
	if (syscall(SYS_mbind, addr, size, MPOL_PREFERRED, mask, 64UL + 1, 0UL))
		ret = -errno;
	errno = saved;
	return ret;
}

struct os_fault os_fail_move, os_fail_map;

bool os_should_fail(struct os_fault *f)
{
	if (!__atomic_load_n(&f->times, __ATOMIC_RELAXED))
		return false;
	if (__atomic_load_n(&f->skip, __ATOMIC_RELAXED)) {
		__atomic_fetch_sub(&f->skip, 1, __ATOMIC_RELAXED);
		return false;
	}
	if (f->times > 0)
		__atomic_fetch_sub(&f->times, 1, __ATOMIC_RELAXED);
	return true;
}

int os_unreserve(void *addr, size_t size)
{
	int saved = errno, ret = 0;

	if (munmap(addr, size))
		ret = -errno;
	errno = saved;
	return ret;
}
