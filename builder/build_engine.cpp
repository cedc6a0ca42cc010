#include "builder/build_engine.h"

#include <thread>

#include "base/fs.h"
#include "builder/build_session.h"
#include "builder/cache_inline.h"
#include "builder/dockerfile/parser.h"
#include "builder/stage_builder.h"
#include "image/media_types.h"

namespace imgbuild::builder {

namespace df = dockerfile;

namespace {

Result<df::PlatformArgs> platform_args(const image::Platform& p) {
  df::PlatformArgs args = df::host_platform();
  args.target_os = p.os;
  args.target_arch = p.architecture;
  args.target_variant = p.variant;
  return args;
}

}  // namespace

Result<BuildResult> build_image(const image::Store& store, const BuildOptions& options,
                                StepRunner& runner, Progress& progress) {
  // Everything that can be checked before work starts is checked first.
  std::vector<image::Reference> tags;
  for (const auto& t : options.tags) tags.push_back(TRY(image::Reference::parse(t)));
  image::Platform platform = image::Platform::host();
  if (!options.platform.empty()) platform = TRY(image::Platform::parse(options.platform));
  if (!fs::is_dir(options.context_dir)) {
    return fail(ErrorKind::kNotFound,
                "build context \"" + options.context_dir + "\" is not a directory");
  }

  auto parsed = TRY(df::parse_dockerfile(options.dockerfile_text, options.dockerfile_name));
  df::PlanOptions plan_options;
  plan_options.target = options.target;
  plan_options.build_args = options.build_args;
  plan_options.platform = TRY(platform_args(platform));
  df::BuildPlan plan = TRY(df::make_build_plan(parsed, plan_options));
  for (const auto& w : plan.warnings) progress.note(w);

  // A lease keeps a concurrent prune from collecting what this build writes before it is tagged.
  image::Store::Lease lease = TRY(store.lease());
  BuildSession session(store, options, runner, progress, plan);
  session.platform = platform;
  session.context_abs = fs::absolute(options.context_dir);

  // Every stage, wave by wave (the stages of one wave in parallel threads).
  auto run_waves = [&]() -> Status {
    for (const auto& wave : plan.waves) {
      std::vector<std::optional<Error>> errors(wave.size());
      auto run_stage = [&](size_t slot) {
        const df::PlanStage& stage = plan.stages[wave[slot]];
        auto result = StageBuilder(session, stage).run();
        if (!result) {
          errors[slot] = result.error();
          return;
        }
        session.set_result(stage.index, std::move(*result));
      };
      if (wave.size() == 1) {
        run_stage(0);
      } else {
        std::vector<std::thread> threads;
        for (size_t i = 0; i < wave.size(); ++i) threads.emplace_back(run_stage, i);
        for (auto& t : threads) t.join();
      }
      for (auto& e : errors) {
        if (e) return std::unexpected(*e);
      }
    }
    return {};
  };
  Status built = run_waves();
  // A registry cache layer that could not be fetched (gone, unreachable, or failing its digest)
  // is forgotten, so its records miss: the build runs again (the other hits stay hits) and those
  // steps execute. Each round forgets at least one layer; a few rounds are plenty.
  for (int round = 0; round < 3 && !built && session.take_remote_dropped(); ++round) {
    progress.note("[Warning] " + built.error().message() +
                  "; building again without those cache records");
    built = run_waves();
  }
  if (!built) {
    (void)session.save_context_index();
    return std::unexpected(built.error());
  }
  TRY(session.save_context_index());

  const StageResult* final_stage = session.result(plan.stages[plan.target].index);
  if (final_stage == nullptr) return fail(ErrorKind::kInternal, "target stage was not built");
  image::ImageConfig config = final_stage->config;
  for (const auto& [k, v] : options.labels) config.config.labels[k] = v;
  config.created =
      options.source_date_epoch
          ? session.now_created()
          : (final_stage->last_created.empty() ? session.now_created() : final_stage->last_created);
  if (config.architecture.empty()) config.architecture = platform.architecture;
  if (config.os.empty()) config.os = platform.os;
  config.extra.erase(std::string(kInlineCacheKey));
  if (options.inline_cache) {
    std::vector<CacheRecord> records;
    for (const auto& key : final_stage->record_keys) {
      if (auto r = session.cache.lookup(key)) records.push_back(std::move(*r));
    }
    config.extra[std::string(kInlineCacheKey)] = make_inline_cache(records, config.diff_ids);
  }
  std::vector<image::Descriptor> layers;
  for (const auto& l : final_stage->layers) layers.push_back(l.blob);
  auto committed = TRY_CTX(store.commit_image(config, layers), "committing the image");
  for (const auto& ref : tags) {
    TRY_CTX(store.tag(ref, committed.manifest_digest, committed.manifest_size,
                      image::media_types::kOciManifest),
            "tagging " + ref.familiar());
  }
  BuildResult result;
  result.image_id = committed.config_digest;
  result.manifest_digest = committed.manifest_digest;
  result.manifest_size = committed.manifest_size;
  result.tags = tags;
  result.steps_cached = session.steps_cached;
  result.steps_executed = session.steps_executed;
  result.target_record_keys = final_stage->record_keys;
  for (const auto& stage : plan.stages) {
    if (const StageResult* r = session.result(stage.index)) {
      result.all_record_keys.insert(result.all_record_keys.end(), r->record_keys.begin(),
                                    r->record_keys.end());
    }
  }
  return result;
}

}  // namespace imgbuild::builder
