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

static inline void kmm_lock_init(struct kmm_lock *lock)
{
	__atomic_store_n(&lock->state, 0, __ATOMIC_RELAXED);
}

static inline bool kmm_trylock(struct kmm_lock *lock)
{
	uint32_t unlocked = 0;

	return __atomic_compare_exchange_n(&lock->state, &unlocked, 1, false, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

/* Fast path: one LOCK cmpxchg; contention goes to kmm_lock_slow(). */
static inline void kmm_lock(struct kmm_lock *lock)
{
	if (unlikely(!kmm_trylock(lock)))
		kmm_lock_slow(lock);
}

/* Fast path: one LOCK xadd; waiters are woken in kmm_unlock_wake(). */
static inline void kmm_unlock(struct kmm_lock *lock)
{
	if (unlikely(__atomic_fetch_sub(&lock->state, 1, __ATOMIC_RELEASE) != 1))
		kmm_unlock_wake(lock);
}

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
