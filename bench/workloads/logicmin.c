/*
 * logicmin: a small single-thread two-level logic minimiser, after
 * espresso (in mimalloc-bench).
 *
 * For each of FUNCS random Boolean functions of VARS inputs (an OR of
 * random product terms plus scattered minterms), it finds all prime
 * implicants by Quine-McCluskey merging and then a cover by a greedy
 * choice.  Cubes are list nodes allocated one by one; each merging pass
 * builds a new list and a hash table (a bucket array of a size that
 * depends on the list, plus one allocated entry per cube) and frees the
 * previous pass's, so the program makes many small allocations of a few
 * sizes and frees them in bursts, with a heap of a few MiB at most.  The
 * cover is checked against the function on every input.
 *
 * usage: logicmin [FUNCS=20] [VARS=10]
 */
#include "common.h"

struct cube {
	uint32_t val;  /* the literals' values (0 where mask is set) */
	uint32_t mask; /* the variables this cube does not depend on */
	int merged;
	struct cube *next;
};

struct entry {
	const struct cube *c;
	struct entry *next;
};

struct table {
	size_t nb;
	struct entry **b;
};

static uint64_t nallocs;

static struct cube *cube_new(uint32_t val, uint32_t mask, struct cube *next)
{
	struct cube *c = xmalloc(sizeof(*c));

	c->val = val;
	c->mask = mask;
	c->merged = 0;
	c->next = next;
	nallocs++;
	return c;
}

static void list_free(struct cube *c)
{
	while (c) {
		struct cube *n = c->next;

		free(c);
		c = n;
	}
}

static size_t cube_hash(uint32_t val, uint32_t mask, size_t nb)
{
	uint64_t s = (uint64_t)val << 32 | mask;

	return rnd_next(&s) % nb;
}

static void table_init(struct table *t, size_t n)
{
	t->nb = n + n / 2 + 1;
	t->b = calloc(t->nb, sizeof(*t->b));
	if (!t->b)
		fail("calloc returned NULL");
	nallocs++;
}

static const struct cube *table_find(const struct table *t, uint32_t val, uint32_t mask)
{
	for (struct entry *e = t->b[cube_hash(val, mask, t->nb)]; e; e = e->next)
		if (e->c->val == val && e->c->mask == mask)
			return e->c;
	return NULL;
}

static void table_add(struct table *t, const struct cube *c)
{
	struct entry *e = xmalloc(sizeof(*e));
	size_t h = cube_hash(c->val, c->mask, t->nb);

	e->c = c;
	e->next = t->b[h];
	t->b[h] = e;
	nallocs++;
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nb; i++) {
		struct entry *e = t->b[i];

		while (e) {
			struct entry *n = e->next;

			free(e);
			e = n;
		}
	}
	free(t->b);
}

static size_t list_len(const struct cube *c)
{
	size_t n = 0;

	for (; c; c = c->next)
		n++;
	return n;
}

/* All prime implicants of the function whose minterms are @cur. */
static struct cube *primes_of(struct cube *cur, int nvars)
{
	struct cube *primes = NULL;

	while (cur) {
		struct table t, seen;
		struct cube *next = NULL;
		size_t n = list_len(cur);

		table_init(&t, n);
		table_init(&seen, n);
		for (struct cube *c = cur; c; c = c->next)
			table_add(&t, c);
		for (struct cube *c = cur; c; c = c->next) {
			for (int i = 0; i < nvars; i++) {
				uint32_t bit = 1u << i;
				struct cube *o;

				if ((c->mask | c->val) & bit)
					continue;
				o = (struct cube *)table_find(&t, c->val | bit, c->mask);
				if (!o)
					continue;
				c->merged = o->merged = 1;
				if (!table_find(&seen, c->val, c->mask | bit)) {
					next = cube_new(c->val, c->mask | bit, next);
					table_add(&seen, next);
				}
			}
		}
		for (struct cube *c = cur; c;) {
			struct cube *n = c->next;

			if (c->merged) {
				free(c);
			} else {
				c->next = primes;
				primes = c;
			}
			c = n;
		}
		table_free(&t);
		table_free(&seen);
		cur = next;
	}
	return primes;
}

