// SPDX-License-Identifier: MIT
/*
 * percpu_stack.c - the out-of-line parts of the per-CPU stacks (see
 * percpu_stack.h): the bulk operations, which move a refill or an overflow
 * batch, and the drain's stop and restart.
 */
#include "percpu_stack.h"

#include "bug.h"

void percpu_stack_init(struct percpu_stack *s, unsigned int high)
{
	s->count = 0;
	s->high = high;
	s->stopped_high = 0;
	kmm_lock_init(&s->lock);
}

/* This CPU's stack, locked; NULL when another thread holds it. */
static struct percpu_stack *trylock_this_cpu(struct percpu_stack_ptr p)
{
	struct percpu_stack *s = percpu_stack_cpu(p, percpu_this_cpu(p.ncpu));

	return kmm_trylock(&s->lock) ? s : NULL;
}

bool percpu_stack_grow(struct percpu_stack_ptr p, unsigned int high, struct kmm_lock *drains)
{
	struct percpu_stack *s = percpu_stack_cpu(p, percpu_this_cpu(p.ncpu));
	bool done = false;

	/* A full stack, the common case here: one load, no store to its line. */
	if (__atomic_load_n(&s->high, __ATOMIC_RELAXED) >= high || !kmm_trylock(drains))
		return false;
	/*
	 * Under the drains' lock no stack is stopped (percpu_stack_stop() keeps
	 * high 0 only while a drain runs); the stack's lock excludes the
	 * locked backend's operations.
	 */
	if (kmm_trylock(&s->lock)) {
		if (s->high < high) {
			__atomic_store_n(&s->high, high, __ATOMIC_RELEASE);
			done = true;
		}
		kmm_unlock(&s->lock);
	}
	kmm_unlock(drains);
	return done;
}

int percpu_stack_pop_bulk(struct percpu_stack_ptr p, void **out, unsigned int n)
{
	struct percpu_stack *s;
	unsigned int got;

#if KMM_HAVE_RSEQ_ASM
	if (percpu_stack_rseq())
		return rseq_list_pop_bulk(PERCPU_STACK_RSEQ(p), out, n);
#endif
	s = trylock_this_cpu(p);
	if (!s)
		return -1;
	got = MIN(n, s->count);
	for (unsigned int i = 0; i < got; i++)
		out[i] = s->slot[s->count - 1 - i];
	s->count -= got;
	kmm_unlock(&s->lock);
	return (int)got;
}

int percpu_stack_push_bulk(struct percpu_stack_ptr p, void *const *items, unsigned int n)
{
	struct percpu_stack *s;
	unsigned int done;

#if KMM_HAVE_RSEQ_ASM
	if (percpu_stack_rseq())
		return rseq_list_push_bulk(PERCPU_STACK_RSEQ(p), items, n);
#endif
	s = trylock_this_cpu(p);
	if (!s)
		return -1;
	done = s->count < s->high ? MIN(n, s->high - s->count) : 0;
	for (unsigned int i = 0; i < done; i++)
		s->slot[s->count + i] = items[i];
	s->count += done;
	kmm_unlock(&s->lock);
	return (int)done;
}

void percpu_stack_stop(struct percpu_stack *const s[], unsigned int n, int cpu)
{
	for (unsigned int i = 0; i < n; i++)
		kmm_lock(&s[i]->lock);
	if (!percpu_stack_rseq())
		return; /* the locks alone own the stacks */
	for (unsigned int i = 0; i < n; i++) {
		s[i]->stopped_high = __atomic_load_n(&s[i]->high, __ATOMIC_RELAXED);
		__atomic_store_n(&s[i]->high, 0, __ATOMIC_RELAXED);
	}
	if (rseq_fence_cpu(cpu))
		kmm_panic("percpu_stack: membarrier fence of CPU %d failed", cpu);
}

void percpu_stack_restart(struct percpu_stack *const s[], unsigned int n)
{
	/* Release: a sequence that reads the restored high also reads count 0. */
	if (percpu_stack_rseq())
		for (unsigned int i = 0; i < n; i++)
			__atomic_store_n(&s[i]->high, s[i]->stopped_high, __ATOMIC_RELEASE);
	for (unsigned int i = n; i-- > 0;)
		kmm_unlock(&s[i]->lock);
}
