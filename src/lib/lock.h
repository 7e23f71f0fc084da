/* SPDX-License-Identifier: MIT */
/*
 * lock.h - the allocator's mutex: one 32-bit word, a futex when contended.
 *
 * States: 0 unlocked, 1 locked, 2 locked with (possible) waiters (Drepper,
 * "Futexes Are Tricky", mutex 2).  A short spin precedes sleeping, since on a
 * zone lock the holder usually releases within a few hundred nanoseconds.  It
 * allocates nothing, may be used before any constructor, and a child after
 * fork() re-initializes it (kmm_lock_fork()).  trylock is what the per-CPU
 * fallback paths use, as the kernel's pcp_spin_trylock() does.
 */
#ifndef KMM_LIB_LOCK_H
#define KMM_LIB_LOCK_H

#include "compiler.h"

struct kmm_lock {
	uint32_t state;
};

#define KMM_LOCK_INIT                                                                              \
	{                                                                                          \
		0                                                                                  \
	}

void kmm_lock_slow(struct kmm_lock *lock);
void kmm_unlock_wake(struct kmm_lock *lock);

/*
 * The locks this thread holds or is taking, for fork(): a fork() in a
 * signal handler that interrupted the allocator finds it non-zero and takes
 * no lock (src/init.c).  Counted before a lock is taken and after it is
 * released, so that a signal between the two never sees a held lock
 * uncounted.  Its top bit marks the background thread's world mode
 * (kmm_world_begin()): every lock operation of that thread goes through
 * lock.c.
 */
extern __thread unsigned int kmm_lock_depth __attribute__((tls_model("initial-exec")));

#define KMM_LOCK_WORLD (1U << 31)
/*
 * Set in every thread's count (its initial value) until the thread takes a
 * lock once fork() handling is armed (kmm_fork_arm()): the lock paths' one
 * test of the flags sends that first lock through lock.c, which arms it if
 * the process has threads and clears the bit.
 */
#define KMM_LOCK_UNARMED (1U << 30)
#define KMM_LOCK_FLAGS (KMM_LOCK_WORLD | KMM_LOCK_UNARMED)

void kmm_lock_flagged(struct kmm_lock *lock, unsigned int depth);
bool kmm_trylock_flagged(struct kmm_lock *lock, unsigned int depth);
void kmm_lock_world(struct kmm_lock *lock);
bool kmm_trylock_world(struct kmm_lock *lock);
void kmm_unlock_world(struct kmm_lock *lock);

extern char __libc_single_threaded __attribute__((weak));

/*
 * No other thread has ever existed in this process (glibc's
 * __libc_single_threaded; false without it): nothing can contend or hold a
 * lock but this thread.
 */
static inline bool kmm_single_threaded(void)
{
	return &__libc_single_threaded &&
	       __atomic_load_n(&__libc_single_threaded, __ATOMIC_RELAXED);
}

/*
 * fork() handling, armed late.  glibc's pthread_atfork() is code that a
 * program without threads may never run, in a 64 KiB window of libc's text
 * that fault-around maps whole: registering the handlers at start-up made
 * every process 64 KiB larger.  A process with one thread needs no handler
 * (the prepare handler takes nothing there), so start-up hands the
 * registration to kmm_fork_arm_init() and the handlers are registered when
 * the process first has threads: in the calloc() of the first
 * pthread_create(), which glibc makes for the new thread's TLS after it
 * marks the process multi-threaded and before the thread exists (no fork()
 * can run beside it), or else at the first lock a thread takes once the
 * process has threads (KMM_LOCK_UNARMED), and always before libkmm starts a
 * thread of its own.
 */
void kmm_fork_arm_init(bool (*register_handlers)(void));

/* Who registered them (the vmstat view's fork_handlers line names it). */
enum kmm_fork_arm_by {
	FORK_ARM_NONE,
	FORK_ARM_STARTUP, /* start-up found threads already */
	FORK_ARM_CALLOC,  /* calloc() once the process had threads */
	FORK_ARM_LOCK,	  /* a thread's first lock once the process had threads */
	FORK_ARM_THREAD,  /* libkmm starting a thread of its own: registers in any case */
};

/*
 * Register the handlers now if the process has threads (or @by is
 * FORK_ARM_THREAD); false if they are not registered (one thread, start-up
 * not done, or called from the registration itself or with a lock held).
 */
