// SPDX-License-Identifier: MIT
/*
 * fork_test.c - fork() never deadlocks under libkmm, and the child's heap is
 * whole.  Linked with libkmm.so, so every allocation of the process, stdio's
 * included, is libkmm's.  One scenario per run, named by argv[1]:
 *
 *   signal   a single-threaded loop of malloc, free and realloc at every size
 *            (slab objects, page runs of 32 KiB-4 MiB, vmalloc areas above
 *            4 MiB) is interrupted by SIGALRM every millisecond, and the
 *            handler forks, 600 times.  Each child returns from the
 *            handler into the interrupted call, checks every block the loop
 *            holds, frees them, allocates again, and exits.
 *   stdio    getline() on long lines (malloc and realloc under the FILE
 *            lock), fflush(NULL) (the stdio list lock, then each FILE lock)
 *            and an allocating thread, while another thread forks: the cycle
 *            of glibc bug 19431.  Children use malloc and stdio, then exit.
 *   threads  four threads fork while three allocate and free every size
 *            class, one drains (kmm_reclaim), creates and destroys caches and
 *            frees into a shared mempool, and the stdio pair above runs.
 *            Children allocate every class, use the cache and the mempool,
 *            and exit.
 *   arm      libkmm registers its fork() handlers only once the process has
 *            threads: none after a single-threaded run of every kind of
 *            block, whose forked children check the heap, drain, then start
 *            a thread (registered by its calloc()) and fork beside it; a
 *            child marked multi-threaded by hand registers them at its next
 *            lock; the parent's first pthread_create() registers them before
 *            the thread runs, and forks beside it follow.
 *
 * A hang is a failure: each workload runs in a process group of its own under
 * a watchdog that kills the group once its progress count stands still for
 * 20 s, and each workload kills and counts any child that does not exit
 * within 10 s.  KT_FORK_GDB=1 prints the stacks of a hung process first;
 * KT_FORK_SECONDS sets the length of the threaded runs (4 s).
 */
#include <dirent.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/time.h>

#include "../kt_kmm.h"

#include <kmm/kmm.h>

#define KiB (1UL << 10)
#define MiB (1UL << 20)

/* Exit codes of a workload (and of its children). */
enum {
	FT_OK = 0,
	FT_BAD_BLOCK = 3, /* a block lost its contents */
	FT_NOMEM = 4,	  /* an allocation failed */
	FT_CHILD_FAILED = 5,
	FT_CHILD_HUNG = 6,
	FT_FORK_FAILED = 7,
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int slow_mode(void)
{
	return kt_under_valgrind();
}

/*
 * A size of one of the three kinds of block: slab objects (log-uniform up to
 * 32 KiB), page runs (32 KiB-4 MiB) and vmalloc areas (4-8 MiB).
 */
static size_t pick_size(uint64_t r)
{
	unsigned int kind = (unsigned int)(r % 100), bits;

	r >>= 8;
	if (kind < 60) {
		bits = 4 + (unsigned int)(r % 12); /* 16 B .. 32 KiB */
		return 1 + (r >> 4) % (1UL << bits);
	}
	if (kind < 92) {
		bits = 15 + (unsigned int)(r % 7); /* 32 KiB .. 4 MiB */
		return (1UL << bits) + (r >> 4) % (1UL << bits);
	}
	return 4 * MiB + 1 + (r >> 4) % (4 * MiB);
}

/* A block's first and last byte carry its tag. */
static void tag_block(unsigned char *p, size_t size, unsigned char tag)
{
	p[0] = tag;
	p[size - 1] = tag;
}

static int tag_ok(const unsigned char *p, size_t size, unsigned char tag)
{
	return p[0] == tag && p[size - 1] == tag;
}

/*
 * In a child: allocate blocks of every kind, fill, check and free them, and
 * trim.  Return: FT_OK or the failure.
 */
static int child_exercise(uint64_t seed)
{
	unsigned char *p[24];
	size_t size[24];

	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 24; i++) {
			size[i] = pick_size(kt_rand_r(&seed));
			p[i] = malloc(size[i]);
			if (!p[i])
				return FT_NOMEM;
			tag_block(p[i], size[i], (unsigned char)(i + 1));
		}
		for (int i = 0; i < 24; i += 3) {
			size_t grown = size[i] + pick_size(kt_rand_r(&seed)) / 2;
			unsigned char *q = realloc(p[i], grown);

			if (!q)
				return FT_NOMEM;
			if (q[0] != (unsigned char)(i + 1))
				return FT_BAD_BLOCK;
			p[i] = q;
			size[i] = grown;
			tag_block(p[i], size[i], (unsigned char)(i + 1));
		}
		for (int i = 0; i < 24; i++) {
			if (!tag_ok(p[i], size[i], (unsigned char)(i + 1)))
				return FT_BAD_BLOCK;
			free(p[i]);
		}
	}
	malloc_trim(0);
	return FT_OK;
}

