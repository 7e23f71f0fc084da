/*
 * bignum: a small single-thread bignum factoriser, after cfrac (the
 * continued-fraction factoriser in mimalloc-bench).
 *
 * It factors NUMBERS products of four random 24-bit primes (about 96
 * bits) with Pollard's rho, in an arbitrary-precision arithmetic whose
 * every operation returns a newly allocated number (and long division
 * allocates its normalised copies), as cfrac's does: many small
 * short-lived allocations of 8 to 60 bytes in varying sizes.  The last
 * HISTORY values of the walk are kept in a ring, which gives the program
 * a live heap of some hundreds of KiB that keeps turning over, so its
 * peak RSS is a few MiB, like the small programs of issue 16.  Each
 * factorisation is checked (the factors multiply back to the number and
 * are the primes it was made of).
 *
 * usage: bignum [NUMBERS=60] [HISTORY=16384]
 */
#include "common.h"

/* A natural number: n limbs of 32 bits, least significant first, l[n-1] != 0. */
struct bn {
	uint32_t n;
	uint32_t l[];
};

static uint64_t nallocs, ndivs;

static struct bn *bn_alloc(uint32_t n)
{
	struct bn *a = xmalloc(sizeof(*a) + (n ? n : 1) * sizeof(uint32_t));

	a->n = n;
	nallocs++;
	return a;
}

static struct bn *bn_trim(struct bn *a)
{
	while (a->n && !a->l[a->n - 1])
		a->n--;
	return a;
}

static struct bn *bn_u64(uint64_t v)
{
	struct bn *a = bn_alloc(2);

	a->l[0] = (uint32_t)v;
	a->l[1] = (uint32_t)(v >> 32);
	return bn_trim(a);
}

static struct bn *bn_copy(const struct bn *a)
{
	struct bn *c = bn_alloc(a->n);

	memcpy(c->l, a->l, a->n * sizeof(uint32_t));
	return c;
}

static int bn_cmp(const struct bn *a, const struct bn *b)
{
	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	for (uint32_t i = a->n; i-- > 0;)
		if (a->l[i] != b->l[i])
			return a->l[i] < b->l[i] ? -1 : 1;
	return 0;
}

static int bn_is_u64(const struct bn *a, uint64_t v)
{
	return a->n <= 2 &&
	       (a->n > 0 ? a->l[0] : 0) + ((uint64_t)(a->n > 1 ? a->l[1] : 0) << 32) == v;
}

static uint64_t bn_to_u64(const struct bn *a)
{
	return (a->n > 0 ? a->l[0] : 0) | (uint64_t)(a->n > 1 ? a->l[1] : 0) << 32;
}

static struct bn *bn_add(const struct bn *a, const struct bn *b)
{
	const struct bn *big = a->n >= b->n ? a : b, *small = a->n >= b->n ? b : a;
	struct bn *c = bn_alloc(big->n + 1);
	uint64_t carry = 0;

	for (uint32_t i = 0; i < big->n; i++) {
		carry += (uint64_t)big->l[i] + (i < small->n ? small->l[i] : 0);
		c->l[i] = (uint32_t)carry;
		carry >>= 32;
	}
	c->l[big->n] = (uint32_t)carry;
	return bn_trim(c);
}

/* a - b, for a >= b. */
static struct bn *bn_sub(const struct bn *a, const struct bn *b)
{
	struct bn *c = bn_alloc(a->n);
	int64_t borrow = 0;

	for (uint32_t i = 0; i < a->n; i++) {
		int64_t t = (int64_t)a->l[i] - (i < b->n ? b->l[i] : 0) - borrow;

		borrow = t < 0;
		c->l[i] = (uint32_t)t;
	}
	return bn_trim(c);
}

static struct bn *bn_mul(const struct bn *a, const struct bn *b)
{
	struct bn *c = bn_alloc(a->n + b->n);

	memset(c->l, 0, c->n * sizeof(uint32_t));
	for (uint32_t i = 0; i < a->n; i++) {
		uint64_t carry = 0;

		for (uint32_t j = 0; j < b->n; j++) {
			carry += (uint64_t)a->l[i] * b->l[j] + c->l[i + j];
			c->l[i + j] = (uint32_t)carry;
			carry >>= 32;
		}
		c->l[i + b->n] = (uint32_t)carry;
	}
	return bn_trim(c);
}

/*
 * Long division (Knuth's algorithm D): returns a mod b and, when q is not
 * NULL, sets *q to a / b.  b is not zero.  The normalised copies of a and
 * b are allocated too, as a general-purpose bignum library does.
 */
