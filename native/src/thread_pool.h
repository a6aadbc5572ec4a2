// Persistent worker pool for the native kernels.
//
// One pool per process, sized to the machine's cores (LLMFORGE_THREADS overrides). Work is split into chunks
// that threads claim from an atomic counter (dynamic scheduling), so a core taken by another process slows the
// job down gracefully instead of stalling it at a barrier. Idle workers poll for the next job for up to 50 us
// (LLMFORGE_SPIN_US; pause + yield, so a busy machine's other threads still run) and then sleep on a condition
// variable; a job is posted without a futex wake-up when no worker sleeps.
#pragma once
#include <cstdint>
#include <functional>

namespace lf {

int num_threads();
void set_num_threads(int n);

// Calls fn(begin, end) over [0, n) in chunks of at most `grain` items, spread over the pool and the calling
// thread. Returns when every chunk is done. Runs inline when n <= grain, the pool has one thread, or the caller
// is itself inside a chunk of a parallel_for (nested calls run on the calling thread).
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace lf
