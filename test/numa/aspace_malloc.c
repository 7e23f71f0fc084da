// SPDX-License-Identifier: MIT
/*
 * aspace_malloc.c - libkmm's address space as a program sees it, linked with
 * libkmm.so: under a lowered RLIMIT_AS a thread can be created and malloc
 * returns NULL with ENOMEM only at the limit, and works again once the limit
 * is raised; a small program under LD_PRELOAD=libkmm.so maps about what it
 * maps on glibc (the vmalloc region, reduced separately, aside).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define KT_SETUP kt_skip_under_asan()
#include "../kt_kmm.h"

#include <kmm/numa.h>

#define MiB (1UL << 20)
#define OBJ_SIZE 1000

extern char **environ;

/* VmSize in bytes, read without malloc (RLIMIT_AS may be reached). */
static unsigned long vm_size(void)
{
	return kt_status_kb("VmSize:") << 10;
}

static void *thread_mallocs(void *arg)
{
	void *p = malloc(100);

	(void)arg;
	free(p);
	return p;
}

/*
 * RLIMIT_AS lowered to 256 MiB over what the process maps: a thread can be
 * created; 1000-byte objects come until the limit is near, then NULL with
 * ENOMEM; once the limit is raised again, more than that comes again.
 */
static void test_rlimit_as(void)
{
	struct rlimit old, low;
	unsigned long got = 0, at_failure, cap;
	void *head = NULL, *ret = NULL, *p;
	int err, errno_at_null = 0;
	pthread_t t;

	if (kt_under_valgrind()) {
		printf("skipped: RLIMIT_AS would limit valgrind itself\n");
		return;
	}
	KT_REQUIRE(getrlimit(RLIMIT_AS, &old) == 0, "getrlimit");
	low = old;
	low.rlim_cur = vm_size() + 256 * MiB;
	if (old.rlim_cur != RLIM_INFINITY && old.rlim_cur < low.rlim_cur) {
		printf("skipped: RLIMIT_AS is already %lu MiB\n",
		       (unsigned long)old.rlim_cur / MiB);
		return;
	}
	cap = 1024 * MiB / OBJ_SIZE;
	KT_REQUIRE(setrlimit(RLIMIT_AS, &low) == 0, "setrlimit");
	err = pthread_create(&t, NULL, thread_mallocs, NULL);
	if (!err)
		pthread_join(t, &ret);
	for (; got < cap; got++) {
		errno = 0;
		p = malloc(OBJ_SIZE);
		if (!p) {
			errno_at_null = errno;
			break;
		}
		*(void **)p = head;
		head = p;
	}
	at_failure = vm_size();
	while (head) {
		p = *(void **)head;
		free(head);
		head = p;
	}
	KT_REQUIRE(setrlimit(RLIMIT_AS, &old) == 0, "setrlimit back");

	KT_CHECK(!err, "pthread_create under RLIMIT_AS: %s", strerror(err));
	KT_CHECK(ret != NULL, "the thread's malloc failed");
	KT_CHECK(got < cap, "%lu MiB allocated under a limit of 256 MiB more",
		 got * OBJ_SIZE / MiB);
	KT_CHECK(errno_at_null == ENOMEM, "malloc returned NULL with errno %d", errno_at_null);
	KT_CHECK(got * OBJ_SIZE >= 150 * MiB, "only %lu MiB before NULL, the limit 256 MiB away",
		 got * OBJ_SIZE / MiB);
	KT_CHECK(at_failure + 16 * MiB >= low.rlim_cur,
		 "NULL %lu MiB below the limit: the limit was not reached",
		 (low.rlim_cur - at_failure) / MiB);

	/* More than was given back: the zones must grow again. */
	for (unsigned long i = 0; i < got + 64 * MiB / OBJ_SIZE; i++) {
		p = malloc(OBJ_SIZE);
		KT_REQUIRE(p, "object %lu after the limit is raised again", i);
		*(void **)p = head;
		head = p;
	}
	while (head) {
		p = *(void **)head;
		free(head);
		head = p;
	}
}

/*
 * `cat /proc/self/maps`, with libkmm preloaded from @preload or not.
 * Return: the bytes it maps; *@has set if a mapping starts in [@from, @to).
 */
static unsigned long child_maps(const char *preload, uintptr_t from, uintptr_t to, bool *has)
{
	char *argv[] = { "cat", "/proc/self/maps", NULL };
	char *envp[] = { NULL, NULL };
	char env[4200], line[512];
	posix_spawn_file_actions_t fa;
	unsigned long lo, hi, total = 0;
	int fds[2], status;
	FILE *f;
	pid_t pid;

	if (preload) {
		snprintf(env, sizeof(env), "LD_PRELOAD=%s", preload);
		envp[0] = env;
	}
	KT_REQUIRE(pipe(fds) == 0, "pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	KT_REQUIRE(posix_spawnp(&pid, "cat", &fa, NULL, argv, envp) == 0, "spawn cat");
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	f = fdopen(fds[0], "r");
	*has = false;
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		total += hi - lo;
		*has |= lo >= from && lo < to;
	}
	if (f)
		fclose(f);
	waitpid(pid, &status, 0);
	KT_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "cat failed");
	return total;
}

/*
 * cat under LD_PRELOAD=libkmm.so maps within 1 GiB of what it maps on glibc
 * (zones and vmalloc region together).  libkmm did start in it: a zone is
 * mapped where the layouts go, between 32 and 42 TiB (at a random place in
 * each process, arena.c).
 */
static void test_small_program_near_glibc(void)
{
	const uintptr_t from = 32UL << 40, to = 42UL << 40;
	unsigned long glibc, kmm;
	Dl_info info;
	bool has;

	if (kt_under_valgrind()) {
		printf("skipped: under valgrind the layout is reserved elsewhere\n");
		return;
	}
	KT_REQUIRE(dladdr((void *)kmm_dump, &info) && info.dli_fname, "dladdr");
	glibc = child_maps(NULL, from, to, &has);
	KT_CHECK(!has, "glibc's cat maps something between 32 and 42 TiB");
	kmm = child_maps(info.dli_fname, from, to, &has);
	KT_CHECK(has, "no zone between 32 and 42 TiB in cat under %s", info.dli_fname);
	KT_CHECK(kmm <= glibc + (1UL << 30), "cat maps %lu MiB on glibc, %lu MiB on libkmm",
		 glibc / MiB, kmm / MiB);
	printf("cat: %lu MiB mapped on glibc, %lu MiB on libkmm\n", glibc / MiB, kmm / MiB);
}

KT_MAIN(KT_TEST(test_rlimit_as), KT_TEST(test_small_program_near_glibc))