/* ---- children: reaped with a deadline ---- */

/*
 * Progress of the workload, in memory shared with the watchdog: a workload
 * whose count stands still for stall_seconds() is hung.
 */
static volatile uint64_t *progress;

static void made_progress(void)
{
	__atomic_fetch_add(progress, 1, __ATOMIC_RELAXED);
}

/* A child must be done by then: it allocates a few dozen blocks and exits. */
static uint64_t child_limit_ms(void)
{
	return slow_mode() ? 120000 : 10000;
}

/* Set in a child forked by the signal handler, which goes on from where it interrupted. */
static volatile sig_atomic_t sig_in_child;
static __attribute__((noreturn)) void sig_child(void);

/* KT_FORK_GDB=1: the stack of every thread of a hung process, before it is killed. */
static void debug_hang(pid_t pid)
{
	sigset_t block, old;
	char cmd[128];

	if (!getenv("KT_FORK_GDB"))
		return;
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	sigprocmask(SIG_BLOCK, &block, &old);
	snprintf(cmd, sizeof(cmd), "gdb -p %d -batch -ex 'thread apply all bt' >&2 2>/dev/null",
		 (int)pid);
	if (system(cmd))
		fprintf(stderr, "(gdb failed)\n");
	sigprocmask(SIG_SETMASK, &old, NULL);
}

#define MAX_KIDS 64

struct kids {
	pid_t pid[2 * MAX_KIDS];
	uint64_t born_ms[2 * MAX_KIDS];
	int nr;
	int failed, hung;
	long reaped;
};

static void kid_add(struct kids *k, pid_t pid)
{
	if (pid <= 0 || k->nr == 2 * MAX_KIDS)
		abort();
	k->pid[k->nr] = pid;
	k->born_ms[k->nr] = now_ms();
	k->nr++;
}

static void kid_status(struct kids *k, pid_t pid, int status)
{
	k->reaped++;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		k->failed++;
		fprintf(stderr, "child %d: status %#x\n", (int)pid, (unsigned int)status);
	}
}

/* Reap the exited; kill and count a child older than @limit_ms.  Block while @block remain. */
static void kids_reap(struct kids *k, uint64_t limit_ms, int block)
{
	for (;;) {
		for (int i = 0; i < k->nr; i++) {
			int status;
			pid_t r = waitpid(k->pid[i], &status, WNOHANG);

			/* The list is the parent's: a child forked meanwhile leaves it. */
			if (sig_in_child)
				sig_child();

			if (r == k->pid[i]) {
				kid_status(k, r, status);
			} else if (now_ms() - k->born_ms[i] > limit_ms) {
				fprintf(stderr, "child %d hung for %llu ms: killed\n",
					(int)k->pid[i], (unsigned long long)limit_ms);
				debug_hang(k->pid[i]);
				kill(k->pid[i], SIGKILL);
				waitpid(k->pid[i], &status, 0);
				k->reaped++;
				k->hung++;
			} else {
				continue;
			}
			k->pid[i] = k->pid[--k->nr];
			k->born_ms[i] = k->born_ms[k->nr];
			i--;
		}
		if (sig_in_child)
			sig_child();
		if (k->nr < block || k->nr == 0)
			return;
		usleep(1000);
	}
}

static int kids_result(const struct kids *k)
{
	if (k->hung)
		return FT_CHILD_HUNG;
	return k->failed ? FT_CHILD_FAILED : FT_OK;
}

/* ---- scenario 1: fork from a signal handler, single-threaded ---- */

#define SIG_SLOTS 32

static volatile sig_atomic_t sig_forks, sig_stop, sig_fork_errors;
static volatile uint64_t sig_fork_us; /* time spent in fork() in the parent */
static volatile pid_t sig_pids[MAX_KIDS];
static volatile sig_atomic_t sig_nr_pids;

