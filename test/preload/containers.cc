// C++17 container workload for test/preload/cxx.sh.
//
// Exercises operator new/delete (plain, sized, array, over-aligned) through
// the standard containers, smart pointers, exceptions and threads, and prints
// only deterministic results: sizes, checksums, and a count of over-aligned
// objects that came back misaligned (must be 0).  A glibc run and a run with
// an LD_PRELOADed malloc must print exactly the same.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <exception>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <queue>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace {

// Over-aligned objects that came back misaligned, by alignment (64, 256, 4096).
std::atomic<unsigned long> misaligned[3];

template <typename T> void check_align(const T *p, std::size_t align)
{
	if (reinterpret_cast<std::uintptr_t>(p) % align != 0)
		misaligned[align == 64	  ? 0
			   : align == 256 ? 1
					  : 2]
			.fetch_add(1, std::memory_order_relaxed);
}

// FNV-1a over bytes, for order-sensitive checksums.
struct Hash {
	std::uint64_t h = 1469598103934665603ull;
	void bytes(const void *p, std::size_t n)
	{
		const unsigned char *c = static_cast<const unsigned char *>(p);
		for (std::size_t i = 0; i < n; i++)
			h = (h ^ c[i]) * 1099511628211ull;
	}
	void add(std::uint64_t v)
	{
		bytes(&v, sizeof v);
	}
	void add(const std::string &s)
	{
		add(s.size());
		bytes(s.data(), s.size());
	}
};

std::string word(std::mt19937 &rng, int lo, int hi)
{
	std::uniform_int_distribution<int> len(lo, hi), ch('a', 'z');
	std::string s;
	int n = len(rng);
	for (int i = 0; i < n; i++)
		s.push_back(static_cast<char>(ch(rng)));
	return s;
}

struct alignas(64) Line {
	std::uint64_t v[8];
	explicit Line(std::uint64_t x = 0)
	{
		for (int i = 0; i < 8; i++)
			v[i] = x * 31 + i;
	}
};

struct alignas(256) Block {
	unsigned char data[1000];
	std::uint64_t tag;
};

struct alignas(4096) Page {
	unsigned char data[4096 * 2];
};

struct Shape {
	virtual ~Shape() = default;
	virtual std::uint64_t area() const = 0;
	std::string name;
};
struct Rect : Shape {
	std::uint64_t w, h;
	Rect(std::uint64_t a, std::uint64_t b) : w(a), h(b)
	{
		name = "rect" + std::to_string(a);
	}
	std::uint64_t area() const override
	{
		return w * h;
	}
};
struct Tri : Shape {
	std::uint64_t b, h;
	std::vector<std::uint64_t> extra;
	Tri(std::uint64_t x, std::uint64_t y) : b(x), h(y), extra(x % 50, y)
	{
		name = "tri";
	}
	std::uint64_t area() const override
	{
		return b * h / 2 + extra.size();
	}
};