static int covers(const struct cube *c, uint32_t x)
{
	return (x & ~c->mask) == c->val;
}

/* Uncovered minterms of @on that cube @c covers: walks the cube's minterms. */
static long gain(const struct cube *c, const unsigned char *on, const unsigned char *done)
{
	uint32_t sub = 0;
	long g = 0;

	do {
		g += on[c->val | sub] && !done[c->val | sub];
		sub = (sub - c->mask) & c->mask;
	} while (sub);
	return g;
}

/* A cover of @on by primes: for each uncovered minterm, the best prime over it. */
static struct cube *cover_of(const struct cube *primes, const unsigned char *on, int nvars)
{
	unsigned char *done = calloc(1u << nvars, 1);
	struct cube *cover = NULL;

	if (!done)
		fail("calloc returned NULL");
	for (uint32_t x = 0; x < 1u << nvars; x++) {
		const struct cube *best = NULL;
		long bestg = -1;
		uint32_t sub;

		if (!on[x] || done[x])
			continue;
		for (const struct cube *p = primes; p; p = p->next) {
			long g;

			if (!covers(p, x))
				continue;
			g = gain(p, on, done);
			if (g > bestg) {
				bestg = g;
				best = p;
			}
		}
		if (!best)
			wrong("logicmin: no prime covers minterm %u", x);
		cover = cube_new(best->val, best->mask, cover);
		sub = 0;
		do {
			done[best->val | sub] = 1;
			sub = (sub - best->mask) & best->mask;
		} while (sub);
	}
	free(done);
	return cover;
}

int main(int argc, char **argv)
{
	long funcs = arg_long(argc, argv, 1, 20);
	int nvars = (int)arg_long(argc, argv, 2, 10);
	uint64_t rng = 2718, hash = 0, nprimes = 0, ncover = 0;
	unsigned char *on;

	if (nvars > 16)
		fail("VARS must be at most 16");
	on = xmalloc(1u << nvars);
	for (long f = 0; f < funcs; f++) {
		struct cube *mins = NULL, *primes, *cover;
		uint32_t all = (1u << nvars) - 1;

		/* An OR of random product terms, and some lone minterms. */
		memset(on, 0, 1u << nvars);
		for (int t = 0; t < 24; t++) {
			uint32_t mask = all, val;

			for (int k = (int)rnd_range(&rng, 3, 7); k > 0; k--)
				mask &= ~(1u << rnd_range(&rng, 0, (uint64_t)nvars - 1));
			val = (uint32_t)rnd_next(&rng) & ~mask & all;
			for (uint32_t x = 0; x <= all; x++)
				if ((x & ~mask) == val)
					on[x] = 1;
		}
		for (int t = 0; t < 40; t++)
			on[rnd_next(&rng) & all] = 1;
		for (uint32_t x = all + 1; x-- > 0;)
			if (on[x])
				mins = cube_new(x, 0, mins);
		primes = primes_of(mins, nvars);
		cover = cover_of(primes, on, nvars);
		for (uint32_t x = 0; x <= all; x++) {
			int c = 0;

			for (const struct cube *k = cover; k && !c; k = k->next)
				c = covers(k, x);
			if (c != on[x])
				wrong("logicmin: the cover of function %ld is wrong at input %u", f,
				      x);
		}
		nprimes += list_len(primes);
		ncover += list_len(cover);
		for (const struct cube *k = cover; k; k = k->next)
			hash = rnd_next(&hash) ^ ((uint64_t)k->val << 32 | k->mask);
		list_free(primes);
		list_free(cover);
	}
	free(on);
	printf("logicmin funcs=%ld vars=%d primes=%llu cover=%llu allocs=%llu hash=%016llx\n",
	       funcs, nvars, (unsigned long long)nprimes, (unsigned long long)ncover,
	       (unsigned long long)nallocs, (unsigned long long)hash);
	bench_idle();
	return 0;
}
