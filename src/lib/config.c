// SPDX-License-Identifier: MIT
/*
 * config.c - environment settings (see config.h).
 *
 * getenv() neither allocates nor locks, so this is safe inside the first
 * malloc of a program, before any constructor has run.
 *
 * In a secure-execution process (AT_SECURE: setuid, setgid, file
 * capabilities) the environment belongs to a less privileged caller, so no
 * KMM_* variable is read at all, as glibc ignores GLIBC_TUNABLES there.
 *
 * A variable set to the empty string counts as unset, silently (a script's
 * `KMM_THP=${KMM_THP:-}` exports one): a warning would land in the stderr
 * of every program it runs.
 */
#include "config.h"

#include <string.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/auxv.h>

#include "memcheck.h"
#include "printk.h"

struct kmm_config kmm_config;

bool kmm_secure_exec(void)
{
	return getauxval(AT_SECURE) != 0;
}

const char *kmm_getenv(const char *name)
{
	const char *val = kmm_secure_exec() ? NULL : getenv(name);

	return val && *val ? val : NULL;
}

int kmm_parse_size(const char *s, unsigned long long *out)
{
	unsigned long long v = 0;
	unsigned int shift = 0;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (~0ULL - 9) / 10)
			return -EINVAL;
		v = v * 10 + (unsigned long long)(*s - '0');
	}
	switch (*s) {
	case 'k':
	case 'K':
		shift = 10;
		s++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		s++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		s++;
		break;
	case 't':
	case 'T':
		shift = 40;
		s++;
		break;
	default: break;
	}
	if (*s == 'i' || *s == 'B' || *s == 'b')
		s += (*s == 'i' && (s[1] == 'B' || s[1] == 'b')) ? 2 : 1;
	if (*s)
		return -EINVAL;
	if (shift && v > (~0ULL >> shift))
		return -EINVAL;
	*out = v << shift;
	return 0;
}

static void warn_bad(const char *env, const char *val, const char *what)
{
	char msg[256];
	size_t n = kmm_snprintf(msg, sizeof(msg), "libkmm: ignoring %s=%s: %s\n", env, val, what);

	kmm_write_all(2, msg, n);
}

/* "SIGUSR2", "USR2", "12", "SIGRTMIN+3": a signal number, or 0. */
static int parse_signal(const char *s)
{
	static const struct {
		const char *name;
		int sig;
	} names[] = { { "USR1", SIGUSR1 },   { "USR2", SIGUSR2 }, { "HUP", SIGHUP },
		      { "WINCH", SIGWINCH }, { "PWR", SIGPWR },	  { "URG", SIGURG } };
	unsigned long long v;

	if (!strncmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i].name))
			return names[i].sig;
	if (!strncmp(s, "RTMIN+", 6) && !kmm_parse_size(s + 6, &v) && v <= 8)
		return SIGRTMIN + (int)v;
	if (!kmm_parse_size(s, &v) && v >= 1 && v < (unsigned long long)NSIG && v != SIGKILL &&
	    v != SIGSTOP)
		return (int)v;
	return 0;
}

static void parse_one(unsigned long long *field, const char *env, enum kmm_opt_kind kind)
{
	const char *val = kmm_getenv(env);
	unsigned long long v;

	if (!val)
		return;
	if (kind == KMM_OPT_BOOL) {
		if ((val[0] == '0' || val[0] == '1') && !val[1])
			*field = (unsigned long long)(val[0] - '0');
		else
			warn_bad(env, val, "expected 0 or 1");
		return;
	}
	if (kind == KMM_OPT_PURGE) {
		if (!strcmp(val, "dontneed") || !strcmp(val, "free"))
			*field = val[0] == 'f' ? KMM_PURGE_FREE : KMM_PURGE_DONTNEED;
		else
			warn_bad(env, val, "expected dontneed or free");
		return;
	}
	if (kind == KMM_OPT_NUMA) {
		if (!strcmp(val, "local") || !strcmp(val, "interleave"))
			*field = val[0] == 'l' ? KMM_NUMA_OPT_LOCAL : KMM_NUMA_OPT_INTERLEAVE;
		else if (!kmm_parse_size(val, &v) && v < 1024)
			*field = v;
		else
			warn_bad(env, val, "expected local, interleave or a node number");
		return;
	}
	if (kind == KMM_OPT_SIGNAL) {
		int sig = parse_signal(val);

		if (sig)
			*field = (unsigned long long)sig;
		else
			warn_bad(env, val, "expected a signal such as SIGUSR2");
		return;
	}
	if (kmm_parse_size(val, &v))
		warn_bad(env, val, "expected a size such as 512M or 4G");
	else
		*field = v;
}

#if KMM_VALGRIND
bool kmm_on_valgrind;

void kmm_vg_init(void)
{
	kmm_on_valgrind = RUNNING_ON_VALGRIND != 0;
}
#else
void kmm_vg_init(void)
{
}
#endif

__init void kmm_config_init(void)
{
	kmm_vg_init();
#define X(field, env, kind, def, desc)                                                             \
	kmm_config.field = (def);                                                                  \
	parse_one(&kmm_config.field, env, kind);
	KMM_OPTIONS(X)
#undef X
	/*
	 * Tracking records on the out-of-line paths: no call may bypass them.
	 * (The secure mode checks there too, but keeps rseq for the per-CPU
	 * stacks: start-up leaves the hit paths closed, src/init.c.)
	 */
	if (kmm_config.track)
		kmm_config.rseq = 0;
}
