// SPDX-License-Identifier: MIT
/*
 * lib_test.c - the pieces under everything: the malloc-free formatter, size
 * parsing for KMM_* settings and what an empty or bad one does, the kernel
 * list format parser, the lock, the clock.
 */
#include <pthread.h>
#include <sys/auxv.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../ktest.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/lock.h"
#include "lib/printk.h"
#include "numa/os.h"

static void test_snprintf_matches_libc(void)
{
	char ours[128], libc[128];

#define SAME(fmt, ...)                                                                             \
	do {                                                                                       \
		kmm_snprintf(ours, sizeof(ours), fmt, __VA_ARGS__);                                \
		snprintf(libc, sizeof(libc), fmt, __VA_ARGS__);                                    \
		KT_CHECK(strcmp(ours, libc) == 0, "'%s': ours '%s' libc '%s'", fmt, ours, libc);   \
	} while (0)
	SAME("%d|%i|%u", -42, 7, 4000000000u);
	SAME("%ld %lu %lld %llu", -1L, ~0UL, (long long)-9223372036854775807LL - 1, ~0ULL);
	SAME("%x %lx %zu", 0xdeadbeefu, 0x7fff12345678UL, (size_t)123456789);
	SAME("[%6lu][%-6lu][%06d][%-8s][%8s]", 42UL, 42UL, -42, "ab", "Normal");
	SAME("%p %s %c %%", (void *)0x1234abcd, "str", 'z');
	SAME("%s", "");
#undef SAME
	/* Truncation keeps a NUL and reports what fit. */
	KT_CHECK(kmm_snprintf(ours, 5, "%s", "abcdefgh") == 4 && strcmp(ours, "abcd") == 0,
		 "truncated '%s'", ours);
}

static void test_parse_size(void)
{
	unsigned long long v;

	KT_CHECK(kmm_parse_size("0", &v) == 0 && v == 0, "0");
	KT_CHECK(kmm_parse_size("4096", &v) == 0 && v == 4096, "4096");
	KT_CHECK(kmm_parse_size("64K", &v) == 0 && v == 65536, "64K");
	KT_CHECK(kmm_parse_size("128M", &v) == 0 && v == 128ULL << 20, "128M");
	KT_CHECK(kmm_parse_size("2g", &v) == 0 && v == 2ULL << 30, "2g");
	KT_CHECK(kmm_parse_size("1T", &v) == 0 && v == 1ULL << 40, "1T");
	KT_CHECK(kmm_parse_size("3MiB", &v) == 0 && v == 3ULL << 20, "3MiB");
	KT_CHECK(kmm_parse_size("", &v) == -EINVAL, "empty");
	KT_CHECK(kmm_parse_size("12Q", &v) == -EINVAL, "12Q");
	KT_CHECK(kmm_parse_size("-5", &v) == -EINVAL, "-5");
	KT_CHECK(kmm_parse_size("99999999999999999999", &v) == -EINVAL, "overflow");
	KT_CHECK(kmm_parse_size("17179869184T", &v) == -EINVAL, "shift overflow");
}

/*
 * kmm_config_init() in a child with KMM_THP=@thp and KMM_DECAY_MS=@decay:
 * its stderr into @err, and its exit status: 0 if both settings ended as
 * @want_thp and @want_decay.
 */
