// Persistent worker pool: see thread_pool.h.
#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LF_CPU_RELAX() _mm_pause()
#else
#define LF_CPU_RELAX() ((void)0)
#endif

namespace lf {
namespace {

// True on a thread while it runs chunks of a pool job: a parallel_for called from inside a chunk runs inline
// (the pool runs one job at a time, so waiting for it there would deadlock).
thread_local bool tl_in_job = false;

// How long an idle worker spins before sleeping: LLMFORGE_SPIN_US, default kDefaultSpinUs.
constexpr int kDefaultSpinUs = 50;
int spin_microseconds() {
  if (const char* env = std::getenv("LLMFORGE_SPIN_US")) return std::max(0, std::atoi(env));
  return kDefaultSpinUs;
}

struct Job {
  const std::function<void(int64_t, int64_t)>* fn = nullptr;
  int64_t n = 0;
  int64_t grain = 1;
  std::atomic<int64_t> next{0};
  std::atomic<int> active{0};  // workers still inside this job
};

class Pool {
 public:
  explicit Pool(int threads) { resize(threads); }
  ~Pool() { stop(); }

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void resize(int threads) {
    stop();
    threads = std::max(1, std::min(threads, 256));
    quit_ = false;
    for (int i = 0; i < threads - 1; ++i) workers_.emplace_back([this] { loop(); });
  }

  void run(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
    std::lock_guard<std::mutex> serial(run_mu_);  // one job at a time; JS calls are serial anyway
    Job job;
    job.fn = &fn;
    job.n = n;
    job.grain = grain;
    bool sleepers = false;
    {
      std::lock_guard<std::mutex> lk(mu_);
      job_ = &job;
      epoch_.fetch_add(1, std::memory_order_release);
      sleepers = sleepers_ > 0;
    }
    if (sleepers) cv_.notify_all();  // spinning workers see the epoch without a futex wake
    work(job);
    // Wait for workers that joined this job to leave it. Spin briefly, then yield.
    {
      std::unique_lock<std::mutex> lk(mu_);
      job_ = nullptr;  // late wakers will not join
    }
    for (int spins = 0; spins < 200; ++spins) {
      if (job.active.load(std::memory_order_acquire) == 0) return;
    }
    std::unique_lock<std::mutex> lk(mu_);
    done_cv_.wait(lk, [&] { return job.active.load(std::memory_order_acquire) == 0; });
  }

 private:
  static void work(Job& job) {
    tl_in_job = true;
    for (;;) {
      int64_t begin = job.next.fetch_add(job.grain, std::memory_order_relaxed);
      if (begin >= job.n) break;
      int64_t end = std::min(job.n, begin + job.grain);
      (*job.fn)(begin, end);
    }
    tl_in_job = false;
  }

  void loop() {
    uint64_t seen = 0;
    for (;;) {
      Job* job = nullptr;
      spin_for_job(seen);
      {
        std::unique_lock<std::mutex> lk(mu_);
        auto ready = [&] { return quit_ || (epoch_.load(std::memory_order_relaxed) != seen && job_ != nullptr); };
        if (!ready()) {
          ++sleepers_;
          cv_.wait(lk, ready);
          --sleepers_;
        }
        if (quit_) return;
        seen = epoch_.load(std::memory_order_relaxed);
        job = job_;
        job->active.fetch_add(1, std::memory_order_acq_rel);
      }
      work(*job);
      if (job->active.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lk(mu_);  // pairs with the waiter's predicate check
        done_cv_.notify_all();
      }
    }
  }

  // Polls up to spin_us_ for a new job before the worker goes to sleep: a futex wake-up costs tens of
  // microseconds, comparable to a whole small GEMM, and training steps issue parallel jobs back to back. Between
  // short bursts of pause instructions the worker yields, so on a busy machine the spin gives way to runnable
  // threads (ours or other processes') rather than taking a core from them.
  void spin_for_job(uint64_t seen) const {
    if (spin_us_ <= 0) return;
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(spin_us_);
    for (;;) {
      for (int i = 0; i < 32; ++i) {
        if (epoch_.load(std::memory_order_acquire) != seen) return;
        LF_CPU_RELAX();
      }
      if (std::chrono::steady_clock::now() >= until) return;
      std::this_thread::yield();  // on a busy machine, give the core to a runnable thread instead of burning it
    }
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  std::mutex run_mu_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable done_cv_;
  std::vector<std::thread> workers_;
  Job* job_ = nullptr;
  std::atomic<uint64_t> epoch_{0};
  int sleepers_ = 0;  // workers waiting on cv_ (guarded by mu_)
  bool quit_ = false;
  const int spin_us_ = spin_microseconds();
};

int default_threads() {
  if (const char* env = std::getenv("LLMFORGE_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

Pool& pool() {
  static Pool p(default_threads());
  return p;
}

}  // namespace

int num_threads() { return pool().size(); }

void set_num_threads(int n) { pool().resize(n); }

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  if (n <= grain || tl_in_job || pool().size() == 1) {
    fn(0, n);
    return;
  }
  pool().run(n, grain, fn);
}

}  // namespace lf
