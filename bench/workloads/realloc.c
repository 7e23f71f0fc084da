/*
 * realloc: growing buffers, the way string builders and vectors grow.
 *
 * Part 1, a string builder: each string is built by appending pieces of 1
 * to 64 characters, with a realloc to the exact new length at every append
 * (the worst case, common in C code), until it is 1/2 to 1 times
 * STRLEN long.  One string in 8 is kept in a small ring so the heap is not
 * empty around the next one.  Each string's hash is computed while
 * appending and again over the finished buffer.
 *
 * Part 2, a vector: 8-byte elements pushed one at a time into a buffer
 * that starts at 16 bytes and grows by a quarter with realloc whenever it
 * is full, until it reaches VECMIB MiB; then every element is checked.
 *
 * usage: realloc [STRINGS=4000] [STRLEN=16384] [VECMIB=64] [VECTORS=2]
 */
#include "common.h"

#define RING 16

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

int main(int argc, char **argv)
{
	long nstrings = arg_long(argc, argv, 1, 4000);
	long strlen_max = arg_long(argc, argv, 2, 16384);
	long vec_mib = arg_long(argc, argv, 3, 64);
	long nvectors = arg_long(argc, argv, 4, 2);
	char *ring[RING] = { 0 };
	uint64_t rng = 4000, str_sum = 0, reallocs = 0, vec_sum = 0;
	char piece[64];

	for (long s = 0; s < nstrings; s++) {
		size_t target = rnd_range(&rng, strlen_max / 2, strlen_max), len = 0;
		uint64_t h = 0xcbf29ce484222325ULL;
		char *buf = NULL;

		while (len < target) {
			size_t k = rnd_range(&rng, 1, sizeof(piece));

			for (size_t i = 0; i < k; i++)
				piece[i] = (char)('a' + (rnd_next(&rng) % 26));
			buf = xrealloc(buf, len + k + 1);
			memcpy(buf + len, piece, k);
			len += k;
			buf[len] = '\0';
			h = fnv(h, piece, k);
			reallocs++;
		}
		if (strlen(buf) != len || fnv(0xcbf29ce484222325ULL, buf, len) != h)
			wrong("realloc: string %ld of %zu bytes lost its contents", s, len);
		str_sum += h;
		if (s % 8 == 0) {
			free(ring[(s / 8) % RING]);
			ring[(s / 8) % RING] = buf;
		} else {
			free(buf);
		}
	}
	for (int i = 0; i < RING; i++)
		free(ring[i]);

	for (long v = 0; v < nvectors; v++) {
		size_t cap = 2, n = 0, limit = (size_t)vec_mib << 20 >> 3;
		uint64_t *vec = xmalloc(cap * sizeof(*vec));

		while (n < limit) {
			if (n == cap) {
				cap += cap / 4 < 2 ? 2 : cap / 4;
				if (cap > limit)
					cap = limit;
				vec = xrealloc(vec, cap * sizeof(*vec));
				reallocs++;
			}
			vec[n] = n * 0x9e3779b97f4a7c15ULL + (uint64_t)v;
			n++;
		}
		for (size_t i = 0; i < n; i++) {
			if (vec[i] != i * 0x9e3779b97f4a7c15ULL + (uint64_t)v)
				wrong("realloc: element %zu of a %zu-element vector is wrong", i,
				      n);
			vec_sum += vec[i];
		}
		free(vec);
	}
	printf("realloc strings=%ld reallocs=%llu strings_hash=%016llx vector_sum=%016llx\n",
	       nstrings, (unsigned long long)reallocs, (unsigned long long)str_sum,
	       (unsigned long long)vec_sum);
	bench_idle();
	return 0;
}
