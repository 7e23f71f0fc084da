// SPDX-License-Identifier: MIT
/*
 * misuse.c - the heap-misuse corpus's driver.
 *
 *   misuse CASE SIZE                 run one case in this process
 *   misuse --all [options]           run every case and size, each in a child
 *     --preload LIB                  the children run with LD_PRELOAD=LIB
 *     --env NAME=VALUE               and this in their environment (repeatable)
 *     --libkmm                       the allocator is libkmm: an abort counts only
 *                                    with a "libkmm: " message
 *     --expect default|secure|secure-track
 *                                    assert what libkmm's mode must catch (see below);
 *                                    secure-track: its reports name the call sites too
 *     --min N                        assert that at least N cases are caught
 *     --table                        print one line per case
 *
 * A child is caught when it aborts (with libkmm's message, for libkmm) or
 * faults (a guard page), or for a weakness probe when it returns 0; missed
 * when it runs to the end (or shows the weakness).  The children run 16 at
 * a time with core dumps off and a 10 s alarm; the whole corpus takes about
 * a second.
 *
 * --expect names, for each category the mode claims (or each case of it, by
 * name and size), the message every one of its cases must print (a fault is
 * accepted where a guard page is the mechanism): the death tests of
 * scripts/test, messages asserted.  A weakness probe meets an expectation
 * only as "protected": it is a correct program, which must not abort.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "misuse.h"

#define MAX_RUNS 160
#define PARALLEL 16
#define MAX_ENV 8

enum result { MISSED, CAUGHT_MSG, CAUGHT_FAULT, PROTECTED, BROKEN };
static const char *const result_name[] = { "missed", "caught", "fault", "protected", "BROKEN" };

struct run {
	const struct misuse_case *c;
	size_t size;
	pid_t pid;
	int fd; /* the child's stderr (a memfd) */
	int status;
	enum result result;
	char msg[200]; /* the first line of its report */
};

struct expect {
	const char *category;
	const char *needle;
	bool fault_ok;
	bool sites;	  /* a secure report: with KMM_TRACK=1 it names the call sites */
	size_t min_size;  /* only the cases of this size and up */
	const char *name; /* only this case of the category (NULL: all) */
	size_t size;	  /* only this size (0: all) */
};

/* What each mode of libkmm catches, and the message it must print. */
static const struct expect expect_default[] = {
	{ "double free", "double free", false, false, 0 },
	{ "invalid free", "invalid free of", false, false, 0 },
	/* Page runs: new and delete take the slow paths, which check the kind. */
	{ "delete mismatch", "mismatched delete of", false, false, 256 * 1024 },
	/* Slab objects: a size outside the object's class, on delete's hit path. */
	{ "sized delete", "mismatched sized delete of", false, false, 0 },
	/* Below the arena's start: unmapped. */
	{ "underflow 1 MiB", NULL, true, false, 0 },
	/*
	 * The free marks (slub.c): a free object's first word, checked when it
	 * leaves a per-CPU stack or its slab's free list, and at exit.  In the
	 * corpus's heap the object after a slab object is free, so an overflow
	 * of 32 bytes, of a whole 4 KiB object, or of 1 MiB reaches its mark.
	 */
	{ "write after free", "write after free to", .name = "uaf_write_memcpy" },
	{ "write after free", "write after free to", .name = "uaf_write_zero" },
	{ "overflow", "or an overflow into it", .name = "ovf32", .size = 8 },
	{ "overflow", "or an overflow into it", .name = "ovf32_memcpy", .size = 8 },
	{ "overflow", "or an overflow into it", .name = "ovf1", .size = 4096 },
	{ "overflow", "or an overflow into it", .name = "ovf32", .size = 4096 },
	{ "overflow", "or an overflow into it", .name = "ovf1_memcpy", .size = 4096 },
	{ "overflow", "or an overflow into it", .name = "ovf32_memcpy", .size = 4096 },
	{ "overflow 1 MiB", "or an overflow into it", .name = "ovf1m", .size = 8 },
	{ "overflow 1 MiB", "or an overflow into it", .name = "ovf1m", .size = 4096 },
	{ "overflow 1 MiB", "or an overflow into it", .name = "ovf1m_memcpy", .size = 8 },
	{ "overflow 1 MiB", "or an overflow into it", .name = "ovf1m_memcpy", .size = 4096 },
	/* The page run freed last is held back with a mark (kmalloc.c). */
	{ "write after free", "write after free to", .name = "uaf_write_reuse",
	  .size = 256 * 1024 },
	{ "read after free", NULL, .name = "uaf_read_reuse", .size = 256 * 1024 },
	{ "malloc_reuse", NULL, .size = 256 * 1024 },
	{ "zero_on_malloc", NULL, .size = 256 * 1024 },
	/* A slab object's mark clears its first 8 bytes, the whole of an 8-byte block. */
	{ "zero_on_malloc", NULL, .size = 8 },
	/* The mark, and the run's: the freed block no longer reads as it was. */
	{ "read after free", NULL, .name = "uaf_read" },
	/* realloc's old slab object goes back to its slab (cache_free_cold()). */
	{ "realloc_reuse", NULL },
	{ NULL, NULL, false, false, 0 },
};

