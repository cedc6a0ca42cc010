// COPY, ADD and WORKDIR: layers produced directly from their sources, no container.
#include <algorithm>
#include <cctype>

#include "base/fs.h"
#include "base/sha256.h"
#include "base/sys.h"
#include "builder/copy_op.h"
#include "builder/stage_builder.h"
#include "builder/url_fetch.h"

namespace imgbuild::builder {

namespace df = dockerfile;

Status StageBuilder::copy_step(const df::Instruction& ins, size_t index, bool onbuild) {
  const auto* cp = ins.get<df::CopyInstr>();
  KeyInputs inputs;
  inputs.parent = st_.key;
  inputs.instruction = df::describe(ins);

  // Where the sources come from.
  const StageResult* from_stage = nullptr;
  std::optional<image::Image> from_image;
  if (!cp->from.empty()) {
    std::optional<size_t> stage_index;
    bool planned = false;
    if (!onbuild) {
      size_t raw = index - 1 - onbuild_count_;
      for (const auto& ref : stage_.copy_from) {
        if (ref.instruction == raw) {
          planned = true;
          stage_index = ref.stage;
        }
      }
    }
    if (!planned) {
      std::string lower = cp->from;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      for (const auto& ps : s_.plan.stages) {
        if (ps.name == lower && ps.index < stage_.index) stage_index = ps.index;
      }
    }
    if (stage_index) {
      from_stage = s_.result(*stage_index);
      if (from_stage == nullptr) {
        return fail(ErrorKind::kInternal, "stage " + cp->from + " has not been built");
      }
      inputs.extra = "stage " + from_stage->key;
    } else {
      auto img = s_.image(cp->from);
      if (!img) {
        return std::unexpected(img.error().with_context("--from=" + cp->from));
      }
      from_image = std::move(*img);
      inputs.extra = "image " + from_image->manifest_digest.str();
    }
  }

  CopyOptions options;
  options.sources = cp->sources;
  options.dest = cp->dest;
  options.workdir = st_.config.config.working_dir.empty() ? "/" : st_.config.config.working_dir;
  options.parents = cp->parents;
  options.excludes = cp->excludes;
  options.extract_archives =
      cp->is_add && cp->unpack.value_or(true) && from_stage == nullptr && !from_image;
  if (!cp->chmod.empty()) options.chmod = TRY(parse_chmod(cp->chmod));

  bool urls = false;
  for (const auto& src : cp->sources) urls = urls || is_url(src);
  if (urls && !cp->is_add) {
    return fail(ErrorKind::kInvalidArgument, "source can't be a URL for COPY");
  }

  // Sources that are not in the context proper (heredocs, URLs) are materialised in a temp dir
  // that then serves as the source tree.
  std::optional<fs::TempDir> extra_dir;
  std::optional<BuildContext> extra_ctx;
  if (!cp->inline_sources.empty() || urls) {
    extra_dir = TRY(s_.store.make_staging_dir("sources"));
    options.sources.clear();
    for (const auto& f : cp->inline_sources) {
      std::string path = fs::join(extra_dir->path(), f.name);
      TRY(fs::write_file_atomic(path, f.data, 0644));
      options.sources.push_back(f.name);
    }
    for (const auto& src : cp->sources) {
      if (!is_url(src)) {
        return fail(ErrorKind::kUnsupported,
                    "mixing URLs or heredocs with context files in one instruction");
      }
      auto fetched = TRY(fetch_url(src, extra_dir->path(), cp->checksum));
      options.sources.push_back(fetched.name);
    }
    options.extract_archives = false;  // ADD never extracts downloaded archives
    static const IncludeAll kAll;
    extra_ctx = TRY(BuildContext::open(extra_dir->path(), kAll, ""));
  }

  std::unique_ptr<SourceTree> tree;
  std::unique_ptr<LayerView> from_view;
  BuildContext* ctx = nullptr;
  if (extra_ctx) {
    ctx = &*extra_ctx;
    tree = std::make_unique<ContextTree>(*ctx);
  } else if (from_stage == nullptr && !from_image) {
    ctx = TRY(s_.context());
    tree = std::make_unique<ContextTree>(*ctx);
  }
  if (ctx != nullptr) {
    std::unique_lock lock(s_.context_mutex(), std::defer_lock);
    if (!extra_ctx) lock.lock();
    auto selected = TRY(select_sources(*tree, options));
    for (const auto& sel : selected) {
      auto resolved = TRY(ContextTree(*ctx).stat(sel.path, true));
      for (auto& d : TRY(ctx->digests(resolved ? resolved->path : sel.path))) {
        inputs.files.push_back(
            EntryDigest{sel.path + (d.path.empty() ? "" : "/" + d.path), std::move(d.digest)});
      }
    }
  }

  auto produce = [&](const std::string& staging, int) -> Status {
    auto lowers = TRY(lowers_top_first());
    LayerView current(lowers);
    if (!cp->chown.empty()) options.chown = TRY(resolve_chown(cp->chown, current));
    LayerView empty({});
    const LayerView& dest_view = cp->link ? empty : current;
    if (tree) return copy_into_layer(*tree, options, dest_view, staging);
    std::vector<std::string> src_dirs;
    std::string name;
    if (from_stage != nullptr) {
      src_dirs = TRY(s_.layer_dirs(from_stage->layers));
      name = "stage " + cp->from;
    } else {
      src_dirs = TRY(s_.store.prepare_layers(*from_image));
      name = "image " + cp->from;
    }
    std::reverse(src_dirs.begin(), src_dirs.end());
    LayerView source_view(src_dirs);
    ImageTree image_tree(source_view, name);
    return copy_into_layer(image_tree, options, dest_view, staging);
  };
  std::string created_by = df::describe(ins) + " # buildkit";
  return layer_step(index, step_title(ins, index), inputs, created_by, produce);
}

Status StageBuilder::workdir_step(const df::Instruction& ins, size_t index) {
  std::string path = ins.get<df::WorkdirInstr>()->path;
  if (!path.starts_with('/')) {
    std::string base = st_.config.config.working_dir.empty() ? "/" : st_.config.config.working_dir;
    path = base + "/" + path;
  }
  auto parts = image_path_parts(path);
  std::string clean = "/";
  for (size_t i = 0; i < parts.size(); ++i) clean += (i ? "/" : "") + parts[i];
  st_.config.config.working_dir = clean;
  KeyInputs inputs;
  inputs.parent = st_.key;
  inputs.instruction = "WORKDIR " + clean;
  inputs.extra = "user=" + st_.config.config.user;
  std::string user = st_.config.config.user;
  auto produce = [&](const std::string& staging, int) -> Status {
    if (clean == "/") return {};
    auto lowers = TRY(lowers_top_first());
    LayerView current(lowers);
    auto found = TRY(current.lookup(clean, true));
    if (found && S_ISDIR(found->st.st_mode)) return {};
    std::optional<Owner> owner;
    if (!user.empty()) owner = TRY(resolve_chown(user, current));
    return ensure_layer_dir(current, staging, clean, owner);
  };
  return layer_step(index, step_title(ins, index), inputs, "WORKDIR " + clean, produce);
}

}  // namespace imgbuild::builder
