// SPDX-License-Identifier: MIT
/*
 * lock.c - the contended half of struct kmm_lock (see lock.h).
 */
#include "lock.h"

#include <stddef.h>

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KMM_LOCK_SPINS 128

static void futex_wait(uint32_t *addr, uint32_t val)
{
	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(uint32_t *addr, int nr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, nr, NULL, NULL, 0);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

void kmm_lock_slow(struct kmm_lock *lock)
{
	uint32_t c;

	for (int i = 0; i < KMM_LOCK_SPINS; i++) {
		cpu_relax();
		if (__atomic_load_n(&lock->state, __ATOMIC_RELAXED) == 0 && __kmm_trylock(lock))
			return;
	}
	/* Announce a waiter (state 2) and sleep until the word changes. */
	c = __atomic_exchange_n(&lock->state, 2, __ATOMIC_ACQUIRE);
	while (c != 0) {
		futex_wait(&lock->state, 2);
		c = __atomic_exchange_n(&lock->state, 2, __ATOMIC_ACQUIRE);
	}
}

void kmm_unlock_wake(struct kmm_lock *lock)
{
	__atomic_store_n(&lock->state, 0, __ATOMIC_RELEASE);
	futex_wake(&lock->state, 1);
}

__thread unsigned int kmm_lock_depth __attribute__((tls_model("initial-exec"))) = KMM_LOCK_UNARMED;

/*
 * fork() handling (lock.h).  kmm_fork_armed says the handlers are
 * registered; while a thread registers them, fork_arm_owner holds the pid of
 * its process (0 otherwise), and the other threads wait for it: it holds no
 * lock, and registering may fail (it allocates), when the next one tries.  A
 * fork() in that window leaves the child an owner that is not itself: nobody
 * registers there, and its first caller takes over.  If the handlers were in
 * place by then, the child handler says so (kmm_fork_arm_child()).
 */
static bool (*fork_register)(void);
static pid_t fork_arm_owner;
bool kmm_fork_armed;
enum kmm_fork_arm_by kmm_fork_armed_by;
/* This thread is registering: its own allocations inside must not wait for it. */
static __thread bool fork_arming __attribute__((tls_model("initial-exec")));

void kmm_fork_arm_init(bool (*register_handlers)(void))
{
	fork_register = register_handlers;
}

void kmm_fork_arm_child(void)
{
	__atomic_store_n(&kmm_fork_armed, true, __ATOMIC_RELEASE);
	__atomic_store_n(&fork_arm_owner, 0, __ATOMIC_RELAXED);
}

/* Context: no lock held but the one the caller is about to take (registering allocates). */
static bool fork_arm(enum kmm_fork_arm_by by)
{
	pid_t me, owner;
	bool ok;

	if (__atomic_load_n(&kmm_fork_armed, __ATOMIC_ACQUIRE))
		return true;
	if (!fork_register || fork_arming || (by != FORK_ARM_THREAD && kmm_single_threaded()))
		return false;
	me = getpid();
	for (;;) {
		owner = 0;
		if (__atomic_compare_exchange_n(&fork_arm_owner, &owner, me, false,
						__ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
			break;
		if (__atomic_load_n(&kmm_fork_armed, __ATOMIC_ACQUIRE))
			return true;
		if (owner != me) /* inherited: the registering thread is the parent's */
			__atomic_compare_exchange_n(&fork_arm_owner, &owner, 0, false,
						    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
		else
			sched_yield();
	}
	ok = __atomic_load_n(&kmm_fork_armed, __ATOMIC_ACQUIRE);
	if (!ok) {
		fork_arming = true;
		ok = fork_register();
		fork_arming = false;
		if (ok) {
			kmm_fork_armed_by = by;
			__atomic_store_n(&kmm_fork_armed, true, __ATOMIC_RELEASE);
		}
	}
	__atomic_store_n(&fork_arm_owner, 0, __ATOMIC_RELEASE);
	return ok;
}

bool kmm_fork_arm(enum kmm_fork_arm_by by)
{
	return !kmm_lock_any_held() && fork_arm(by);
}

/* A thread's first lock since it started, or since arming failed: arm, and stop asking. */
static void lock_arm(unsigned int depth)
{
	if ((depth & KMM_LOCK_UNARMED) && !(depth & ~KMM_LOCK_FLAGS) && fork_arm(FORK_ARM_LOCK))
		kmm_lock_depth &= ~KMM_LOCK_UNARMED;
}

void kmm_lock_flagged(struct kmm_lock *lock, unsigned int depth)
{
	lock_arm(depth);
	if (depth & KMM_LOCK_WORLD)
		kmm_lock_world(lock);
	else if (!__kmm_trylock(lock))
		kmm_lock_slow(lock);
}

bool kmm_trylock_flagged(struct kmm_lock *lock, unsigned int depth)
{
	lock_arm(depth);
	if (depth & KMM_LOCK_WORLD)
		return kmm_trylock_world(lock);
	if (__kmm_trylock(lock))
		return true;
	kmm_lock_uncount();
	return false;
}

/*
 * World mode (lock.h).  One thread at a time uses it (the background
 * thread), so its state is plain static data: the locks the sweep took, in
 * the order it took them.  A sweep that meets more locks than fit fails
 * like one that meets a busy lock.
 */
#define WORLD_MAX_LOCKS 4096

static struct {
	struct kmm_lock *held[WORLD_MAX_LOCKS];
	unsigned int nr;
	bool sweeping; /* kmm_world_begin() is taking them */
	bool failed;   /* ... and met a busy one */
} world;

static bool world_holds(const struct kmm_lock *lock)
{
	for (unsigned int i = 0; i < world.nr; i++)
		if (world.held[i] == lock)
			return true;
	return false;
}

/* The sweep: a trylock, recorded; state 2 so that every release wakes. */
static void world_take(struct kmm_lock *lock)
{
	if (world.failed || world_holds(lock))
		return;
	if (world.nr == WORLD_MAX_LOCKS || !__kmm_trylock(lock)) {
		world.failed = true;
		return;
	}
	__atomic_store_n(&lock->state, 2, __ATOMIC_RELAXED);
	world.held[world.nr++] = lock;
}

void kmm_lock_world(struct kmm_lock *lock)
{
	if (world.sweeping)
		world_take(lock);
	else if (!world_holds(lock) && !__kmm_trylock(lock))
		kmm_lock_slow(lock); /* not the fork() handlers' (see kmm_world_begin()) */
}

bool kmm_trylock_world(struct kmm_lock *lock)
{
	if (world.sweeping) {
		world_take(lock);
		return !world.failed;
	}
	if (world_holds(lock) || __kmm_trylock(lock))
		return true;
	kmm_lock_depth--;
	return false;
}

void kmm_unlock_world(struct kmm_lock *lock)
{
	if (world_holds(lock))
		return;
	if (__atomic_fetch_sub(&lock->state, 1, __ATOMIC_RELEASE) != 1)
		kmm_unlock_wake(lock);
}

static void world_release(void)
{
	while (world.nr) {
		struct kmm_lock *lock = world.held[--world.nr];

		__atomic_store_n(&lock->state, 0, __ATOMIC_RELEASE);
		futex_wake(&lock->state, 1);
	}
	kmm_lock_depth = 0;
}

/*
 * Locks outside @lock_all's list that the thread meets in world mode are
 * taken for real: the fork() handlers' list leaves out only locks that
 * something on it keeps free (the per-CPU stacks' with rseq, taken by
 * drains under slab_mutex and pcp_drain_mutex), so they are never busy.
 */
bool kmm_world_begin(void (*lock_all)(void))
{
	kmm_lock_depth = KMM_LOCK_WORLD;
	world.sweeping = true;
	world.failed = false;
	lock_all();
	world.sweeping = false;
	if (world.failed) {
		world_release();
		return false;
	}
	kmm_lock_depth = KMM_LOCK_WORLD;
	return true;
}

bool kmm_world_failed(void)
{
	return world.failed;
}

void kmm_world_end(void)
{
	world_release();
}