static int config_child(const char *thp, const char *decay, unsigned long long want_thp,
			unsigned long long want_decay, char *err, size_t size)
{
	int fds[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe(fds))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 2);
		setenv("KMM_THP", thp, 1);
		setenv("KMM_DECAY_MS", decay, 1);
		kmm_config_init();
		_exit(kmm_config.thp == want_thp && kmm_config.decay_ms == want_decay ? 0 : 1);
	}
	close(fds[1]);
	while (got < (ssize_t)size - 1 && (n = read(fds[0], err + got, size - 1 - (size_t)got)) > 0)
		got += n;
	err[got] = '\0';
	close(fds[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * An empty KMM_* variable is as if unset: the default, and not a word on
 * stderr (which is the program's).  A bad one keeps the default too, with a
 * warning naming it; a good one is taken.
 */
static void test_empty_setting_is_unset(void)
{
	char err[512];
	int rc;

	rc = config_child("", "", 0, 1000, err, sizeof(err));
	KT_CHECK(rc == 0, "empty settings: status %d (not the defaults)", rc);
	KT_CHECK(err[0] == '\0', "empty settings wrote to stderr: %s", err);
	rc = config_child("yes", "1s", 0, 1000, err, sizeof(err));
	KT_CHECK(rc == 0, "bad settings: status %d (not the defaults)", rc);
	KT_CHECK(strstr(err, "libkmm: ignoring KMM_THP=yes") && strstr(err, "KMM_DECAY_MS=1s"),
		 "bad settings were not named: '%s'", err);
	rc = config_child("1", "250", 1, 250, err, sizeof(err));
	KT_CHECK(rc == 0 && err[0] == '\0', "good settings: status %d, stderr '%s'", rc, err);
}

static int ids[64], nids;
static void collect(void *arg, int id)
{
	(void)arg;
	if (nids < 64)
		ids[nids++] = id;
}

static void test_parse_list(void)
{
	nids = 0;
	KT_CHECK(os_parse_list("0-3,8,10-11\n", collect, NULL) == 7, "count");
	KT_CHECK(nids == 7 && ids[0] == 0 && ids[3] == 3 && ids[4] == 8 && ids[6] == 11,
		 "ids %d %d %d", ids[0], ids[4], ids[6]);
	nids = 0;
	KT_CHECK(os_parse_list("0", collect, NULL) == 1 && ids[0] == 0, "single");
	KT_CHECK(os_parse_list("3-1", collect, NULL) == -EINVAL, "reversed range");
	KT_CHECK(os_parse_list("a", collect, NULL) == -EINVAL, "garbage");
}

static struct kmm_lock lock = KMM_LOCK_INIT;
static long counter;

static void *locker(void *arg)
{
	for (int i = 0; i < (int)(intptr_t)arg; i++) {
		kmm_lock(&lock);
		counter++;
		kmm_unlock(&lock);
	}
	return NULL;
}

static void test_lock_excludes(void)
{
	pthread_t t[4];
	int n = kt_under_valgrind() ? 2000 : 200000;

	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, locker, (void *)(intptr_t)n);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	KT_CHECK(counter == 4L * n, "counter %ld, expected %ld", counter, 4L * n);
	KT_CHECK(kmm_trylock(&lock), "trylock of a free lock");
	KT_CHECK(!kmm_trylock(&lock), "trylock of a held lock");
	kmm_unlock(&lock);
}

/*
 * fork() handling armed late (lock.c, fork_arm()): another thread forks
 * while one registers the handlers.  The child inherits a registration in
 * progress by a thread it does not have: its own first call must register
 * there and return, not wait for that thread (it did, forever).
 */
static pid_t arm_parent;
static int arm_child_status = -1;
static pthread_mutex_t arm_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t arm_cv = PTHREAD_COND_INITIALIZER;
static int arm_phase; /* 1: the registration is under way; 2: the fork is done */

static bool arm_register(void)
{
	if (getpid() != arm_parent)
		return true; /* the child's own registration */
	pthread_mutex_lock(&arm_mu);
	arm_phase = 1;
	pthread_cond_broadcast(&arm_cv);
	while (arm_phase != 2)
		pthread_cond_wait(&arm_cv, &arm_mu);
	pthread_mutex_unlock(&arm_mu);
	return true;
}

static void *arm_forker(void *arg)
{
	pid_t pid;

	pthread_mutex_lock(&arm_mu);
	while (arm_phase != 1)
		pthread_cond_wait(&arm_cv, &arm_mu);
	pthread_mutex_unlock(&arm_mu);
	pid = fork();
	if (pid == 0) {
		alarm(10); /* the old code waited here for good */
		_exit(kmm_fork_arm(FORK_ARM_THREAD) && kmm_fork_armed ? 0 : 1);
	}
	if (pid > 0)
		waitpid(pid, &arm_child_status, 0);
	pthread_mutex_lock(&arm_mu);
	arm_phase = 2;
	pthread_cond_broadcast(&arm_cv);
	pthread_mutex_unlock(&arm_mu);
	return arg;
}

static void test_fork_during_arm(void)
{
	pthread_t t;
	bool armed;

	arm_parent = getpid();
	kmm_fork_arm_init(arm_register);
	KT_REQUIRE(!kmm_fork_armed, "armed before the test");
	pthread_create(&t, NULL, arm_forker, NULL);
	armed = kmm_fork_arm(FORK_ARM_THREAD);
	pthread_join(t, NULL);
	KT_CHECK(armed && kmm_fork_armed, "the parent did not register");
	KT_CHECK(WIFEXITED(arm_child_status) && WEXITSTATUS(arm_child_status) == 0,
		 "the child of a fork() during the registration: status %#x (a signal: it waited "
		 "for the parent's registering thread)",
		 arm_child_status);
}

/*
 * The clock read through the vDSO's own function (found where the process
 * has a vDSO: valgrind maps none) agrees with libc's, in both clocks
 * libkmm reads, and does not go backwards.
 */
static void test_clock_matches_libc(void)
{
	static const clockid_t clocks[] = { CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC };
	struct timespec ours, libc;

	if (getauxval(AT_SYSINFO_EHDR))
		KT_CHECK(kmm_clock_uses_vdso(), "the vDSO's clock_gettime() was not found");
	for (unsigned int i = 0; i < 2; i++) {
		KT_REQUIRE(clock_gettime(clocks[i], &libc) == 0, "clock_gettime");
		KT_REQUIRE(kmm_clock_gettime(clocks[i], &ours) == 0, "kmm_clock_gettime");
		long long ns = (long long)(ours.tv_sec - libc.tv_sec) * 1000000000LL +
			       (ours.tv_nsec - libc.tv_nsec);

		/* The coarse clock ticks every few ms; ours was read after libc's. */
		KT_CHECK(ns >= 0 && ns < 100000000LL, "clock %d: ours %lld ns from libc's",
			 (int)clocks[i], ns);
	}
	uint64_t last = kmm_now_ms();
	for (int i = 0; i < 1000; i++) {
		uint64_t now = kmm_now_ms();

		KT_CHECK(now >= last, "kmm_now_ms() went back from %llu to %llu",
			 (unsigned long long)last, (unsigned long long)now);
		last = now;
	}
}

KT_MAIN(KT_TEST(test_snprintf_matches_libc), KT_TEST(test_parse_size),
	KT_TEST(test_empty_setting_is_unset), KT_TEST(test_parse_list), KT_TEST(test_lock_excludes),
	KT_TEST(test_fork_during_arm), KT_TEST(test_clock_matches_libc))
