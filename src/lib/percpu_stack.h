/* SPDX-License-Identifier: MIT */
/*
 * percpu_stack.h - a stack of pointers per CPU: the page allocator's pcp lists
 * and the slab caches' object stacks.  An owner keeps one struct percpu_stack
 * per CPU, @stride bytes apart, and names them all with a struct
 * percpu_stack_ptr (the kernel's "per-CPU pointer"); what the items are, and
 * what their state is while stacked, is the owner's business.
 *
 * Two backends behind one interface, chosen once for the process (rseq_init(),
 * and again in a child after fork()):
 * - rseq: push and pop are restartable sequences on glibc's registration
 *   (lib/rseq-*.h): the CPU is read inside the sequence and one store of count
 *   commits; no lock, no atomic instruction.
 * - locked: each operation takes this CPU's stack lock with a trylock (the
 *   kernel's pcp_spin_trylock()); a failed trylock says so (-1), and the
 *   caller goes to its shared structure for this one item.  Slower, never
 *   wrong.
 *
 * Drain: another thread empties CPU c's stacks with percpu_stack_stop(), which
 * takes their locks (excluding other drains and the locked backend) and, with
 * rseq, sets high to 0 ("stopped": no sequence pushes to or pops from the
 * stack) and fences c with membarrier, so every sequence that read the old
 * high has committed or been aborted.  The stacks are then the drainer's: it
 * takes their items with percpu_stack_take_all() and gives them back with
 * percpu_stack_restart(), which restores high after count is 0 (the
 * sequences read high first: see lib/rseq-x86_64.h).
 *
 * Lock order: the stack locks of one CPU in the order the owner passes them to
 * percpu_stack_stop(); then whatever the owner takes while it drains.
 */
#ifndef KMM_LIB_PERCPU_STACK_H
#define KMM_LIB_PERCPU_STACK_H

#include <stddef.h>

#include "lock.h"
#include "rseq.h"

/*
 * struct percpu_stack - one CPU's stack.  The first fields and the slots'
 * offset are the rseq list contract (lib/rseq-*.h).  An owner declares it as a
 * union with a byte array of the size it wants (PERCPU_STACK_SLOTS() slots).
 */
struct percpu_stack {
	uint32_t count;	      /* slots in use; the committing store of a sequence, or under @lock */
	uint32_t high;	      /* capacity in use; 0 while a drain owns the stack (rseq) */
	struct kmm_lock lock; /* drains; every operation of the locked backend */
	uint32_t stopped_high; /* high, saved while stopped */
	void *slot[];	       /* slot[count - 1] is the top */
};

#if KMM_HAVE_RSEQ_ASM
_Static_assert(offsetof(struct percpu_stack, slot) == KMM_RSEQ_LIST_SLOT_OFFSET,
	       "struct percpu_stack is an rseq list");
#endif

/* Slots of a stack that is @bytes long. */
#define PERCPU_STACK_SLOTS(bytes) (((bytes)-offsetof(struct percpu_stack, slot)) / sizeof(void *))

/* Where every CPU's stack is: CPU c's at @base + c * @stride bytes, for c < @ncpu. */
struct percpu_stack_ptr {
	struct percpu_stack *base;
	long stride;
	unsigned int ncpu;
};

static __always_inline struct percpu_stack *percpu_stack_cpu(struct percpu_stack_ptr p, int cpu)
{
	return (struct percpu_stack *)((char *)p.base + cpu * p.stride);
}

/* Empty, with room for @high (at most its slots), unlocked. */
void percpu_stack_init(struct percpu_stack *s, unsigned int high);

/*
 * percpu_stack_grow() - give this CPU's stack the capacity @high if it has
 * less.  An owner may leave its stacks as the system's zero pages hand them
 * over (count 0, high 0, unlocked): such a stack takes no push, so each one
 * is a page of RSS only once a CPU uses it; and an owner may let its stacks
 * grow with what they serve.  Its slow path calls this when a push found no
 * room.  Capacities only grow: a sequence that read the old high only did
 * less than it might have.  @drains is the owner's lock that its drains hold
 * (and fork() with them): taken with a trylock around the stack's own, so
 * that with rseq a stack lock is still held only under it.
 * Return: true if it raised high (push again); false if the stack had @high
 * or more, or a drain or fork() holds the locks.
 */
bool percpu_stack_grow(struct percpu_stack_ptr p, unsigned int high, struct kmm_lock *drains);

/*
 * Whether @s was ever given a capacity.  Exact only while no drain runs
 * (a stopped stack has high 0 too): the caller excludes them.
 */
static inline bool percpu_stack_used(const struct percpu_stack *s)
{
	return __atomic_load_n(&s->high, __ATOMIC_RELAXED) != 0;
}

/* This thread's CPU now (a hint: it may move right after), below @ncpu. */
static inline int percpu_this_cpu(unsigned int ncpu)
{
	int cpu = kmm_current_cpu();

	return likely((unsigned int)cpu < ncpu) ? cpu : 0;
}

#if KMM_HAVE_RSEQ_ASM
#define PERCPU_STACK_RSEQ(p) kmm_rseq_offset, (p).base, (p).stride, (p).ncpu
#endif

