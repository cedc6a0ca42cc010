// Internal to the build engine: the state one build shares between its stages (the store, the
// options, the plan, the cache, the lazily opened context, finished stage results), and the
// result of one stage. Stages of one wave run on different threads: everything mutable here is
// guarded by a mutex or atomic; a StageResult is written once by its stage and only read after
// that stage's wave has finished.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "builder/build_cache.h"
#include "builder/build_context.h"
#include "builder/build_engine.h"
#include "builder/context_filter.h"
#include "builder/dockerfile/build_plan.h"
#include "builder/layer_commit.h"
#include "image/image_config.h"

namespace imgbuild::builder {

struct StageResult {
  image::ImageConfig config;
  std::vector<LayerRef> layers;          // bottom first, parallel to config.diff_ids
  std::string key;                       // cache key after the stage's last instruction
  dockerfile::EnvList env;               // final ENV, seeds `FROM <this stage>`
  std::string last_created;              // timestamp for history entries of metadata steps
  std::vector<std::string> record_keys;  // cache records of its layer steps (and its base stage's)
};

class BuildSession {
 public:
  BuildSession(const image::Store& store_in, const BuildOptions& options_in, StepRunner& runner_in,
               Progress& progress_in, const dockerfile::BuildPlan& plan_in)
      : store(store_in),
        options(options_in),
        runner(runner_in),
        progress(progress_in),
        plan(plan_in),
        cache(store_in) {}

  const image::Store& store;
  const BuildOptions& options;
  StepRunner& runner;
  Progress& progress;
  const dockerfile::BuildPlan& plan;
  BuildCache cache;
  image::Platform platform;
  std::string context_abs;
  std::atomic<int> steps_cached{0};
  std::atomic<int> steps_executed{0};

  // The context, walked on first use. Callers that hash must hold context_mutex().
  Result<BuildContext*> context();
  std::mutex& context_mutex() { return context_mu_; }
  Status save_context_index();

  // Unpacked directories of layers, bottom first; extracts any that are missing and fetches
  // those a registry cache hit left on the registry. When such a fetch fails, those layers are
  // forgotten (their records miss from now on) and take_remote_dropped() says so once.
  Result<std::vector<std::string>> layer_dirs(const std::vector<LayerRef>& layers) const;
  bool take_remote_dropped() const { return remote_dropped_.exchange(false); }
  // An image from the store, pulled when missing and a pull function was given.
  Result<image::Image> image(const std::string& name);

  // Creation time for new history entries: SOURCE_DATE_EPOCH when set, else now.
  std::string now_created() const;

  void set_result(size_t dockerfile_index, StageResult result);
  const StageResult* result(size_t dockerfile_index) const;

 private:
  std::mutex context_mu_;
  std::optional<BuildContext> context_;
  std::unique_ptr<ContextFilter> filter_;
  std::mutex image_mu_;
  mutable std::mutex results_mu_;
  std::map<size_t, std::unique_ptr<StageResult>> results_;
  mutable std::atomic<bool> remote_dropped_{false};
};

}  // namespace imgbuild::builder