static struct {
	unsigned char *p;
	size_t size;
	unsigned char tag;
	int valid; /* p, size and the tags agree (cleared around every change) */
} slot[SIG_SLOTS];

/* The next alarm in 100-2100 us, counted from the end of this fork: the loop runs between forks. */
static void arm_alarm(void)
{
	static uint64_t rng = 0x2545f4914f6cdd1dULL;
	struct itimerval it = { { 0, 0 }, { 0, 100 + (long)(kt_rand_r(&rng) % 2000) } };

	setitimer(ITIMER_REAL, &it, NULL);
}

static void on_alarm(int sig)
{
	int saved = errno;
	pid_t pid;

	(void)sig;
	if (sig_stop || sig_in_child) {
		errno = saved;
		return;
	}
	if (sig_nr_pids < MAX_KIDS) {
		uint64_t t0 = now_us();

		pid = fork();
		if (pid > 0)
			sig_fork_us += now_us() - t0;
		if (pid == 0) {
			sig_in_child = 1; /* back in the loop, the child checks and exits */
			errno = saved;
			return;
		}
		if (pid > 0) {
			sig_pids[sig_nr_pids] = pid;
			sig_nr_pids = sig_nr_pids + 1;
			sig_forks = sig_forks + 1;
			made_progress();
		} else {
			sig_fork_errors = sig_fork_errors + 1;
		}
	}
	arm_alarm();
	errno = saved;
}

/* In the child of a fork from the handler: the heap as the loop left it. */
static void sig_child(void)
{
	int ret;

	for (int i = 0; i < SIG_SLOTS; i++) {
		if (!slot[i].p)
			continue;
		if (slot[i].valid && !tag_ok(slot[i].p, slot[i].size, slot[i].tag))
			_exit(FT_BAD_BLOCK);
		free(slot[i].p);
	}
	ret = child_exercise((uint64_t)getpid() * 77 + 1);
	_exit(ret);
}

/* Move the pids the handler recorded into @k (the alarm is blocked meanwhile). */
static void sig_collect(struct kids *k)
{
	sigset_t block, old;

	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	sigprocmask(SIG_BLOCK, &block, &old);
	for (int i = 0; i < sig_nr_pids; i++)
		kid_add(k, sig_pids[i]);
	sig_nr_pids = 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (sig_in_child)
		sig_child();
}

static void sig_step(uint64_t *rng)
{
	uint64_t r = kt_rand_r(rng);
	unsigned int i = (unsigned int)(r % SIG_SLOTS), op = (unsigned int)(r >> 8) % 3;
	size_t size = pick_size(kt_rand_r(rng));
	unsigned char tag = (unsigned char)(r >> 16) | 1, *p;

	slot[i].valid = 0;
	atomic_signal_fence(memory_order_seq_cst);
	if (op == 0 || !slot[i].p) {
		p = slot[i].p;
		slot[i].p = NULL;
		atomic_signal_fence(memory_order_seq_cst);
		free(p);
		p = malloc(size);
	} else if (op == 1) {
		p = realloc(slot[i].p, size);
	} else {
		p = slot[i].p;
		slot[i].p = NULL;
		atomic_signal_fence(memory_order_seq_cst);
		free(p);
		/* calloc() writes every byte of a page run: kept small, so fork() stays quick. */
		p = size <= 256 * KiB ? calloc(1, size) : malloc(size);
	}
	if (!p)
		_exit(FT_NOMEM);
	tag_block(p, size, tag);
	slot[i].p = p;
	slot[i].size = size;
	slot[i].tag = tag;
	atomic_signal_fence(memory_order_seq_cst);
	slot[i].valid = 1;
}

/*
 * With KT_EXPECT_KSWAPD=1 (KMM_BACKGROUND=1, a short KMM_DECAY_MS) the
 * background thread makes the process multi-threaded and takes every lock
 * in its rounds: the forks in the handler must still go through, and the
 * thread must have run rounds meanwhile (else the test proves nothing).
 */
static int kswapd_expected(void)
{
	const char *e = getenv("KT_EXPECT_KSWAPD");

	return e && *e == '1';
}

static int sig_kswapd_check(void)
{
	unsigned long rounds = kt_vmstat("kswapd_rounds"), busy = kt_vmstat("kswapd_busy_rounds"),
		      parks = kt_vmstat("kswapd_parks");

	printf("signal: kswapd ran %lu rounds, %lu stopped by a busy lock, parked %lu times\n",
	       rounds, busy, parks);
	return rounds > 0 && rounds != ~0UL && parks > 0 ? FT_OK : FT_CHILD_FAILED;
}

