// Running independent jobs on a few threads: job(k) for k in [0, count), on at most max_threads
// threads (the calling thread is one of them), each job taken once from a shared counter.
// Returns the error of the lowest-numbered job that failed, after every job has run; so the
// error a caller reports does not depend on thread timing. job must be safe to call concurrently
// for different k.
#pragma once

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>
#include <vector>

#include "base/error.h"

namespace imgbuild {

template <class Job>
Status for_each_parallel(size_t count, size_t max_threads, Job job) {
  std::atomic<size_t> next{0};
  std::vector<std::optional<Error>> errors(count);
  auto worker = [&] {
    for (size_t k = next++; k < count; k = next++) {
      if (Status st = job(k); !st) errors[k] = std::move(st.error());
    }
  };
  size_t nthreads = std::min(max_threads, count);
  std::vector<std::thread> threads;
  for (size_t t = 1; t < nthreads; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  for (auto& e : errors) {
    if (e) return fail(std::move(*e));
  }
  return {};
}

}  // namespace imgbuild