static const struct expect expect_secure[] = {
	{ "double free", "double free", false, false },
	{ "invalid free", "invalid free of", false, false },
	{ "overflow", "overflow of", true, true },
	{ "overflow 1 MiB", "overflow of", true, true },
	{ "underflow", "underflow of", true, true },
	{ "write after free", "write after free to", false, true },
	{ "read after free", NULL, false, false },
	{ "zero_on_malloc", NULL, false, false },
	{ "malloc_reuse", NULL, false, false },
	{ "realloc_reuse", NULL, false, false },
	{ "delete mismatch", "mismatched delete of", false, true },
	{ "sized delete", "mismatched sized delete of", false, true },
	{ NULL, NULL, false, false },
};

static struct run runs[MAX_RUNS];
static int nr_runs;
static const char *preload;
static const char *envs[MAX_ENV];
static int nr_envs;
static bool is_libkmm;
static bool want_sites; /* --expect secure-track */

static int run_one(const char *name, const char *size)
{
	for (const struct misuse_case *c = misuse_cases; c->name; c++)
		if (!strcmp(c->name, name))
			return c->run(strtoul(size, NULL, 0));
	fprintf(stderr, "misuse: no case %s\n", name);
	return 2;
}

static void start(struct run *r, const char *self)
{
	char size[32];

	snprintf(size, sizeof(size), "%zu", r->size);
	r->fd = memfd_create("misuse", 0);
	if (r->fd < 0) {
		perror("memfd_create");
		exit(2);
	}
	r->pid = fork();
	if (r->pid < 0) {
		perror("fork");
		exit(2);
	}
	if (r->pid == 0) {
		struct rlimit no_core = { 0, 0 };

		setrlimit(RLIMIT_CORE, &no_core);
		dup2(r->fd, 2);
		if (preload)
			setenv("LD_PRELOAD", preload, 1);
		for (int i = 0; i < nr_envs; i++)
			putenv((char *)envs[i]);
		alarm(10);
		execl(self, self, r->c->name, size, (char *)NULL);
		_exit(127);
	}
}

static void classify(struct run *r)
{
	char buf[4096];
	ssize_t n = pread(r->fd, buf, sizeof(buf) - 1, 0);
	char *line;
	int st = r->status;

	close(r->fd);
	buf[n > 0 ? n : 0] = '\0';
	line = strstr(buf, "libkmm: ");
	if (!line)
		line = buf;
	snprintf(r->msg, sizeof(r->msg), "%.*s", (int)strcspn(line, "\n"), line);
	if (WIFSIGNALED(st) && (WTERMSIG(st) == SIGSEGV || WTERMSIG(st) == SIGBUS))
		r->result = CAUGHT_FAULT;
	else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT)
		r->result = !is_libkmm || strstr(buf, "libkmm: ") ? CAUGHT_MSG : BROKEN;
	else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
		r->result = MISSED; /* hung */
	else if (WIFSIGNALED(st))
		r->result = is_libkmm ? BROKEN : CAUGHT_FAULT;
	else if (WEXITSTATUS(st) == 0)
		r->result = r->c->weakness ? PROTECTED : MISSED;
	else if (WEXITSTATUS(st) == 1 && r->c->weakness)
		r->result = MISSED;
	else
		r->result = BROKEN;
}