// Every container kind, built and torn down; returns a checksum.  Each thread
// runs it with its own seed, so the result depends only on the seed.
std::uint64_t containers(unsigned seed, int scale)
{
	std::mt19937 rng(seed);
	Hash hs;

	// vector and string growth, insert and erase in the middle
	std::vector<std::string> vs;
	for (int i = 0; i < 30000 * scale; i++) {
		vs.push_back(word(rng, 0, 40));
		if (i % 7 == 0 && !vs.empty())
			vs.erase(vs.begin() + static_cast<long>(rng() % vs.size()));
		if (i % 11 == 0)
			vs.insert(vs.begin() + static_cast<long>(rng() % (vs.size() + 1)),
				  std::string(i % 300, 'q'));
	}
	std::sort(vs.begin(), vs.end());
	for (std::size_t i = 0; i < vs.size(); i += 97)
		hs.add(vs[i]);
	std::string big;
	for (const auto &s : vs) {
		big += s;
		big += ',';
	}
	big.shrink_to_fit();
	hs.add(big.size());
	hs.bytes(big.data(), big.size());

	// map and unordered_map of strings to vectors; erase half, re-insert
	std::map<std::string, std::vector<int>> m;
	std::unordered_map<std::string, std::string> um;
	for (int i = 0; i < 20000 * scale; i++) {
		std::string k = word(rng, 1, 8);
		m[k].push_back(i);
		um[k + std::to_string(i % 100)] += k;
	}
	for (auto it = m.begin(); it != m.end();)
		it = (it->second.size() % 2) ? m.erase(it) : std::next(it);
	for (int i = 0; i < 5000; i++)
		m.emplace(word(rng, 9, 12), std::vector<int>(static_cast<std::size_t>(i % 64), i));
	for (const auto &kv : m) {
		hs.add(kv.first);
		hs.add(kv.second.size());
	}
	std::vector<std::string> ukeys;
	for (const auto &kv : um)
		ukeys.push_back(kv.first + "=" + kv.second);
	std::sort(ukeys.begin(), ukeys.end());
	for (const auto &k : ukeys)
		hs.add(k);
	um.rehash(1 << 16);
	um.clear();
	um.rehash(0);

	// list splicing and sorting, deque at both ends, sets, priority queue
	std::list<std::uint64_t> l1, l2;
	for (int i = 0; i < 40000; i++)
		(i % 3 ? l1 : l2).push_back(rng() % 100000);
	l1.sort();
	l2.sort();
	l1.merge(l2);
	l1.unique();
	l1.remove_if([](std::uint64_t v) { return v % 5 == 0; });
	hs.add(l1.size());
	hs.add(std::accumulate(l1.begin(), l1.end(), std::uint64_t{ 0 }));
	std::deque<std::string> dq;
	for (int i = 0; i < 60000; i++) {
		if (i % 3 == 0)
			dq.push_front(std::to_string(i));
		else
			dq.push_back(word(rng, 0, 20));
		if (i % 5 == 0)
			dq.pop_front();
		if (i % 7 == 0 && !dq.empty())
			dq.pop_back();
	}
	for (std::size_t i = 0; i < dq.size(); i += 31)
		hs.add(dq[i]);
	std::set<std::uint64_t> st;
	std::unordered_set<std::uint64_t> ust;
	std::priority_queue<std::uint64_t> pq;
	for (int i = 0; i < 50000; i++) {
		std::uint64_t v = rng();
		st.insert(v % 70000);
		ust.insert(v % 90000);
		pq.push(v);
	}
	hs.add(st.size());
	hs.add(ust.size());
	for (int i = 0; i < 1000; i++) {
		hs.add(pq.top());
		pq.pop();
	}

	// shared_ptr / weak_ptr graphs, unique_ptr of polymorphic objects
	std::vector<std::shared_ptr<std::vector<std::uint64_t>>> shared;
	std::vector<std::weak_ptr<std::vector<std::uint64_t>>> weak;
	for (int i = 0; i < 20000; i++) {
		auto p = (i % 2) ? std::make_shared<std::vector<std::uint64_t>>(i % 100, i)
				 : std::shared_ptr<std::vector<std::uint64_t>>(
					   new std::vector<std::uint64_t>(i % 37, i));
		weak.push_back(p);
		if (i % 3)
			shared.push_back(p);
		if (i % 5 == 0 && !shared.empty())
			shared.push_back(shared[rng() % shared.size()]);
	}
	shared.erase(shared.begin(), shared.begin() + static_cast<long>(shared.size() / 3));
	std::uint64_t alive = 0;
	for (auto &w : weak)
		if (auto p = w.lock())
			alive += p->size() + static_cast<std::uint64_t>(p.use_count());
	hs.add(alive);
	std::vector<std::unique_ptr<Shape>> shapes;
	for (int i = 0; i < 30000; i++) {
		if (i % 2)
			shapes.push_back(std::make_unique<Rect>(i, i % 13));
		else
			shapes.push_back(std::make_unique<Tri>(i, i % 17));
	}
	std::stable_sort(shapes.begin(), shapes.end(),
			 [](const auto &a, const auto &b) { return a->area() < b->area(); });
	for (std::size_t i = 0; i < shapes.size(); i += 101) {
		hs.add(shapes[i]->area());
		hs.add(shapes[i]->name);
	}

	// over-aligned objects: new, new[], make_unique, vectors of them
	std::vector<std::unique_ptr<Line>> lines;
	for (int i = 0; i < 5000; i++) {
		lines.push_back(std::make_unique<Line>(i));
		check_align(lines.back().get(), 64);
	}
	auto *arr = new Line[333];
	check_align(arr, 64);
	std::vector<Line> lv(1000, Line(7));
	check_align(lv.data(), 64);
	for (int i = 0; i < 2000; i++)
		lv.emplace_back(i);
	check_align(lv.data(), 64);
	std::vector<std::unique_ptr<Block>> blocks;
	for (int i = 0; i < 300; i++) {
		blocks.push_back(std::make_unique<Block>());
		blocks.back()->tag = static_cast<std::uint64_t>(i);
		blocks.back()->data[i] = 1;
		check_align(blocks.back().get(), 256);
	}
	for (int i = 0; i < 20; i++) {
		auto pg = std::make_unique<Page>();
		check_align(pg.get(), 4096);
		pg->data[sizeof pg->data - 1] = static_cast<unsigned char>(i);
		hs.add(pg->data[sizeof pg->data - 1]);
	}
	std::uint64_t lsum = 0;
	for (const auto &p : lines)
		lsum += p->v[3];
	for (int i = 0; i < 333; i++)
		lsum += arr[i].v[7];
	for (const auto &x : lv)
		lsum += x.v[1];
	for (const auto &b : blocks)
		lsum += b->tag;
	delete[] arr;
	hs.add(lsum);

	// exceptions: thrown from deep frames, with allocated messages, nested
	std::uint64_t caught = 0;
	std::function<void(int)> thrower = [&](int d) {
		std::vector<std::string> garbage(static_cast<std::size_t>(d % 5), "x");
		if (d == 0)
			throw std::runtime_error("depth reached after " +
						 std::to_string(garbage.size()));
		if (d % 17 == 0)
			throw std::out_of_range(std::string(static_cast<std::size_t>(d), 'o'));
		thrower(d - 1);
	};
	for (int i = 0; i < 3000; i++) {
		try {
			try {
				thrower(i % 40);
			} catch (const std::out_of_range &e) {
				caught += std::string(e.what()).size();
				std::throw_with_nested(std::logic_error("wrapped"));
			}
		} catch (const std::logic_error &e) {
			try {
				std::rethrow_if_nested(e);
			} catch (const std::exception &inner) {
				caught += 1000 + std::string(inner.what()).size();
			}
		} catch (const std::runtime_error &e) {
			caught += std::string(e.what()).size();
		}
	}
	hs.add(caught);

	// stringstream formatting
	std::ostringstream os;
	for (int i = 0; i < 20000; i++)
		os << i << ':' << (i * 0.25) << ' ' << std::hex << i << std::dec << '\n';
	std::string out = os.str();
	hs.add(out);
	return hs.h;
}

