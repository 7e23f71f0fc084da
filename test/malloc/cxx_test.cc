// SPDX-License-Identifier: MIT
/*
 * cxx_test.cc - every operator new/delete form reaches libkmm (linked with
 * libkmm.so): plain, array, nothrow, sized, aligned, aligned+sized; the
 * standard containers; bad_alloc on an impossible request; and a free of an
 * over-aligned object through the aligned delete.
 */
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <kmm/slab.h>

static int failures;
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			failures++;                                                                \
			std::fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c);          \
		}                                                                                  \
	} while (0)

struct alignas(256) Wide {
	char bytes[300];
};

static bool ours(const void *p)
{
	return kmm_ksize(p) > 0;
}

int main()
{
#if defined(__SANITIZE_ADDRESS__)
	std::printf("skipped: AddressSanitizer replaces operator new in this build\n");
	return 77;
#endif
	int *one = new int(7);
	CHECK(ours(one) && *one == 7);
	delete one;

	int *arr = new int[1000];
	CHECK(ours(arr));
	delete[] arr;

	int *nt = new (std::nothrow) int[10];
	CHECK(nt && ours(nt));
	delete[] nt;

	Wide *w = new Wide;
	CHECK(ours(w) && reinterpret_cast<uintptr_t>(w) % 256 == 0);
	delete w;

	Wide *wa = new Wide[5];
	CHECK(ours(wa) && reinterpret_cast<uintptr_t>(wa) % 256 == 0);
	delete[] wa;

	auto u = std::make_unique<Wide>();
	CHECK(reinterpret_cast<uintptr_t>(u.get()) % 256 == 0);

	void *raw = ::operator new(64, std::align_val_t(4096));
	CHECK(ours(raw) && reinterpret_cast<uintptr_t>(raw) % 4096 == 0);
	::operator delete(raw, 64, std::align_val_t(4096));

	/*
	 * Sized deletes with the size asked for, at every class and alignment:
	 * the check that the size names the block's class (every build) never
	 * fires on a correct program.
	 */
	for (size_t n = 0; n <= 40000; n += n < 2048 ? 1 : 97) {
		void *p = ::operator new(n);
		void *q = ::operator new[](n);

		CHECK(ours(p) && ours(q));
		::operator delete(p, n);
		::operator delete[](q, n);
		for (size_t a = 32; a <= 4096; a *= 8) {
			p = ::operator new(n, std::align_val_t(a));
			CHECK(ours(p) && reinterpret_cast<uintptr_t>(p) % a == 0);
			::operator delete(p, n, std::align_val_t(a));
		}
	}

	void *none = ::operator new(size_t(1) << 62, std::nothrow);
	CHECK(none == nullptr);

	bool threw = false;
	try {
		volatile size_t huge = size_t(1) << 62;
		void *p = ::operator new(huge);
		::operator delete(p);
	} catch (const std::bad_alloc &) {
		threw = true;
	}
	CHECK(threw);

	/*
	 * new[] sizes near SIZE_MAX: a count whose product overflows is refused
	 * before operator new[] runs (bad_array_new_length, a bad_alloc, which
	 * g++ throws for the nothrow forms too, as for any array above
	 * PTRDIFF_MAX bytes); a byte count just below that, or any size passed
	 * to the operators directly, reaches libkmm and fails.
	 */
	const size_t counts[] = { SIZE_MAX / 2, SIZE_MAX / 4 + 1, SIZE_MAX - 4096, SIZE_MAX - 1,
				  SIZE_MAX / 2 + 1 };
	for (size_t c : counts) {
		volatile size_t n = c;
		int arrays_threw = 0;

		try {
			char *a = new char[n];
			delete[] a;
		} catch (const std::bad_alloc &) {
			arrays_threw++;
		}
		try {
			int *a = new int[n];
			delete[] a;
		} catch (const std::bad_alloc &) {
			arrays_threw++;
		}
		try {
			Wide *a = new Wide[n / 64];
			delete[] a;
		} catch (const std::bad_alloc &) {
			arrays_threw++;
		}
		CHECK(arrays_threw == 3);
		if (c <= PTRDIFF_MAX) {
			CHECK(new (std::nothrow) char[n] == nullptr);
			CHECK(new (std::nothrow) int[n / 8] == nullptr);
			CHECK(new (std::nothrow) Wide[n / 512] == nullptr);
		}
		CHECK(::operator new[](n, std::nothrow) == nullptr);
		CHECK(::operator new[](n, std::align_val_t(64), std::nothrow) == nullptr);
		CHECK(::operator new(n, std::align_val_t(1 << 20), std::nothrow) == nullptr);
	}

	std::vector<std::thread> threads;
	std::vector<long> sums(4);
	for (int t = 0; t < 4; t++)
		threads.emplace_back([t, &sums] {
			std::map<int, std::string> m;
			std::unordered_map<std::string, std::vector<int>> um;
			for (int i = 0; i < 20000; i++) {
				m[i] = std::to_string(i * t);
				um[m[i]].push_back(i);
			}
			long s = 0;
			for (auto &kv : um)
				s += (long)kv.second.size();
			sums[t] = s + (long)m.size();
		});
	for (auto &th : threads)
		th.join();
	for (int t = 0; t < 4; t++)
		CHECK(sums[t] == 40000);

	std::printf("%s\n", failures ? "FAIL" : "ok");
	return failures ? 1 : 0;
}
