// Persistent worker pool: see thread_pool.h.
#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace lf {
namespace {

// True on a thread while it runs chunks of a pool job: a parallel_for called from inside a chunk runs inline
// (the pool runs one job at a time, so waiting for it there would deadlock).
thread_local bool tl_in_job = false;

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
    {
      std::lock_guard<std::mutex> lk(mu_);
      job_ = &job;
      ++epoch_;
    }
    cv_.notify_all();
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
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return quit_ || (epoch_ != seen && job_ != nullptr); });
        if (quit_) return;
        seen = epoch_;
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
  uint64_t epoch_ = 0;
  bool quit_ = false;
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