// Objects allocated in one thread and freed in another.
std::uint64_t producer_consumer()
{
	std::mutex mu;
	std::condition_variable cv;
	std::queue<std::unique_ptr<std::vector<std::uint64_t>>> q;
	bool done = false;
	std::uint64_t sum = 0;
	std::thread consumer([&] {
		for (;;) {
			std::unique_lock<std::mutex> lk(mu);
			cv.wait(lk, [&] { return !q.empty() || done; });
			if (q.empty())
				return;
			auto v = std::move(q.front());
			q.pop();
			lk.unlock();
			sum += std::accumulate(v->begin(), v->end(), std::uint64_t{ 0 });
			// v freed here, in the consumer thread
		}
	});
	for (int i = 0; i < 30000; i++) {
		auto v = std::make_unique<std::vector<std::uint64_t>>(
			static_cast<std::size_t>(i % 300 + 1), static_cast<std::uint64_t>(i));
		{
			std::lock_guard<std::mutex> lk(mu);
			q.push(std::move(v));
		}
		cv.notify_one();
	}
	{
		std::lock_guard<std::mutex> lk(mu);
		done = true;
	}
	cv.notify_one();
	consumer.join();
	return sum;
}

} // namespace

int main(int argc, char **argv)
{
	int scale = argc > 1 ? std::atoi(argv[1]) : 1;
	const int nthreads = 4;

	std::printf("single %016llx\n", static_cast<unsigned long long>(containers(1, scale)));

	std::vector<std::uint64_t> results(nthreads);
	std::vector<std::exception_ptr> errors(nthreads);
	std::vector<std::thread> threads;
	for (int t = 0; t < nthreads; t++)
		threads.emplace_back([&, t] {
			try {
				results[static_cast<std::size_t>(t)] =
					containers(100u + static_cast<unsigned>(t), scale);
				throw std::runtime_error("thread " + std::to_string(t) +
							 " finished");
			} catch (...) {
				errors[static_cast<std::size_t>(t)] = std::current_exception();
			}
		});
	for (auto &th : threads)
		th.join();
	for (int t = 0; t < nthreads; t++) {
		std::printf("thread %d %016llx", t,
			    static_cast<unsigned long long>(results[static_cast<std::size_t>(t)]));
		try {
			std::rethrow_exception(errors[static_cast<std::size_t>(t)]);
		} catch (const std::exception &e) {
			std::printf(" (%s)\n", e.what());
		}
	}
	std::printf("producer/consumer %llu\n",
		    static_cast<unsigned long long>(producer_consumer()));
	unsigned long bad = misaligned[0] + misaligned[1] + misaligned[2];
	std::printf("misaligned %lu (alignas 64: %lu, 256: %lu, 4096: %lu)\n", bad,
		    misaligned[0].load(), misaligned[1].load(), misaligned[2].load());
	return bad == 0 ? 0 : 1;
}
