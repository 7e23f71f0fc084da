// SPDX-License-Identifier: MIT
/*
 * config_secure.c - a secure-execution process (AT_SECURE) ignores every
 * KMM_* variable, as glibc ignores GLIBC_TUNABLES there; any other process
 * honours them.
 *
 * The test copies itself next to its binary, gives the copy to nobody with
 * the setuid bit and runs it as root: real uid 0, effective uid nobody, so
 * the kernel sets AT_SECURE.  The copy runs with KMM_STATS=slabinfo and
 * KMM_ARENA_LIMIT=64M and reports its settings; without the setuid bit the
 * same copy must honour both.  Skips (77) when not root or on a nosuid
 * file system.
 */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "../kt_kmm.h"
#include "lib/config.h"

#define NOBODY 65534

static char copy_dir[PATH_MAX], copy_path[PATH_MAX + 32];

/*
 * LeakSanitizer's hook (sanitize builds): it cannot inspect a process that
 * runs as another user, so the setuid child turns it off.
 */
int __lsan_is_turned_off(void)
{
	return getauxval(AT_SECURE) != 0;
}

/* The child: report what libkmm made of its environment, then exit (KMM_STATS runs). */
static int child_main(void)
{
	if (kmm_init())
		return 3;
	kmm_kfree(kmm_kmalloc(100, KMM_GFP_KERNEL));
	printf("secure=%d limit=%llu\n", kmm_secure_exec(), kmm_config.arena_limit);
	fflush(stdout);
	return 0;
}

static int copy_self(void)
{
	char exe[PATH_MAX], buf[65536];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1), n;
	int in, out;

	if (len <= 0)
		return -1;
	exe[len] = '\0';
	snprintf(copy_path, sizeof(copy_path), "%s", exe);
	snprintf(copy_dir, sizeof(copy_dir), "%s/config_secure.XXXXXX", dirname(exe));
	if (!mkdtemp(copy_dir))
		return -1;
	chmod(copy_dir, 0755);
	in = open(copy_path, O_RDONLY | O_CLOEXEC);
	snprintf(copy_path, sizeof(copy_path), "%s/child", copy_dir);
	out = open(copy_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (in < 0 || out < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			return -1;
	close(in);
	close(out);
	return n < 0 ? -1 : 0;
}

static void cleanup(void)
{
	unlink(copy_path);
	rmdir(copy_dir);
}

/* Run the copy with the KMM_* settings; its stdout and stderr into @out and @err. */
static int run_copy(char *out, char *err, size_t size)
{
	char *argv[] = { copy_path, "child", NULL };
	char *envp[] = { "KMM_STATS=slabinfo", "KMM_ARENA_LIMIT=64M", NULL };
	int fo = memfd_create("out", 0), fe = memfd_create("err", 0), status;
	pid_t pid;
	ssize_t n;

	if (fo < 0 || fe < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(fo, 1);
		dup2(fe, 2);
		execve(copy_path, argv, envp);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	n = pread(fo, out, size - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	n = pread(fe, err, size - 1, 0);
	err[n > 0 ? n : 0] = '\0';
	close(fo);
	close(fe);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_secure_ignores_env(void)
{
	static char out[65536], err[65536];
	int ret;

	KT_REQUIRE(chown(copy_path, NOBODY, NOBODY) == 0 && chmod(copy_path, 04755) == 0,
		   "cannot make the copy setuid nobody: %s", strerror(errno));
	ret = run_copy(out, err, sizeof(err));
	KT_REQUIRE(ret == 0, "setuid child exited %d: %s%s", ret, out, err);
	KT_CHECK(!strcmp(out, "secure=1 limit=0\n"), "setuid child reported: %s", out);
	KT_CHECK(!strstr(err, "slabinfo") && !strstr(err, "kmalloc"),
		 "KMM_STATS was honoured under AT_SECURE:\n%.300s", err);
}

static void test_plain_honours_env(void)
{
	static char out[65536], err[65536];
	int ret;

	KT_REQUIRE(chmod(copy_path, 0755) == 0, "chmod: %s", strerror(errno));
	ret = run_copy(out, err, sizeof(err));
	KT_REQUIRE(ret == 0, "child exited %d: %s%s", ret, out, err);
	KT_CHECK(!strcmp(out, "secure=0 limit=67108864\n"), "plain child reported: %s", out);
	KT_CHECK(strstr(err, "slabinfo"), "KMM_STATS=slabinfo wrote no slabinfo:\n%.300s", err);
}

static const struct kt_test tests[] = {
	{ "secure_ignores_env", test_secure_ignores_env },
	{ "plain_honours_env", test_plain_honours_env },
};

int main(int argc, char **argv)
{
	struct statvfs st;
	int ret;

	if (argc > 1 && !strcmp(argv[1], "child"))
		return child_main();
	if (geteuid() != 0) {
		printf("skipped: making a setuid-nobody binary needs root\n");
		return 77;
	}
	if (copy_self()) {
		perror("copying the test binary");
		cleanup();
		return 2;
	}
	if (statvfs(copy_dir, &st) == 0 && (st.f_flag & ST_NOSUID)) {
		printf("skipped: %s is on a nosuid file system\n", copy_dir);
		cleanup();
		return 77;
	}
	ret = kt_main(tests, sizeof(tests) / sizeof(tests[0]));
	cleanup();
	return ret;
}