static int sig_workload(void)
{
	/*
	 * 600 forks: on these machines a fork of this process and its children's
	 * copy-on-write faults cost 11-22 ms (TLB flushes under the hypervisor),
	 * so 1000 took 30 s of each build's suite.
	 */
	int target = slow_mode() ? 20 : kswapd_expected() ? 100 : 600;
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	uint64_t rng = kt_rng_state, ops = 0;
	struct kids k = { .nr = 0 };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	arm_alarm();
	while (sig_forks < target) {
		if (sig_in_child)
			sig_child();
		sig_step(&rng);
		made_progress();
		if (sig_in_child)
			sig_child();
		if (++ops % 16 == 0 || sig_nr_pids >= MAX_KIDS / 2) {
			sig_collect(&k);
			kids_reap(&k, child_limit_ms(), MAX_KIDS / 2);
		}
	}
	sig_stop = 1;
	setitimer(ITIMER_REAL, &off, NULL);
	sig_collect(&k);
	kids_reap(&k, child_limit_ms(), 1);
	printf("signal: %d forks (%llu us each) in %llu operations, %ld children reaped, %d "
	       "failed, "
	       "%d hung, %d fork errors\n",
	       (int)sig_forks, (unsigned long long)(sig_fork_us / (sig_forks ? sig_forks : 1)),
	       (unsigned long long)ops, k.reaped, k.failed, k.hung, (int)sig_fork_errors);
	if (k.reaped != sig_forks)
		return FT_CHILD_FAILED;
	if (kswapd_expected() && sig_kswapd_check() != FT_OK)
		return FT_CHILD_FAILED;
	return kids_result(&k);
}

/* ---- shared by the threaded scenarios ---- */

static atomic_int stop;

/* Allocate and free blocks of every kind until told to stop. */
static void *allocator_thread(void *arg)
{
	uint64_t rng = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ULL + 1;
	unsigned char *p[32] = { NULL };
	size_t size[32] = { 0 };

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t r = kt_rand_r(&rng);
		unsigned int i = (unsigned int)(r % 32);

		if (p[i] && !tag_ok(p[i], size[i], (unsigned char)i))
			abort();
		if (r & 256) {
			free(p[i]);
			size[i] = pick_size(kt_rand_r(&rng));
			p[i] = malloc(size[i]);
		} else {
			size[i] = pick_size(kt_rand_r(&rng));
			p[i] = realloc(p[i], size[i]);
		}
		if (!p[i])
			abort();
		tag_block(p[i], size[i], (unsigned char)i);
	}
	for (int i = 0; i < 32; i++)
		free(p[i]);
	return NULL;
}

/* fork() in a loop until told to stop; each child runs @child and exits with its result. */
struct forker {
	pthread_t thread;
	int (*child)(uint64_t seed);
	int forks, errors;
	uint64_t fork_us, child_us; /* in fork(), and from its return to the child reaped */
	struct kids kids;
};

/*
 * At least one fork, however late the thread runs: under valgrind, which runs
 * one thread at a time, the others can hold it off for the whole run.
 */
static void *forker_thread(void *arg)
{
	struct forker *f = arg;

	while ((!f->forks && f->errors < 100) ||
	       !atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t t0 = now_us(), t1;
		pid_t pid = fork();

		if (pid == 0)
			_exit(f->child((uint64_t)getpid()));
		t1 = now_us();
		if (pid < 0) {
			f->errors++;
			usleep(1000);
			continue;
		}
		f->forks++;
		made_progress();
		f->fork_us += t1 - t0;
		kid_add(&f->kids, pid);
		kids_reap(&f->kids, child_limit_ms(), 1);
		f->child_us += now_us() - t1;
	}
	kids_reap(&f->kids, child_limit_ms(), 1);
	return NULL;
}

