/* SPDX-License-Identifier: MIT */
/*
 * ktest.h - the test suite's small harness: checks that count and report,
 * death tests in a forked child, and a per-test random seed.
 *
 * KT_CHECK(cond, fmt, ...) records a failure and goes on; KT_REQUIRE() also
 * ends the current test.  kt_main() runs the tests listed by the file and
 * exits 1 if any check failed, so every test file is one meson test.
 */
#ifndef KMM_TEST_KTEST_H
#define KMM_TEST_KTEST_H

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int kt_failures, kt_checks;
static jmp_buf kt_abort_test;
static const char *kt_current;

#define KT_CHECK(cond, ...)                                                                        \
	do {                                                                                       \
		kt_checks++;                                                                       \
		if (!(cond)) {                                                                     \
			kt_failures++;                                                             \
			fprintf(stderr, "FAIL %s (%s:%d): %s: ", kt_current, __FILE__, __LINE__,   \
				#cond);                                                            \
			fprintf(stderr, "" __VA_ARGS__);                                           \
			fputc('\n', stderr);                                                       \
		}                                                                                  \
	} while (0)

#define KT_REQUIRE(cond, ...)                                                                      \
	do {                                                                                       \
		int kt_before = kt_failures;                                                       \
		KT_CHECK(cond, __VA_ARGS__);                                                       \
		if (kt_failures != kt_before)                                                      \
			longjmp(kt_abort_test, 1);                                                 \
	} while (0)

struct kt_test {
	const char *name;
	void (*fn)(void);
};

#define KT_TEST(fn)                                                                                \
	{                                                                                          \
#fn, fn                                                                            \
	}

/* xorshift64*: reproducible randomness; the seed is printed by kt_main(). */
static uint64_t kt_rng_state = 0x9e3779b97f4a7c15ULL;

static inline uint64_t kt_rand(void)
{
	uint64_t x = kt_rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	kt_rng_state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static inline uint64_t kt_rand_r(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* Under valgrind tests shrink their loops: valgrind runs 20-50x slower. */
static inline int kt_under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");

	return (p && strstr(p, "vgpreload")) || getenv("KT_SLOW");
}

/*
 * kt_expect_death() - run @fn(@arg) in a child and require that it aborts
 * (SIGABRT) after writing a message containing @needle on stderr.
 */
static inline void kt_expect_death(const char *what, void (*fn)(void *), void *arg,
				   const char *needle)
{
	int pipefd[2], status = 0;
	char buf[4096];
	ssize_t len = 0, n;
	pid_t pid;

	kt_checks++;
	if (pipe(pipefd)) {
		perror("pipe");
		exit(2);
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };

		setrlimit(RLIMIT_CORE, &no_core);
		close(pipefd[0]);
		dup2(pipefd[1], 2);
		fn(arg);
		_exit(0); /* survived: the parent reports it */
	}
	close(pipefd[1]);
	while ((n = read(pipefd[0], buf + len, sizeof(buf) - 1 - (size_t)len)) > 0)
		len += n;
	buf[len] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT || !strstr(buf, needle)) {
		kt_failures++;
		fprintf(stderr,
			"FAIL %s: death test '%s': expected SIGABRT and a message with '%s'; "
			"got %s %d and stderr:\n%s\n",
			kt_current, what, needle, WIFSIGNALED(status) ? "signal" : "exit",
			WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), buf);
	}
}

/*
 * ASan interposes its own malloc: a test of libkmm's malloc built with it
 * would test ASan's.  Such tests skip there (exit 77); the UBSan-only build
 * of scripts/test runs them on libkmm.
 */
#if defined(__SANITIZE_ADDRESS__)
#define KT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KT_ASAN 1
#endif
#endif

static inline void kt_skip_under_asan(void)
{
#ifdef KT_ASAN
	printf("skipped: AddressSanitizer replaces malloc in this build\n");
	exit(77);
#endif
}

static inline int kt_main(const struct kt_test *tests, size_t n)
{
	const char *seed = getenv("KT_SEED");
	uint64_t s = seed ? strtoull(seed, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)getpid();

	if (!s)
		s = 1;
	kt_rng_state = s;
	printf("seed %llu (set KT_SEED to repeat)\n", (unsigned long long)s);
	for (size_t i = 0; i < n; i++) {
		int before = kt_failures;

		kt_current = tests[i].name;
		if (!setjmp(kt_abort_test))
			tests[i].fn();
		printf("%s %s\n", kt_failures == before ? "ok  " : "FAIL", tests[i].name);
		fflush(stdout);
	}
	printf("%d checks, %d failed\n", kt_checks, kt_failures);
	return kt_failures ? 1 : 0;
}

#ifndef KT_SETUP
#define KT_SETUP (void)0
#endif

#define KT_MAIN(...)                                                                               \
	int main(void)                                                                             \
	{                                                                                          \
		KT_SETUP;                                                                          \
		static const struct kt_test kt_tests[] = { __VA_ARGS__ };                          \
		return kt_main(kt_tests, sizeof(kt_tests) / sizeof(kt_tests[0]));                  \
	}

#endif /* KMM_TEST_KTEST_H */