static void run_all(const char *self)
{
	int next = 0, running = 0;

	while (next < nr_runs || running) {
		pid_t pid;
		int st;

		while (running < PARALLEL && next < nr_runs) {
			start(&runs[next++], self);
			running++;
		}
		pid = wait(&st);
		if (pid < 0) {
			perror("wait");
			exit(2);
		}
		for (int i = 0; i < nr_runs; i++)
			if (runs[i].pid == pid) {
				runs[i].status = st;
				classify(&runs[i]);
				running--;
			}
	}
}

static bool caught(const struct run *r)
{
	return r->result == CAUGHT_MSG || r->result == CAUGHT_FAULT || r->result == PROTECTED;
}

/* Every case of every category @e claims must be caught, with its message. */
static int check_expect(const struct expect *e)
{
	int bad = 0;

	for (; e->category; e++) {
		int cases = 0;

		for (int i = 0; i < nr_runs; i++) {
			const struct run *r = &runs[i];
			bool ok;

			if (strcmp(r->c->category, e->category) || r->size < e->min_size ||
			    (e->name && strcmp(r->c->name, e->name)) ||
			    (e->size && r->size != e->size))
				continue;
			cases++;
			if (r->c->weakness) /* a correct program: an abort is no protection */
				ok = r->result == PROTECTED;
			else if (r->result == CAUGHT_FAULT)
				ok = e->fault_ok;
			else if (!e->needle)
				ok = caught(r);
			else
				ok = r->result == CAUGHT_MSG && strstr(r->msg, e->needle) &&
				     (!want_sites || !e->sites ||
				      strstr(r->msg, "; allocated by "));
			if (!ok) {
				printf("FAIL %s/%zu (%s): %s, expected %s%s; stderr: %s\n",
				       r->c->name, r->size, e->category, result_name[r->result],
				       e->needle ? e->needle : "caught",
				       e->fault_ok ? " or a fault" : "", r->msg);
				bad++;
			}
		}
		if (!cases) {
			printf("FAIL no case of category %s%s%s\n", e->category,
			       e->name ? ": " : "", e->name ? e->name : "");
			bad++;
		}
	}
	return bad;
}

int main(int argc, char **argv)
{
	const struct expect *expect = NULL;
	bool table = false;
	int min = -1, total = 0, bad = 0;

	if (argc == 3 && argv[1][0] != '-')
		return run_one(argv[1], argv[2]);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--preload") && i + 1 < argc) {
			preload = argv[++i];
		} else if (!strcmp(argv[i], "--env") && i + 1 < argc && nr_envs < MAX_ENV) {
			envs[nr_envs++] = argv[++i];
		} else if (!strcmp(argv[i], "--libkmm")) {
			is_libkmm = true;
		} else if (!strcmp(argv[i], "--expect") && i + 1 < argc) {
			i++;
			want_sites = !strcmp(argv[i], "secure-track");
			expect = !strncmp(argv[i], "secure", 6) ? expect_secure : expect_default;
		} else if (!strcmp(argv[i], "--min") && i + 1 < argc) {
			min = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--table")) {
			table = true;
		} else if (strcmp(argv[i], "--all")) {
			fprintf(stderr,
				"usage: misuse CASE SIZE | misuse --all [--preload LIB] "
				"[--env N=V] [--libkmm] [--expect default|secure] [--min N] "
				"[--table]\n");
			return 2;
		}
	}
	for (const struct misuse_case *c = misuse_cases; c->name; c++)
		for (int s = 0; s < (c->sized ? MISUSE_NR_SIZES : 1); s++)
			runs[nr_runs++] = (struct run){ .c = c, .size = misuse_sizes[s] };
	run_all("/proc/self/exe");
	for (int i = 0; i < nr_runs; i++) {
		struct run *r = &runs[i];

		total += caught(r);
		if (r->result == BROKEN) {
			printf("FAIL %s/%zu: the child did not run (status %#x): %s\n", r->c->name,
			       r->size, r->status, r->msg);
			bad++;
		}
		if (table)
			printf("%-24s %7zu  %-9s %s\n", r->c->name, r->size, result_name[r->result],
			       r->msg);
	}
	printf("caught %d of %d\n", total, nr_runs);
	if (expect)
		bad += check_expect(expect);
	if (min >= 0 && total < min) {
		printf("FAIL caught %d, fewer than %d\n", total, min);
		bad++;
	}
	return bad ? 1 : 0;
}
