// SPDX-License-Identifier: MIT
/*
 * text_window.c - a small program maps one window of libkmm's code.
 *
 * The kernel maps a file's pages around each read fault, a whole aligned
 * 64 KiB window (fault_around_bytes), and every page so mapped counts in the
 * program's RSS.  src/layout.ld puts the functions a program of malloc,
 * calloc, realloc and free runs first in a text segment aligned to 64 KiB,
 * so such a program maps that one window; without the order, the 160 KiB of
 * code are all resident (docs/DESIGN.md, "Code layout").  This program does
 * what a small threaded program does and reads its own smaps: the resident
 * part of libkmm's executable mapping must fit one window.  The same layout
 * packs the small variables of libkmm's bss: the program writes few of its
 * pages.  And libkmm reads its clock from the vDSO, not through libc's
 * clock_gettime(), whose window of libc's code such a program never maps.
 *
 * Usage: text_window LAYOUT SANITIZE OPTIMIZATION, from meson: skipped (77)
 * where the order does not apply (a linker without the script, or code
 * grown by instrumentation or -O0).
 */
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../ktest.h"

#define WINDOW_KB 64 /* the kernel's default fault_around_bytes */

/*
 * The bound: the first 64 KiB of the text segment, or the kernel's window if
 * debugfs shows a larger one (a smaller one maps fewer pages, never more).
 */
static long window_kb(void)
{
	FILE *f = fopen("/sys/kernel/debug/fault_around_bytes", "r");
	long bytes = 0;

	if (f) {
		if (fscanf(f, "%ld", &bytes) != 1)
			bytes = 0;
		fclose(f);
	}
	return bytes > WINDOW_KB * 1024 ? bytes / 1024 : WINDOW_KB;
}

/*
 * Small objects of every size up to 4 KiB, grown strings, freed in another
 * order, and a table of 128-256 KiB each round, freed (a page run that goes
 * back to the system at once, as logicmin's hash tables do).
 */
static void *churn(void *arg)
{
	unsigned long seed = (unsigned long)(uintptr_t)arg;
	void *keep[512] = { 0 };

	for (int round = 0; round < 200; round++) {
		for (int i = 0; i < 512; i++) {
			size_t n = 1 + (seed = seed * 6364136223846793005UL + 1) % 4096;

			free(keep[i]);
			keep[i] = (i & 7) ? malloc(n) : calloc(1, n);
			if (!keep[i])
				return NULL;
			memset(keep[i], i, n);
		}
		char *s = NULL;
		for (size_t len = 16; len <= 2048; len *= 2) {
			char *t = realloc(s, len);

			if (!t) {
				free(s);
				return NULL;
			}
			memset(t, 'x', len);
			s = t;
		}
		free(s);
		s = calloc(1, (128 << 10) + (size_t)round * 640);
		if (!s)
			return NULL;
		s[round] = 1;
		free(s);
	}
	for (int i = 511; i >= 0; i--)
		free(keep[i]);
	return arg;
}

/*
 * Blocks of 60 KiB (page runs kept in the zone once freed) filled and freed
 * together, four times: they merge up to the zone's frontier, and the free
 * trims the top (zone_trim_top(), simple's bursts).  A function of that path
 * left out of src/layout.ld cost every such program a second window.
 */
static int top_of_heap(void)
{
	enum { N = 32, SIZE = 60 << 10 };
	void *p[N];

	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < N; i++) {
			p[i] = malloc(SIZE);
			if (!p[i]) {
				while (i--)
					free(p[i]);
				return 0;
			}
			memset(p[i], round, SIZE);
		}
		for (int i = 0; i < N; i++)
			free(p[i]);
	}
	return 1;
}

/* Resident and mapped KiB of the executable mappings of libkmm. */
static int kmm_text(long *rss_kb, long *size_kb)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0, found = 0;

	*rss_kb = *size_kb = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perms[8];
		long kb;

		if (line[strspn(line, "0123456789abcdef")] == '-' &&
		    sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3) {
			/* A mapping's first line: the fields that follow are its own. */
			in = perms[2] == 'x' && strstr(line, "libkmm");
			found |= in;
			if (in)
				*size_kb += (long)((hi - lo) >> 10);
		} else if (in && sscanf(line, "Rss: %ld", &kb) == 1) {
			*rss_kb += kb;
		}
	}
	fclose(f);
	return found;
}