/* The backend in use: rseq (true) or locked; chosen by rseq_init(). */
static __always_inline bool percpu_stack_rseq(void)
{
	return kmm_rseq_usable;
}

/*
 * __percpu_stack_pop() - the fast path: the rseq backend's pop, inline, for a
 * caller that checked percpu_stack_rseq() (or a mode of its own implying it)
 * first, and builds @p only then (its loads stay off the locked path).
 * Budget: 14 instructions, no atomics.
 * Return: the top item; NULL when empty, stopped, or rseq is unusable on
 * this thread: the caller's slow path then calls percpu_stack_pop().
 */
static __always_inline void *__percpu_stack_pop(struct percpu_stack_ptr p)
{
#if KMM_HAVE_RSEQ_ASM
	return rseq_list_pop(PERCPU_STACK_RSEQ(p));
#else
	return NULL;
#endif
}

/*
 * __percpu_stack_push() - the same for a push (14 instructions).
 * Return: 0 pushed, 1 full or stopped, -1 rseq unusable on this thread; the
 * caller's slow path then calls percpu_stack_push().
 */
static __always_inline int __percpu_stack_push(struct percpu_stack_ptr p, void *item)
{
#if KMM_HAVE_RSEQ_ASM
	return rseq_list_push(PERCPU_STACK_RSEQ(p), item);
#else
	return -1;
#endif
}

/*
 * percpu_stack_pop() - pop from this CPU's stack in either backend.
 * Return: 1 with the item in *@item; 0 when it is empty (or stopped, or rseq
 * is unusable on this thread): the caller refills it; -1 when another thread
 * holds its lock: the caller serves this one from its shared structure.
 */
static inline int percpu_stack_pop(struct percpu_stack_ptr p, void **item)
{
	struct percpu_stack *s;
	int ret = 0;

	if (percpu_stack_rseq()) {
		*item = __percpu_stack_pop(p);
		return *item != NULL;
	}
	s = percpu_stack_cpu(p, percpu_this_cpu(p.ncpu));
	if (!kmm_trylock(&s->lock))
		return -1;
	if (s->count) {
		*item = s->slot[--s->count];
		s->slot[s->count] = NULL; /* no stale pointer to a live block (memcheck's leaks) */
		ret = 1;
	}
	kmm_unlock(&s->lock);
	return ret;
}

/*
 * percpu_stack_push() - push @item onto this CPU's stack in either backend.
 * Return: 0 pushed; 1 full (or stopped): the caller makes room with
 * percpu_stack_pop_bulk() and pushes again; -1 another thread holds its lock
 * (or rseq is unusable on this thread): the item goes to the shared structure.
 */
static inline int percpu_stack_push(struct percpu_stack_ptr p, void *item)
{
	struct percpu_stack *s;
	int ret = 1;

	if (percpu_stack_rseq())
		return __percpu_stack_push(p, item);
	s = percpu_stack_cpu(p, percpu_this_cpu(p.ncpu));
	if (!kmm_trylock(&s->lock))
		return -1;
	if (s->count < s->high) {
		s->slot[s->count++] = item;
		ret = 0;
	}
	kmm_unlock(&s->lock);
	return ret;
}

/*
 * percpu_stack_pop_bulk() - pop up to @n items into @out, top first.
 * Return: how many (0 when empty or stopped); -1 when another thread holds the
 * lock or rseq is unusable on this thread.
 */
int percpu_stack_pop_bulk(struct percpu_stack_ptr p, void **out, unsigned int n);

/*
 * percpu_stack_push_bulk() - push up to @n items from @items as room allows
 * (items[0] ends deepest).  Return: how many (0 when full or stopped); -1 as
 * for percpu_stack_pop_bulk().  What was not pushed stays the caller's.
 */
int percpu_stack_push_bulk(struct percpu_stack_ptr p, void *const *items, unsigned int n);

/*
 * percpu_stack_stop() - take the @n stacks @s of @cpu away from their CPU:
 * lock them in array order; with rseq, stop them (high 0) and fence @cpu.
 * Context: sleeps on the locks; must not hold any of them.
 */
void percpu_stack_stop(struct percpu_stack *const s[], unsigned int n, int cpu);
/* Give stopped stacks back: restore high (after count), unlock in reverse order. */
void percpu_stack_restart(struct percpu_stack *const s[], unsigned int n);

/*
 * percpu_stack_take_all() - a stopped stack's items become the caller's:
 * s->slot[0 .. return - 1], readable until percpu_stack_restart().
 */
static inline unsigned int percpu_stack_take_all(struct percpu_stack *s)
{
	unsigned int count = __atomic_load_n(&s->count, __ATOMIC_RELAXED);

	__atomic_store_n(&s->count, 0, __ATOMIC_RELAXED);
	return count;
}

/* Items on @s now, for statistics (it changes under the reader). */
static inline unsigned int percpu_stack_count(const struct percpu_stack *s)
{
	return READ_ONCE(s->count);
}

#endif /* KMM_LIB_PERCPU_STACK_H */