static int forkers_result(struct forker *f, int n, const char *what)
{
	int forks = 0, errors = 0, ret = FT_OK;
	uint64_t fork_us = 0, child_us = 0;

	for (int i = 0; i < n; i++) {
		int r = kids_result(&f[i].kids);

		forks += f[i].forks;
		errors += f[i].errors;
		fork_us += f[i].fork_us;
		child_us += f[i].child_us;
		if (r > ret)
			ret = r;
	}
	printf("%s: %d forks (%llu us in fork, %llu us to reap the child, on average), "
	       "%d fork errors, result %d\n",
	       what, forks, (unsigned long long)(fork_us / (forks ? forks : 1)),
	       (unsigned long long)(child_us / (forks ? forks : 1)), errors, ret);
	if (!forks)
		return FT_FORK_FAILED;
	return ret;
}

static unsigned int run_seconds(void)
{
	const char *s = getenv("KT_FORK_SECONDS");

	return s ? (unsigned int)atoi(s) : slow_mode() ? 2 : 4;
}

/* ---- scenario 2: stdio locks ---- */

static FILE *lines_file(unsigned int seed)
{
	static const size_t lengths[] = { 100, 5000, 40000, 300000, 1500000, 5000000, 70 };
	FILE *f = tmpfile();
	char buf[4096];

	if (!f)
		return NULL;
	setvbuf(f, NULL, _IOFBF, 256 * KiB); /* fewer read()s under the FILE lock */
	memset(buf, 'a' + (int)seed, sizeof(buf));
	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		for (size_t left = lengths[i]; left;) {
			size_t n = left < sizeof(buf) ? left : sizeof(buf);

			fwrite(buf, 1, n, f);
			left -= n;
		}
		fputc('\n', f);
	}
	fflush(f);
	return f;
}

/* getline(): malloc and realloc under the FILE lock. */
static void *getline_thread(void *arg)
{
	FILE *f = arg;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		char *line = NULL;
		size_t cap = 0;

		rewind(f);
		while (getline(&line, &cap, f) > 0) {
			free(line); /* every line allocates again, and grows by realloc */
			line = NULL;
			cap = 0;
		}
		free(line);
	}
	return NULL;
}

/* fflush(NULL): the stdio list lock, then each FILE's lock. */
static void *flush_thread(void *arg)
{
	(void)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		fflush(NULL);
		usleep(100); /* glibc's locks are not fair: let fork() have the list lock too */
	}
	return NULL;
}

static int stdio_child(uint64_t seed)
{
	FILE *f = fopen("/dev/null", "w");
	int ret;

	if (!f)
		return FT_CHILD_FAILED;
	for (int i = 0; i < 100; i++)
		fprintf(f, "%d %s\n", i, "stdio in the child");
	fflush(NULL);
	fclose(f);
	ret = child_exercise(seed);
	return ret;
}

static int stdio_workload(void)
{
	pthread_t readers[2], flusher, alloc;
	FILE *files[2];
	struct forker f = { .child = stdio_child };
	uint64_t end = now_ms() + run_seconds() * 1000;

	for (int i = 0; i < 2; i++) {
		files[i] = lines_file((unsigned int)i);
		if (!files[i])
			return FT_NOMEM;
		pthread_create(&readers[i], NULL, getline_thread, files[i]);
	}
	pthread_create(&flusher, NULL, flush_thread, NULL);
	pthread_create(&alloc, NULL, allocator_thread, (void *)1);
	pthread_create(&f.thread, NULL, forker_thread, &f);
	while (now_ms() < end)
		usleep(20000);
	atomic_store(&stop, 1);
	pthread_join(f.thread, NULL);
	pthread_join(alloc, NULL);
	pthread_join(flusher, NULL);
	for (int i = 0; i < 2; i++) {
		pthread_join(readers[i], NULL);
		fclose(files[i]);
	}
	return forkers_result(&f, 1, "stdio");
}

/* ---- scenario 3: many forks from four threads ---- */

static struct kmm_cache *shared_cache;
static struct kmm_mempool *shared_pool;

/* kmm_reclaim() (drains every CPU's stacks), caches created and destroyed, a mempool. */
static void *kernel_api_thread(void *arg)
{
	(void)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		struct kmm_cache *c = kmm_cache_create("fork_test_tmp", 200, 0, 0, NULL);
		void *obj[16];

		if (!c)
			abort();
		for (int i = 0; i < 16; i++)
			obj[i] = kmm_cache_alloc(c, KMM_GFP_KERNEL);
		for (int i = 0; i < 16; i++)
			kmm_cache_free(c, obj[i]);
		kmm_cache_destroy(c);
		for (int i = 0; i < 16; i++)
			obj[i] = kmm_mempool_alloc(shared_pool, KMM_GFP_KERNEL);
		for (int i = 0; i < 16; i++)
			kmm_mempool_free(obj[i], shared_pool);
		kmm_reclaim();
	}
	return NULL;
}