static struct bn *bn_divmod(const struct bn *a, const struct bn *b, struct bn **q)
{
	uint32_t m = a->n, n = b->n, *un, *vn;
	struct bn *quo, *rem;
	int s;

	ndivs++;
	if (bn_cmp(a, b) < 0) {
		if (q)
			*q = bn_u64(0);
		return bn_copy(a);
	}
	quo = bn_alloc(m - n + 1);
	if (n == 1) {
		uint64_t r = 0;

		for (uint32_t i = m; i-- > 0;) {
			r = r << 32 | a->l[i];
			quo->l[i] = (uint32_t)(r / b->l[0]);
			r %= b->l[0];
		}
		rem = bn_u64(r);
		goto out;
	}
	s = __builtin_clz(b->l[n - 1]);
	vn = xmalloc(n * sizeof(uint32_t));
	un = xmalloc((m + 1) * sizeof(uint32_t));
	nallocs += 2;
	for (uint32_t i = n; i-- > 1;)
		vn[i] = (uint32_t)(((uint64_t)b->l[i] << s) | ((uint64_t)b->l[i - 1] >> (32 - s)));
	vn[0] = b->l[0] << s;
	un[m] = (uint32_t)((uint64_t)a->l[m - 1] >> (32 - s));
	for (uint32_t i = m; i-- > 1;)
		un[i] = (uint32_t)(((uint64_t)a->l[i] << s) | ((uint64_t)a->l[i - 1] >> (32 - s)));
	un[0] = a->l[0] << s;
	for (uint32_t j = m - n + 1; j-- > 0;) {
		uint64_t top = (uint64_t)un[j + n] << 32 | un[j + n - 1];
		uint64_t qhat = top / vn[n - 1], rhat = top % vn[n - 1];
		int64_t t, k = 0;

		while (qhat >> 32 || qhat * vn[n - 2] > (rhat << 32 | un[j + n - 2])) {
			qhat--;
			rhat += vn[n - 1];
			if (rhat >> 32)
				break;
		}
		for (uint32_t i = 0; i < n; i++) {
			uint64_t p = qhat * vn[i];

			t = (int64_t)un[i + j] - k - (int64_t)(p & 0xffffffff);
			un[i + j] = (uint32_t)t;
			k = (int64_t)(p >> 32) - (t >> 32);
		}
		t = (int64_t)un[j + n] - k;
		un[j + n] = (uint32_t)t;
		if (t < 0) {
			uint64_t c = 0;

			qhat--;
			for (uint32_t i = 0; i < n; i++) {
				c += (uint64_t)un[i + j] + vn[i];
				un[i + j] = (uint32_t)c;
				c >>= 32;
			}
			un[j + n] += (uint32_t)c;
		}
		quo->l[j] = (uint32_t)qhat;
	}
	rem = bn_alloc(n);
	for (uint32_t i = 0; i < n; i++)
		rem->l[i] = (uint32_t)(((uint64_t)un[i] >> s) | ((uint64_t)un[i + 1] << (32 - s)));
	bn_trim(rem);
	free(un);
	free(vn);
out:
	bn_trim(quo);
	if (q)
		*q = quo;
	else
		free(quo);
	return rem;
}

static struct bn *bn_gcd(const struct bn *a, const struct bn *b)
{
	struct bn *x = bn_copy(a), *y = bn_copy(b);

	while (y->n) {
		struct bn *r = bn_divmod(x, y, NULL);

		free(x);
		x = y;
		y = r;
	}
	free(y);
	return x;
}

/* x * x + c mod m, in steps that each allocate, as cfrac computes. */
static struct bn *step(const struct bn *x, const struct bn *c, const struct bn *m)
{
	struct bn *sq = bn_mul(x, x), *sum = bn_add(sq, c), *r = bn_divmod(sum, m, NULL);

	free(sq);
	free(sum);
	return r;
}

static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m)
{
	return (uint64_t)((unsigned __int128)a * b % m);
}

static int is_prime_u64(uint64_t n)
{
	static const uint64_t bases[] = { 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37 };
	uint64_t d = n - 1;
	int r = 0;

	if (n < 2)
		return 0;
	for (int i = 0; i < 12; i++)
		if (n % bases[i] == 0)
			return n == bases[i];
	while (!(d & 1)) {
		d >>= 1;
		r++;
	}
	for (int i = 0; i < 12; i++) {
		uint64_t x = 1, b = bases[i], e = d;

		for (; e; e >>= 1, b = mulmod(b, b, n))
			if (e & 1)
				x = mulmod(x, b, n);
		if (x == 1 || x == n - 1)
			continue;
		for (int k = 1; k < r && x != n - 1; k++)
			x = mulmod(x, x, n);
		if (x != n - 1)
			return 0;
	}
	return 1;
}

