/* SPDX-License-Identifier: MIT */
/*
 * rseq-x86_64.h - the x86-64 restartable sequences on a per-CPU list of
 * pointers.  This is the only architecture-specific file of the per-CPU
 * layer; an aarch64 twin provides the same seven functions.
 *
 * A list is an array over CPUs, @stride bytes apart from @base (struct
 * percpu_stack, lib/percpu_stack.h):
 *	u32 count;	committed number of slots in use
 *	u32 high;	capacity; 0 means "stopped" (a drain owns the list)
 *	8 bytes		the owner's (its lock); no sequence touches them
 *	void *slot[];	at KMM_RSEQ_LIST_SLOT_OFFSET; slot[count - 1] is the top
 *
 * Every sequence stores its descriptor into the thread's rseq area (glibc's
 * registration, found at %fs:__rseq_offset), reads cpu_id *inside* the
 * critical section, and commits with a single store of count as its last
 * instruction: preemption, migration or a signal before that store restarts
 * it from the top (documented rseq ABI only; cpu_id_start is never written).
 * A cpu_id that is not below @ncpu (-1 unregistered, -2 registration failed)
 * takes the "unavailable" exit.
 *
 * Every sequence loads high *before* count.  A drain (lib/percpu_stack.c) stops a
 * list with high = 0, fences, empties it, stores count = 0 and only then
 * restores high.  x86 keeps loads in order and stores in order, so a sequence
 * that sees the restored high also sees count = 0; with the loads the other
 * way round it could pair a stale count with the new high and hand out blocks
 * the drain already gave back (a vCPU stalled by the host between the two
 * loads does not abort the sequence).  An aarch64 port loads high with
 * load-acquire for the same reason.  The abort handler is preceded by the
 * signature glibc registered (RSEQ_SIG 0x53053053, as a ud1 instruction).
 *
 * Budget: push 14 instructions, pop 14 (no atomics, no fences); the hit
 * paths' shift variants 13 each.
 *
 * rseq_ring_swap() is the seventh: the same layout used as a FIFO ring
 * (KMM_SECURE's quarantine, slab/secure.c).
 *
 * rseq_percpu_add() is the sixth: a per-CPU counter (the kernel's
 * this_cpu_add()), whose commit is one add to memory; an instruction is never
 * split by preemption on its own CPU.
 */
#ifndef KMM_LIB_RSEQ_X86_64_H
#define KMM_LIB_RSEQ_X86_64_H

#define KMM_HAVE_RSEQ_ASM 1
#define KMM_RSEQ_SIG 0x53053053
#define KMM_RSEQ_LIST_SLOT_OFFSET 16 /* the "16(" of the slot accesses below */

/* The descriptor and the signed abort handler of one critical section. */
#define RSEQ_CS_ASM(start, post_commit, abort_label)                                               \
	".pushsection __rseq_cs, \"aw\"\n\t"                                                       \
	".balign 32\n\t"                                                                           \
	"66:\n\t"                                                                                  \
	".long 0, 0\n\t"                                                                           \
	".quad " #start "f, (" #post_commit "f - " #start "f), 44f\n\t"                            \
	".popsection\n\t"                                                                          \
	".pushsection __rseq_failure, \"ax\"\n\t"                                                  \
	".byte 0x0f, 0xb9, 0x3d\n\t"                                                               \
	".long 0x53053053\n\t"                                                                     \
	"44:\n\t"                                                                                  \
	"jmp %l[" #abort_label "]\n\t"                                                             \
	".popsection\n\t"                                                                          \
	"leaq 66b(%%rip), %%rax\n\t"                                                               \
	"movq %%rax, %%fs:8(%[off])\n\t"

/* rax = &list of this CPU, or jump to @unavail. */
#define RSEQ_LIST_ASM(unavail)                                                                     \
	"movl %%fs:4(%[off]), %%eax\n\t"                                                           \
	"cmpl %[ncpu], %%eax\n\t"                                                                  \
	"jae %l[" #unavail "]\n\t"                                                                 \
	"imulq %[stride], %%rax\n\t"                                                               \
	"addq %[base], %%rax\n\t"

static inline long rseq_thread_pointer(void)
{
	long tp;

	__asm__("movq %%fs:0, %0" : "=r"(tp));
	return tp;
}