bool kmm_fork_arm(enum kmm_fork_arm_by by);

/* The child handler: a child of a fork() that ran the handlers has them too. */
void kmm_fork_arm_child(void);

extern bool kmm_fork_armed;
extern enum kmm_fork_arm_by kmm_fork_armed_by;

/* calloc()'s check: one load once armed, two while the process has one thread. */
static inline void kmm_fork_arm_check(void)
{
	if (unlikely(!__atomic_load_n(&kmm_fork_armed, __ATOMIC_RELAXED)) && !kmm_single_threaded())
		kmm_fork_arm(FORK_ARM_CALLOC);
}

static inline void kmm_lock_init(struct kmm_lock *lock)
{
	__atomic_store_n(&lock->state, 0, __ATOMIC_RELAXED);
}

static inline bool __kmm_trylock(struct kmm_lock *lock)
{
	uint32_t unlocked = 0;

	return __atomic_compare_exchange_n(&lock->state, &unlocked, 1, false, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

/* Count a lock about to be taken: one add in the thread's own TLS. */
static inline unsigned int kmm_lock_count(void)
{
	unsigned int depth = kmm_lock_depth++;

	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return depth;
}

static inline void kmm_lock_uncount(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	kmm_lock_depth--;
}

static inline bool kmm_trylock(struct kmm_lock *lock)
{
	unsigned int depth = kmm_lock_count();

	if (unlikely(depth & KMM_LOCK_FLAGS))
		return kmm_trylock_flagged(lock, depth);
	if (__kmm_trylock(lock))
		return true;
	kmm_lock_uncount();
	return false;
}

/* Fast path: one LOCK cmpxchg; contention goes to kmm_lock_slow(). */
static inline void kmm_lock(struct kmm_lock *lock)
{
	unsigned int depth = kmm_lock_count();

	if (unlikely(depth & KMM_LOCK_FLAGS))
		kmm_lock_flagged(lock, depth);
	else if (unlikely(!__kmm_trylock(lock)))
		kmm_lock_slow(lock);
}

/* Fast path: one LOCK xadd; waiters are woken in kmm_unlock_wake(). */
static inline void kmm_unlock(struct kmm_lock *lock)
{
	if (unlikely(kmm_lock_depth & KMM_LOCK_WORLD))
		kmm_unlock_world(lock);
	else if (unlikely(__atomic_fetch_sub(&lock->state, 1, __ATOMIC_RELEASE) != 1))
		kmm_unlock_wake(lock);
	kmm_lock_uncount();
}

/* This thread holds or is taking one of the allocator's locks. */
static inline bool kmm_lock_any_held(void)
{
	return (kmm_lock_depth & ~KMM_LOCK_FLAGS) != 0;
}

/*
 * The background thread's world mode: kmm_world_begin() takes every lock
 * that @lock_all takes (the fork() handlers' list) with trylocks only, and
 * fails, holding nothing, if one is busy.  On success the thread holds the
 * allocator as a fork() does, and its own kmm_lock()/kmm_unlock() calls on
 * those locks are no-ops until kmm_world_end() releases them all.  So the
 * thread never waits for a lock while it holds one: a fork() in a signal
 * handler that interrupted a lock holder can always make it let go.
 */
bool kmm_world_begin(void (*lock_all)(void));
void kmm_world_end(void);

/* In @lock_all: a lock was busy, stop taking more (the list may be changing). */
bool kmm_world_failed(void);

static inline bool kmm_lock_held(struct kmm_lock *lock)
{
	return __atomic_load_n(&lock->state, __ATOMIC_RELAXED) != 0;
}

/*
 * fork(): what the handlers do to each of the allocator's locks (src/init.c
 * lists them all, in lock order).  The prepare handler takes it, the parent
 * handler releases it, and the child handler re-initializes it: the child's
 * only thread is the one that took it, and no waiter crosses fork().
 */
enum kmm_fork_op {
	FORK_LOCK,
	FORK_UNLOCK,
	FORK_RESET,
};

static inline void kmm_lock_fork(struct kmm_lock *lock, enum kmm_fork_op op)
{
	if (op == FORK_LOCK)
		kmm_lock(lock);
	else if (op == FORK_UNLOCK)
		kmm_unlock(lock);
	else
		kmm_lock_init(lock);
}

#endif /* KMM_LIB_LOCK_H */