static void test_small_program_maps_one_window(void)
{
	pthread_t t[2];
	void *ret;
	long rss, size, window = window_kb();

	for (int i = 0; i < 2; i++)
		KT_REQUIRE(!pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)(i + 1)),
			   "pthread_create");
	KT_CHECK(churn((void *)(uintptr_t)3), "out of memory");
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], &ret);
		KT_CHECK(ret, "out of memory in a thread");
	}
	KT_CHECK(top_of_heap(), "out of memory");
	KT_REQUIRE(kmm_text(&rss, &size), "no executable mapping of libkmm in /proc/self/smaps");
	printf("libkmm's code: %ld KiB resident of %ld KiB mapped (window %ld KiB)\n", rss, size,
	       window);
	KT_CHECK(rss > 0, "no resident code: not this process's libkmm");
	KT_CHECK(size > window, "libkmm's code fits one window anyway: the test shows nothing");
	KT_CHECK(rss <= window,
		 "a small program maps %ld KiB of libkmm's code, more than one %ld KiB window: a "
		 "function it runs lies outside .text.kmm_hot (src/layout.ld; perf record -e "
		 "page-faults -d names the first one of each window)",
		 rss, window);
}

/* The zero-initialised part of libkmm's writable segment, whole pages: [*lo, *hi). */
static int find_bss(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t *range = arg;

	(void)size;
	if (!info->dlpi_name || !strstr(info->dlpi_name, "libkmm"))
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W)) {
			uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);

			range[0] = (info->dlpi_addr + ph->p_vaddr + ph->p_filesz + page - 1) &
				   ~(page - 1);
			range[1] = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + page - 1) &
				   ~(page - 1);
		}
	}
	return 1;
}

/*
 * Pages of [@lo, @hi) this process wrote (/proc/self/pagemap: present and
 * mapped here alone; a page only read maps the shared zero page, and costs
 * nothing).  -1 if pagemap cannot be read.
 */
static long written_pages(uintptr_t lo, uintptr_t hi)
{
	long page = sysconf(_SC_PAGESIZE), n = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return -1;
	for (uintptr_t a = lo; a < hi; a += (uintptr_t)page) {
		uint64_t e;

		if (pread(fd, &e, sizeof(e), (off_t)(a / (uintptr_t)page * sizeof(e))) !=
		    (ssize_t)sizeof(e)) {
			close(fd);
			return -1;
		}
		n += (e >> 63 & 1) && (e >> 56 & 1);
	}
	close(fd);
	return n;
}

/*
 * The same program writes at most 5 pages of libkmm's bss: its state and
 * the kmalloc tables packed, with node 0's structures past them (4 pages),
 * and the learned caches' table once one is learned (src/layout.ld).  In
 * declaration order it wrote 7.
 */
#define BSS_PAGES_MAX 5

static void test_small_program_writes_little_bss(void)
{
	uintptr_t range[2] = { 0, 0 };
	long written;

	KT_CHECK(churn((void *)(uintptr_t)5), "out of memory");
	dl_iterate_phdr(find_bss, range);
	KT_REQUIRE(range[1] > range[0], "no bss found in libkmm's program headers");
	written = written_pages(range[0], range[1]);
	if (written < 0) {
		printf("skipped: /proc/self/pagemap unreadable\n");
		return;
	}
	printf("libkmm's bss: %ld pages written of %lu\n", written,
	       (unsigned long)((range[1] - range[0]) / (uintptr_t)sysconf(_SC_PAGESIZE)));
	KT_CHECK(written > 0, "no page of libkmm's bss written: not this process's libkmm");
	KT_CHECK(written <= BSS_PAGES_MAX,
		 "a small program writes %ld pages of libkmm's bss, more than %d: a large "
		 "array now lies among the small variables (src/layout.ld, .kmm_bss_tail)",
		 written, BSS_PAGES_MAX);
}

/*
 * This program's clock_gettime() takes the place of libc's for libkmm's
 * calls (the executable's symbol comes first): it counts them, and reads the
 * clock by the system call.
 */
static int clock_calls;

int clock_gettime(clockid_t clock, struct timespec *ts)
{
	__atomic_add_fetch(&clock_calls, 1, __ATOMIC_RELAXED);
	return (int)syscall(SYS_clock_gettime, clock, ts);
}

/*
 * libkmm reads its clock at start-up and when runs are freed (the churn's
 * tables of 128 KiB and more), from the vDSO where the process has one.
 */
static void test_clock_read_from_vdso(void)
{
	KT_CHECK(churn((void *)(uintptr_t)7), "out of memory");
	if (!getauxval(AT_SYSINFO_EHDR)) {
		printf("skipped: no vDSO (libc's clock_gettime() is libkmm's fallback)\n");
		return;
	}
	KT_CHECK(clock_calls == 0,
		 "libkmm called libc's clock_gettime() %d times: the vDSO's function was not "
		 "found (src/lib/clock.c)",
		 clock_calls);
}

int main(int argc, char **argv)
{
	static const struct kt_test tests[] = { KT_TEST(test_small_program_maps_one_window),
						KT_TEST(test_small_program_writes_little_bss),
						KT_TEST(test_clock_read_from_vdso) };

	if (argc < 4 || strcmp(argv[1], "layout") || strcmp(argv[2], "none") ||
	    !strchr("23s", argv[3][0])) {
		printf("skipped: no code layout here (linker, sanitizer or -O0 build)\n");
		return 77;
	}
	return kt_main(tests, sizeof(tests) / sizeof(tests[0]));
}