/* Return: 0 pushed, 1 full or stopped, -1 rseq unusable on this thread. */
static __always_inline int rseq_list_push(long off, void *base, long stride, unsigned int ncpu,
					  void *item)
{
retry:
	__asm__ __volatile__ goto(RSEQ_CS_ASM(1, 2, abort) "1:\n\t" RSEQ_LIST_ASM(
					  unavail) "movl 4(%%rax), %%edx\n\t"
						   "movl (%%rax), %%ecx\n\t"
						   "cmpl %%edx, %%ecx\n\t"
						   "jae %l[full]\n\t"
						   "movq %[item], 16(%%rax,%%rcx,8)\n\t"
						   "incl %%ecx\n\t"
						   "movl %%ecx, (%%rax)\n\t"
						   "2:\n\t"
				  :
				  : [off] "r"(off), [base] "r"(base), [stride] "r"(stride),
				    [ncpu] "r"(ncpu), [item] "r"(item)
				  : "rax", "rcx", "rdx", "memory", "cc"
				  : abort, full, unavail);
	return 0;
abort:
	goto retry;
full:
	return 1;
unavail:
	return -1;
}

/* Return: the top item, or NULL if the list is empty, stopped, or rseq unusable. */
static __always_inline void *rseq_list_pop(long off, void *base, long stride, unsigned int ncpu)
{
	void *item;

retry:
	__asm__ __volatile__ goto(
		RSEQ_CS_ASM(1, 2, abort) "1:\n\t" RSEQ_LIST_ASM(
			empty) "cmpl $0, 4(%%rax)\n\t"
			       "je %l[empty]\n\t"
			       "movl (%%rax), %%ecx\n\t"
			       "testl %%ecx, %%ecx\n\t"
			       "jz %l[empty]\n\t"
			       "decl %%ecx\n\t"
			       "movq 16(%%rax,%%rcx,8), %[item]\n\t"
			       "movl %%ecx, (%%rax)\n\t"
			       "2:\n\t"
		: [item] "=&r"(item)
		: [off] "r"(off), [base] "r"(base), [stride] "r"(stride), [ncpu] "r"(ncpu)
		: "rax", "rcx", "memory", "cc"
		: abort, empty);
	return item;
abort:
	goto retry;
empty:
	return NULL;
}

/*
 * The hit paths' sequences (slab/slab.h): CPU c's list at @base + (c << @shift),
 * @shift a constant, so the address is a shift and an add (an add from memory
 * when @base is a table entry); registers are the compiler's, the descriptor
 * address passes through the one that then holds the list.  The pop relies on
 * count <= high outside a drain: "count - 1 < high" then says "not empty and
 * not stopped" in one compare.
 * Their descriptor and abort handler come after the code, and the handler
 * jumps back to 3: (the store of the descriptor) without leaving the asm, so
 * the compiler sees no loop and folds the table and @ncpu loads into the
 * sequence's add and compare.
 * Budget: 13 instructions each, the ret and the caller's loads excluded.
 */
#define RSEQ_CS_START_ASM(reg)                                                                     \
	"3:\n\t"                                                                                   \
	"leaq 66f(%%rip), %q[" #reg "]\n\t"                                                        \
	"movq %q[" #reg "], %%fs:8(%[off])\n\t"                                                    \
	"1:\n\t"

#define RSEQ_CS_END_ASM                                                                            \
	"2:\n\t"                                                                                   \
	".pushsection __rseq_cs, \"aw\"\n\t"                                                       \
	".balign 32\n\t"                                                                           \
	"66:\n\t"                                                                                  \
	".long 0, 0\n\t"                                                                           \
	".quad 1b, (2b - 1b), 44f\n\t"                                                             \
	".popsection\n\t"                                                                          \
	".pushsection __rseq_failure, \"ax\"\n\t"                                                  \
	".byte 0x0f, 0xb9, 0x3d\n\t"                                                               \
	".long 0x53053053\n\t"                                                                     \
	"44:\n\t"                                                                                  \
	"jmp 3b\n\t"                                                                               \
	".popsection\n\t"

#define RSEQ_LIST_SHIFT_ASM(unavail)                                                               \
	"movl %%fs:4(%[off]), %k[list]\n\t"                                                        \
	"cmpl %[ncpu], %k[list]\n\t"                                                               \
	"jae %l[" #unavail "]\n\t"                                                                 \
	"shlq %[shift], %q[list]\n\t"                                                              \
	"addq %[base], %q[list]\n\t"