static int threads_child(uint64_t seed)
{
	void *obj[8];

	for (int i = 0; i < 8; i++) {
		obj[i] = kmm_cache_alloc(shared_cache, KMM_GFP_KERNEL);
		if (!obj[i])
			return FT_NOMEM;
	}
	for (int i = 0; i < 8; i++)
		kmm_cache_free(shared_cache, obj[i]);
	for (int i = 0; i < 8; i++) {
		obj[i] = kmm_mempool_alloc(shared_pool, KMM_GFP_KERNEL);
		if (!obj[i])
			return FT_NOMEM;
	}
	for (int i = 0; i < 8; i++)
		kmm_mempool_free(obj[i], shared_pool);
	/* Every kmalloc class once. */
	for (size_t size = 8; size <= 32 * KiB; size += size / 4) {
		unsigned char *p = malloc(size);

		if (!p)
			return FT_NOMEM;
		tag_block(p, size, 0x5a);
		if (!tag_ok(p, size, 0x5a))
			return FT_BAD_BLOCK;
		free(p);
	}
	kmm_reclaim();
	return child_exercise(seed);
}

static int threads_workload(void)
{
	enum { NR_FORKERS = 4, NR_ALLOCATORS = 3 };
	struct forker f[NR_FORKERS];
	pthread_t alloc[NR_ALLOCATORS], api, reader, flusher;
	uint64_t end = now_ms() + run_seconds() * 1000;
	FILE *lines = lines_file(7);

	shared_cache = kmm_cache_create("fork_test", 72, 0, 0, NULL);
	shared_pool = kmm_mempool_create_kmalloc_pool(8, 256);
	if (!shared_cache || !shared_pool || !lines)
		return FT_NOMEM;
	/* And the stdio pattern, from every forking thread at once. */
	pthread_create(&reader, NULL, getline_thread, lines);
	pthread_create(&flusher, NULL, flush_thread, NULL);
	for (long i = 0; i < NR_ALLOCATORS; i++)
		pthread_create(&alloc[i], NULL, allocator_thread, (void *)(i + 2));
	pthread_create(&api, NULL, kernel_api_thread, NULL);
	for (int i = 0; i < NR_FORKERS; i++) {
		memset(&f[i], 0, sizeof(f[i]));
		f[i].child = threads_child;
		pthread_create(&f[i].thread, NULL, forker_thread, &f[i]);
	}
	while (now_ms() < end)
		usleep(20000);
	atomic_store(&stop, 1);
	for (int i = 0; i < NR_FORKERS; i++)
		pthread_join(f[i].thread, NULL);
	for (int i = 0; i < NR_ALLOCATORS; i++)
		pthread_join(alloc[i], NULL);
	pthread_join(api, NULL);
	pthread_join(reader, NULL);
	pthread_join(flusher, NULL);
	fclose(lines);
	return forkers_result(f, NR_FORKERS, "threads");
}

/* ---- scenario 4: the handlers, registered once the process has threads ---- */

/* The vmstat view's fork_handlers line: who registered libkmm's handlers, or none. */
static int arm_is(const char *want, const char *when)
{
	static const char key[] = "\nfork_handlers ";
	char buf[8192], *p;

	kt_dump("vmstat", buf, sizeof(buf));
	p = strstr(buf, key);
	if (!p) {
		fprintf(stderr, "arm: %s: no fork_handlers line in vmstat\n", when);
		return 0;
	}
	p += sizeof(key) - 1;
	p[strcspn(p, "\n")] = 0;
	if (strcmp(p, want)) {
		fprintf(stderr, "arm: %s: fork_handlers %s, expected %s\n", when, p, want);
		return 0;
	}
	return 1;
}

/*
 * Blocks of every kind, 7.6 MiB in all: under the background thread's
 * threshold (16 MiB by default), which would give the process a thread.
 */
static const size_t arm_sizes[] = { 24, 200, 1500, 9000, 70000, 600000, 2500000, 4600000 };
#define ARM_BLOCKS 16

static size_t arm_size(int i)
{
	return arm_sizes[i < 8 ? i : i % 5];
}

static int arm_grandchild(uint64_t seed)
{
	return child_exercise(seed);
}