static struct bn **hist;
static long nhist, hpos;
static uint64_t nsteps;

static void remember(const struct bn *x)
{
	free(hist[hpos]);
	hist[hpos] = bn_copy(x);
	hpos = (hpos + 1) % nhist;
}

/* A proper factor of the composite m, by Pollard's rho (Floyd's cycle). */
static struct bn *rho(const struct bn *m)
{
	for (uint64_t cv = 1;; cv++) {
		struct bn *c = bn_u64(cv), *x = bn_u64(2), *y = bn_u64(2), *q = bn_u64(1), *g;

		for (long i = 1;; i++) {
			struct bn *t, *d, *p;

			t = step(x, c, m);
			free(x);
			x = t;
			t = step(y, c, m);
			free(y);
			y = step(t, c, m);
			free(t);
			d = bn_cmp(x, y) >= 0 ? bn_sub(x, y) : bn_sub(y, x);
			p = bn_mul(q, d);
			free(q);
			q = bn_divmod(p, m, NULL);
			free(p);
			free(d);
			remember(x);
			nsteps++;
			if (q->n && i % 32)
				continue;
			g = bn_gcd(q->n ? q : m, m);
			if (bn_is_u64(g, 1)) {
				free(g);
				continue;
			}
			free(c);
			free(x);
			free(y);
			free(q);
			if (bn_cmp(g, m) == 0) {
				free(g);
				break; /* the walk cycled mod m itself: another c */
			}
			return g;
		}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	long numbers = arg_long(argc, argv, 1, 60);
	uint64_t rng = 3141, hash = 0;

	nhist = arg_long(argc, argv, 2, 16384);
	hist = calloc(nhist, sizeof(*hist));
	if (!hist)
		fail("calloc returned NULL");
	for (long k = 0; k < numbers; k++) {
		uint64_t primes[4], found[8];
		struct bn *n = bn_u64(1), *stack[8], *prod = bn_u64(1);
		int nfound = 0, top = 0;

		for (int i = 0; i < 4; i++) {
			struct bn *p, *t;

			do {
				primes[i] = rnd_range(&rng, 1 << 23, (1 << 24) - 1) | 1;
				while (!is_prime_u64(primes[i]))
					primes[i] += 2;
			} while ((i > 0 && primes[i] == primes[i - 1]) ||
				 (i > 1 && (primes[i] == primes[i - 2])) ||
				 (i > 2 && primes[i] == primes[0]));
			p = bn_u64(primes[i]);
			t = bn_mul(n, p);
			free(n);
			free(p);
			n = t;
		}
		stack[top++] = bn_copy(n);
		while (top) {
			struct bn *m = stack[--top], *d, *rest;

			if (m->n <= 2 && is_prime_u64(bn_to_u64(m))) {
				struct bn *t = bn_mul(prod, m);

				if (nfound == 8)
					wrong("bignum: too many factors");
				found[nfound++] = bn_to_u64(m);
				free(prod);
				free(m);
				prod = t;
				continue;
			}
			if (top > 6)
				wrong("bignum: too many factors");
			d = rho(m);
			rest = NULL;
			free(bn_divmod(m, d, &rest));
			stack[top++] = d;
			stack[top++] = rest;
			free(m);
		}
		qsort(primes, 4, sizeof(primes[0]), cmp_u64);
		qsort(found, nfound, sizeof(found[0]), cmp_u64);
		if (nfound != 4 || memcmp(primes, found, sizeof(primes)) || bn_cmp(prod, n))
			wrong("bignum: number %ld was not factored into its primes", k);
		for (int i = 0; i < 4; i++)
			hash = rnd_next(&hash) ^ found[i];
		free(prod);
		free(n);
	}
	for (long i = 0; i < nhist; i++)
		free(hist[i]);
	free(hist);
	printf("bignum numbers=%ld steps=%llu divisions=%llu allocs=%llu factors=%016llx\n",
	       numbers, (unsigned long long)nsteps, (unsigned long long)ndivs,
	       (unsigned long long)nallocs, (unsigned long long)hash);
	bench_idle();
	return 0;
}