/* Return: the top item; NULL if the list is empty, stopped, or rseq unusable. */
static __always_inline void *rseq_list_pop_shift(long off, void *const *base, int shift,
						 const unsigned int *ncpu)
{
	unsigned long list, count, high;
	void *item;

	__asm__ __volatile__ goto(
		RSEQ_CS_START_ASM(list)
			RSEQ_LIST_SHIFT_ASM(empty) "movl 4(%q[list]), %k[high]\n\t"
						   "movl (%q[list]), %k[count]\n\t"
						   "subl $1, %k[count]\n\t"
						   "cmpl %k[high], %k[count]\n\t"
						   "jae %l[empty]\n\t"
						   "movq 16(%q[list],%q[count],8), %q[item]\n\t"
						   "movl %k[count], (%q[list])\n\t" RSEQ_CS_END_ASM
		: [item] "=&a"(item), [list] "=&r"(list), [count] "=&r"(count), [high] "=&r"(high)
		: [off] "r"(off), [base] "m"(*base), [shift] "i"(shift), [ncpu] "m"(*ncpu)
		: "memory", "cc"
		: empty);
	if (!item)
		__builtin_unreachable(); /* lists hold no NULL */
	return item;
empty:
	return NULL;
}

/* Return: 0 pushed, 1 full, stopped, or rseq unusable on this thread. */
static __always_inline int rseq_list_push_shift(long off, void *const *base, int shift,
						const unsigned int *ncpu, void *item)
{
	unsigned long list, count, high;

	__asm__ __volatile__ goto(RSEQ_CS_START_ASM(list) RSEQ_LIST_SHIFT_ASM(
					  full) "movl 4(%q[list]), %k[high]\n\t"
						"movl (%q[list]), %k[count]\n\t"
						"cmpl %k[high], %k[count]\n\t"
						"jae %l[full]\n\t"
						"movq %[item], 16(%q[list],%q[count],8)\n\t"
						"addl $1, %k[count]\n\t"
						"movl %k[count], (%q[list])\n\t" RSEQ_CS_END_ASM
				  : [list] "=&r"(list), [count] "=&r"(count), [high] "=&r"(high)
				  : [off] "r"(off), [base] "m"(*base), [shift] "i"(shift),
				    [ncpu] "m"(*ncpu), [item] "r"(item)
				  : "memory", "cc"
				  : full);
	return 0;
full:
	return 1;
}

/*
 * Push up to @n items from @items (items[0] ends deepest) as room allows.
 * Return: the number pushed (0 if full or stopped), -1 if rseq is unusable.
 */
static __always_inline int rseq_list_push_bulk(long off, void *base, long stride, unsigned int ncpu,
					       void *const *items, unsigned int n)
{
	unsigned long done;

retry:
	__asm__ __volatile__ goto(
		RSEQ_CS_ASM(1, 2, abort) "1:\n\t" RSEQ_LIST_ASM(
			unavail) "movl 4(%%rax), %%edx\n\t"
				 "movl (%%rax), %%ecx\n\t"
				 "xorl %k[done], %k[done]\n\t"
				 "subl %%ecx, %%edx\n\t"
				 "jbe 2f\n\t" /* full or stopped: nothing to commit */
				 "cmpl %[n], %%edx\n\t"
				 "cmoval %[n], %%edx\n\t"
				 "3:\n\t"
				 "movq (%[items],%[done],8), %%r8\n\t"
				 "leaq (%%rcx,%[done]), %%r9\n\t"
				 "movq %%r8, 16(%%rax,%%r9,8)\n\t"
				 "incq %[done]\n\t"
				 "cmpl %%edx, %k[done]\n\t"
				 "jb 3b\n\t"
				 "addl %%edx, %%ecx\n\t"
				 "movl %%ecx, (%%rax)\n\t"
				 "2:\n\t"
		: [done] "=&r"(done)
		: [off] "r"(off), [base] "r"(base), [stride] "r"(stride), [ncpu] "r"(ncpu),
		  [items] "r"(items), [n] "r"(n)
		: "rax", "rcx", "rdx", "r8", "r9", "memory", "cc"
		: abort, unavail);
	return (int)done;
abort:
	goto retry;
unavail:
	return -1;
}

/*
 * Pop up to @n items into @out, top first.
 * Return: the number popped (0 if empty or stopped), -1 if rseq is unusable.
 */