/* Give @f's thread and one allocating thread @ms, then stop them: the result. */
static int arm_fork_beside(pthread_t alloc, struct forker *f, unsigned int ms, const char *what)
{
	uint64_t end = now_ms() + ms;

	while (now_ms() < end) {
		made_progress();
		usleep(20000);
	}
	atomic_store(&stop, 1);
	pthread_join(f->thread, NULL);
	pthread_join(alloc, NULL);
	atomic_store(&stop, 0);
	return forkers_result(f, 1, what);
}

/*
 * A child of a fork() that ran no handler of libkmm's (its parent had one
 * thread): the parent's blocks are whole, it allocates every kind and
 * drains every CPU's stacks (the rseq fence), and once it starts a thread
 * of its own, its forks beside that thread work as in a process that had
 * threads all along.
 */
static int arm_child(uint64_t seed, unsigned char **blk, const size_t *size, int n)
{
	struct forker f = { .child = arm_grandchild };
	pthread_t alloc;

	for (int i = 0; i < n; i++) {
		if (!tag_ok(blk[i], size[i], (unsigned char)(i + 1)))
			return FT_BAD_BLOCK;
		free(blk[i]);
	}
	for (int i = 0; i < n; i++) {
		blk[i] = i % 2 ? malloc(arm_size(i)) : calloc(1, arm_size(i));
		if (!blk[i])
			return FT_NOMEM;
		tag_block(blk[i], arm_size(i), (unsigned char)i);
	}
	for (int i = 0; i < n; i++) {
		if (!tag_ok(blk[i], arm_size(i), (unsigned char)i))
			return FT_BAD_BLOCK;
		free(blk[i]);
	}
	kmm_reclaim();
	if (!arm_is("none", "a child with one thread"))
		return FT_CHILD_FAILED;
	pthread_create(&alloc, NULL, allocator_thread, (void *)(uintptr_t)(seed | 1));
	if (!arm_is("calloc", "the child's first thread"))
		return FT_CHILD_FAILED;
	pthread_create(&f.thread, NULL, forker_thread, &f);
	return arm_fork_beside(alloc, &f, slow_mode() ? 1000 : 300, "arm child");
}

/*
 * A C library whose pthread_create() allocates nothing: marked
 * multi-threaded by hand, the process registers the handlers at its next
 * lock (the view's own).
 */
static int arm_fallback_child(void)
{
	extern char __libc_single_threaded;

	__libc_single_threaded = 0;
	return arm_is("lock", "multi-threaded without pthread_create()") ? FT_OK : FT_CHILD_FAILED;
}

static void *arm_waiter(void *arg)
{
	int *fd = arg;
	char c;

	/* Nothing allocated before the parent's check. */
	if (read(fd[0], &c, 1) != 1)
		abort();
	return allocator_thread((void *)(uintptr_t)5);
}

static int arm_workload(void)
{
	enum { NR = ARM_BLOCKS, FORKS = 4 };
	struct forker f = { .child = arm_grandchild };
	unsigned char *blk[NR];
	size_t size[NR];
	uint64_t rng = kt_rng_state;
	struct kids k = { .nr = 0 };
	pthread_t waiter;
	int fd[2], ret;
	pid_t pid;

	/* One thread: every kind of block, calloc() included, and drains. */
	for (int i = 0; i < NR; i++) {
		size[i] = arm_size(i);
		blk[i] = i % 3 ? malloc(size[i]) : calloc(1, size[i]);
		if (!blk[i])
			return FT_NOMEM;
		tag_block(blk[i], size[i], (unsigned char)(i + 1));
	}
	kmm_reclaim();
	if (!arm_is("none", "one thread"))
		return FT_CHILD_FAILED;
	for (int i = 0; i < FORKS; i++) {
		fflush(NULL);
		pid = fork();
		if (pid == 0)
			_exit(arm_child(kt_rand_r(&rng), blk, size, NR));
		kid_add(&k, pid);
		made_progress();
		kids_reap(&k, child_limit_ms(), 1);
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(arm_fallback_child());
	kid_add(&k, pid);
	kids_reap(&k, child_limit_ms(), 1);
	ret = kids_result(&k);
	if (ret)
		return ret;
	if (!arm_is("none", "after the forks"))
		return FT_CHILD_FAILED;
	/* The first thread: registered by its TLS's calloc(), before it runs. */
	if (pipe(fd))
		return FT_NOMEM;
	pthread_create(&waiter, NULL, arm_waiter, fd);
	if (!arm_is("calloc", "the first thread"))
		return FT_CHILD_FAILED;
	if (write(fd[1], "g", 1) != 1)
		return FT_CHILD_FAILED;
	pthread_create(&f.thread, NULL, forker_thread, &f);
	return arm_fork_beside(waiter, &f, slow_mode() ? 2000 : 1000, "arm");
}

/* ---- the watchdog ---- */

/* What each thread of a hung process waits in (its wchan), for the report. */
static void report_hang(pid_t pid)
{
	char path[64], name[64];
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		FILE *f;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/wchan", (int)pid, d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(name, sizeof(name), f))
			fprintf(stderr, "  thread %s waits in %s\n", d->d_name, name);
		fclose(f);
	}
	closedir(dir);
}

