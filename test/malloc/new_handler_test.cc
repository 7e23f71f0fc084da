// SPDX-License-Identifier: MIT
/*
 * new_handler_test.cc - every operator new form, nothrow, array and aligned
 * included, runs the new_handler loop when memory runs out (C++17
 * [new.delete.single]): the handler is called until the allocation succeeds,
 * it removes itself (then bad_alloc, or nullptr for nothrow) or it throws
 * bad_alloc (which nothrow turns into nullptr).  Linked with libkmm.so and run
 * under KMM_ARENA_LIMIT=64M, so that the arena can really be filled.
 */
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <vector>

#include <kmm/slab.h>

static int failures;
#define CHECK(c, ...)                                                                              \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			failures++;                                                                \
			std::fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #c);          \
			std::fprintf(stderr, __VA_ARGS__);                                         \
			std::fputc('\n', stderr);                                                  \
		}                                                                                  \
	} while (0)

/* The eight allocating forms; @size bytes, @align for the aligned ones. */
enum Form {
	NEW,
	NEW_ARRAY,
	NOTHROW,
	NOTHROW_ARRAY,
	ALIGNED,
	ALIGNED_ARRAY,
	ALIGNED_NOTHROW,
	ALIGNED_NOTHROW_ARRAY,
	NR_FORMS
};
static const char *const form_name[NR_FORMS] = {
	"new",	   "new[]",	"new(nothrow)",	    "new[](nothrow)",
	"new(al)", "new[](al)", "new(al, nothrow)", "new[](al, nothrow)",
};
static const std::align_val_t ALIGN{ 4096 };

static bool is_nothrow(int f)
{
	return f == NOTHROW || f == NOTHROW_ARRAY || f == ALIGNED_NOTHROW ||
	       f == ALIGNED_NOTHROW_ARRAY;
}

static void *call_new(int f, size_t size)
{
	switch (f) {
	case NEW: return ::operator new(size);
	case NEW_ARRAY: return ::operator new[](size);
	case NOTHROW: return ::operator new(size, std::nothrow);
	case NOTHROW_ARRAY: return ::operator new[](size, std::nothrow);
	case ALIGNED: return ::operator new(size, ALIGN);
	case ALIGNED_ARRAY: return ::operator new[](size, ALIGN);
	case ALIGNED_NOTHROW: return ::operator new(size, ALIGN, std::nothrow);
	default: return ::operator new[](size, ALIGN, std::nothrow);
	}
}

static bool is_array(int f)
{
	return f == NEW_ARRAY || f == NOTHROW_ARRAY || f == ALIGNED_ARRAY ||
	       f == ALIGNED_NOTHROW_ARRAY;
}

/* The delete that matches form @f (libkmm checks it for page runs). */
static void call_delete(int f, void *p)
{
	if (f >= ALIGNED && is_array(f))
		::operator delete[](p, ALIGN);
	else if (f >= ALIGNED)
		::operator delete(p, ALIGN);
	else if (is_array(f))
		::operator delete[](p);
	else
		::operator delete(p);
}

/* The result of one call: the pointer, or "threw". */
struct Outcome {
	void *p;
	bool threw;
};

static Outcome try_new(int f, size_t size)
{
	try {
		return { call_new(f, size), false };
	} catch (const std::bad_alloc &) {
		return { nullptr, true };
	}
}

/* ---- handlers ---- */

static int calls;
static int give_up_after;
static std::vector<void *> hoard;

/* Removes itself on its give_up_after'th call. */
static void handler_gives_up()
{
	if (++calls >= give_up_after)
		std::set_new_handler(nullptr);
}

/* Throws bad_alloc on its give_up_after'th call. */
static void handler_throws()
{
	if (++calls >= give_up_after)
		throw std::bad_alloc();
}

/* Frees one block of the hoard on its give_up_after'th call: memory is available again. */
static void handler_frees()
{
	if (++calls >= give_up_after && !hoard.empty()) {
		std::free(hoard.back());
		hoard.pop_back();
	}
}

/* A size no allocator can satisfy (the compiler must not see it). */
static size_t impossible()
{
	volatile size_t v = size_t(1) << 62;

	return v;
}

static void test_handler_removes_itself()
{
	for (int f = 0; f < NR_FORMS; f++) {
		calls = 0;
		give_up_after = 3;
		std::set_new_handler(handler_gives_up);
		Outcome o = try_new(f, impossible());
		CHECK(calls == 3, "%s: handler called %d times, want 3", form_name[f], calls);
		if (is_nothrow(f))
			CHECK(!o.threw && !o.p, "%s: threw %d p %p", form_name[f], o.threw, o.p);
		else
			CHECK(o.threw, "%s: no bad_alloc", form_name[f]);
		std::set_new_handler(nullptr);
	}
}

static void test_handler_throws()
{
	for (int f = 0; f < NR_FORMS; f++) {
		calls = 0;
		give_up_after = 2;
		std::set_new_handler(handler_throws);
		Outcome o = try_new(f, impossible());
		CHECK(calls == 2, "%s: handler called %d times, want 2", form_name[f], calls);
		if (is_nothrow(f))
			CHECK(!o.threw && !o.p, "%s: threw %d p %p", form_name[f], o.threw, o.p);
		else
			CHECK(o.threw, "%s: the handler's bad_alloc did not reach the caller",
			      form_name[f]);
		std::set_new_handler(nullptr);
	}
}

static void test_no_handler()
{
	for (int f = 0; f < NR_FORMS; f++) {
		errno = 0;
		Outcome o = try_new(f, impossible());
		if (is_nothrow(f))
			CHECK(!o.threw && !o.p && errno == ENOMEM, "%s: threw %d p %p errno %d",
			      form_name[f], o.threw, o.p, errno);
		else
			CHECK(o.threw, "%s: no bad_alloc", form_name[f]);
	}
}

/*
 * Fill the arena with 1 MiB page runs (they come from the buddy alone), then
 * ask for one more: the handler frees one on its second call and the
 * allocation succeeds.
 */
static void test_handler_makes_room()
{
	const size_t block = size_t(1) << 20;

	for (int f = 0; f < NR_FORMS; f++) {
		void *p;

		while ((p = std::malloc(block)) != nullptr)
			hoard.push_back(p);
		CHECK(hoard.size() > 8 && hoard.size() < 64, "%zu MiB under a 64 MiB arena",
		      hoard.size());
		calls = 0;
		give_up_after = 2;
		std::set_new_handler(handler_frees);
		Outcome o = try_new(f, block);
		std::set_new_handler(nullptr);
		CHECK(o.p && !o.threw && calls == 2, "%s: p %p threw %d after %d calls",
		      form_name[f], o.p, o.threw, calls);
		if (o.p) {
			CHECK(kmm_ksize(o.p) >= block, "%s: usable %zu", form_name[f],
			      kmm_ksize(o.p));
			CHECK(f < ALIGNED || reinterpret_cast<uintptr_t>(o.p) % 4096 == 0,
			      "%s: %p not aligned", form_name[f], o.p);
			call_delete(f, o.p);
		}
		for (void *h : hoard)
			std::free(h);
		hoard.clear();
	}
}

int main()
{
#if defined(__SANITIZE_ADDRESS__)
	std::printf("skipped: AddressSanitizer replaces operator new in this build\n");
	return 77;
#endif
	hoard.reserve(256);
	test_no_handler();
	test_handler_removes_itself();
	test_handler_throws();
	test_handler_makes_room();
	std::printf("%s\n", failures ? "FAIL" : "ok");
	return failures ? 1 : 0;
}
