// SPDX-License-Identifier: MIT
/*
 * lock.c - the contended half of struct kmm_lock (see lock.h).
 */
#include "lock.h"

#include <linux/futex.h>
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
		if (__atomic_load_n(&lock->state, __ATOMIC_RELAXED) == 0 && kmm_trylock(lock))
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