static __always_inline int rseq_list_pop_bulk(long off, void *base, long stride, unsigned int ncpu,
					      void **out, unsigned int n)
{
	unsigned long done;

retry:
	__asm__ __volatile__ goto(RSEQ_CS_ASM(1, 2, abort) "1:\n\t" RSEQ_LIST_ASM(
					  unavail) "xorl %k[done], %k[done]\n\t"
						   "cmpl $0, 4(%%rax)\n\t"
						   "je 2f\n\t" /* stopped */
						   "movl (%%rax), %%ecx\n\t"
						   "movl %%ecx, %%edx\n\t"
						   "cmpl %[n], %%edx\n\t"
						   "cmoval %[n], %%edx\n\t"
						   "testl %%edx, %%edx\n\t"
						   "jz 2f\n\t"
						   "3:\n\t"
						   "leal -1(%%ecx), %%r9d\n\t"
						   "subl %k[done], %%r9d\n\t"
						   "movq 16(%%rax,%%r9,8), %%r8\n\t"
						   "movq %%r8, (%[out],%[done],8)\n\t"
						   "incq %[done]\n\t"
						   "cmpl %%edx, %k[done]\n\t"
						   "jb 3b\n\t"
						   "subl %%edx, %%ecx\n\t"
						   "movl %%ecx, (%%rax)\n\t"
						   "2:\n\t"
				  : [done] "=&r"(done)
				  : [off] "r"(off), [base] "r"(base), [stride] "r"(stride),
				    [ncpu] "r"(ncpu), [out] "r"(out), [n] "r"(n)
				  : "rax", "rcx", "rdx", "r8", "r9", "memory", "cc"
				  : abort, unavail);
	return (int)done;
abort:
	goto retry;
unavail:
	return -1;
}

/*
 * Add @v to this CPU's counter at @base + cpu * @stride.
 * Return: 0, or -1 if rseq is unusable on this thread (nothing added).
 */
static __always_inline int rseq_percpu_add(long off, void *base, long stride, unsigned int ncpu,
					   unsigned long v)
{
retry:
	__asm__ __volatile__ goto(
		RSEQ_CS_ASM(1, 2, abort) "1:\n\t" RSEQ_LIST_ASM(unavail) "addq %[v], (%%rax)\n\t"
									 "2:\n\t"
		:
		:
		[off] "r"(off), [base] "r"(base), [stride] "r"(stride), [ncpu] "r"(ncpu), [v] "r"(v)
		: "rax", "memory", "cc"
		: abort, unavail);
	return 0;
abort:
	goto retry;
unavail:
	return -1;
}

/*
 * A FIFO ring of pointers in the list layout: count is a free-running
 * cursor, high the number of slots (a power of two; 0: stopped).  Store
 * @item at slot[count % high] and advance count; *@old is the item it
 * replaced (NULL while the ring fills), *@next the item of the following
 * slot, the next to leave.  count is stored before the slot, whose store
 * commits: a sequence aborted between the two leaves the slot's item for a
 * later turn and takes the next slot when it restarts, so no item is lost
 * or held twice.
 * Return: 0 swapped, 1 stopped, -1 rseq unusable on this thread.
 */
static __always_inline int rseq_ring_swap(long off, void *base, long stride, unsigned int ncpu,
					  void *item, void **old, void **next)
{
	void *o, *n;

retry:
	__asm__ __volatile__ goto(RSEQ_CS_ASM(1, 2, abort) "1:\n\t" RSEQ_LIST_ASM(
					  unavail) "movl 4(%%rax), %%edx\n\t"
						   "testl %%edx, %%edx\n\t"
						   "jz %l[stopped]\n\t"
						   "decl %%edx\n\t"
						   "movl (%%rax), %%ecx\n\t"
						   "leal 1(%%rcx), %%r8d\n\t"
						   "movl %%ecx, %%r9d\n\t"
						   "andl %%edx, %%r9d\n\t"
						   "andl %%r8d, %%edx\n\t"
						   "movq 16(%%rax,%%r9,8), %[o]\n\t"
						   "movq 16(%%rax,%%rdx,8), %[n]\n\t"
						   "movl %%r8d, (%%rax)\n\t"
						   "movq %[item], 16(%%rax,%%r9,8)\n\t"
						   "2:\n\t"
				  : [o] "=&r"(o), [n] "=&r"(n)
				  : [off] "r"(off), [base] "r"(base), [stride] "r"(stride),
				    [ncpu] "r"(ncpu), [item] "r"(item)
				  : "rax", "rcx", "rdx", "r8", "r9", "memory", "cc"
				  : abort, stopped, unavail);
	*old = o;
	*next = n;
	return 0;
abort:
	goto retry;
stopped:
	return 1;
unavail:
	return -1;
}

#endif /* KMM_LIB_RSEQ_X86_64_H */