static unsigned int stall_seconds(void)
{
	return slow_mode() ? 200 : 20;
}

/*
 * Run @fn in a child, leader of its own process group, until it exits; when
 * its progress count stands still for stall_seconds(), or it runs past
 * @limit_s, it is hung: the group is killed.
 * Return: its exit status, 128 + a signal that killed it, or -1 when it hung.
 */
static int run_watched(const char *what, int (*fn)(void), unsigned int limit_s)
{
	uint64_t start = now_ms(), seen = 0, seen_ms = start;
	int status;
	pid_t pid;

	progress = mmap(NULL, sizeof(*progress), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			-1, 0);
	KT_REQUIRE(progress != MAP_FAILED, "mmap");
	*progress = 0;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int ret;

		setpgid(0, 0);
		ret = fn();
		fflush(NULL);
		_exit(ret);
	}
	KT_REQUIRE(pid > 0, "fork");
	setpgid(pid, pid);
	for (;;) {
		uint64_t now = now_ms(), count = *progress;

		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		if (count != seen) {
			seen = count;
			seen_ms = now;
		}
		if (now - seen_ms > stall_seconds() * 1000ULL || now - start > limit_s * 1000ULL) {
			fprintf(stderr,
				"%s: hung (no progress for %llu s, %llu s in all): killing it\n",
				what, (unsigned long long)(now - seen_ms) / 1000,
				(unsigned long long)(now - start) / 1000);
			report_hang(pid);
			debug_hang(pid);
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			munmap((void *)progress, sizeof(*progress));
			return -1;
		}
		usleep(10000);
	}
	kill(-pid, SIGKILL); /* any child it left behind */
	munmap((void *)progress, sizeof(*progress));
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "%s: killed by signal %d\n", what, WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	return WEXITSTATUS(status);
}

/* Past meson's timeout (300 s) nothing is reported: stay under it. */
static unsigned int limit_seconds(void)
{
	return slow_mode() ? 280 : 240;
}

static void test_signal(void)
{
	int r = run_watched("signal", sig_workload, limit_seconds());

	KT_CHECK(r == 0, "fork from a signal handler: result %d (-1: hung, 6: a child hung)", r);
}

static void test_stdio(void)
{
	int r = run_watched("stdio", stdio_workload, limit_seconds());

	KT_CHECK(r == 0, "fork against stdio locks: result %d (-1: hung, 6: a child hung)", r);
}

static void test_threads(void)
{
	int r = run_watched("threads", threads_workload, limit_seconds());

	KT_CHECK(r == 0, "forks from four threads: result %d (-1: hung, 6: a child hung)", r);
}

static void test_arm(void)
{
	int r = run_watched("arm", arm_workload, limit_seconds());

	KT_CHECK(r == 0, "handlers registered with the first thread: result %d (-1: hung)", r);
}

int main(int argc, char **argv)
{
	static const struct kt_test tests[] = { KT_TEST(test_signal), KT_TEST(test_stdio),
						KT_TEST(test_threads), KT_TEST(test_arm) };
	size_t first = 0, n = sizeof(tests) / sizeof(tests[0]);

	kt_skip_under_asan();
	if (argc > 1) {
		for (first = 0; first < n; first++)
			if (!strcmp(tests[first].name + 5, argv[1]))
				break;
		if (first == n) {
			fprintf(stderr, "usage: %s [signal|stdio|threads|arm]\n", argv[0]);
			return 2;
		}
		n = 1;
	}
	return kt_main(tests + first, n);
}
