// imgbuild commit [-a AUTHOR] [-m MESSAGE] CONTAINER [REPOSITORY[:TAG]]: a new image from a
// container's changes, as `docker commit`. The container's upper directory becomes one layer
// through the code a build's RUN step commits with (builder/layer_commit.h); the new image keeps
// the base image's config, with a history entry for the layer. Prints the new image ID.
#include <cstdio>

#include "base/fs.h"
#include "base/subprocess.h"
#include "builder/layer_commit.h"
#include "cli/command.h"
#include "cli/container_state.h"
#include "image/reference.h"

namespace imgbuild::cli {
namespace {

struct CommitArgs {
  std::string container, ref, author, message;
};

std::string joined(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& a : args) out += (out.empty() ? "" : " ") + a;
  return out;
}

Result<image::Digest> commit(const image::Store& store, const CommitArgs& a) {
  std::optional<image::Reference> ref;
  if (!a.ref.empty()) ref = TRY(image::Reference::parse(a.ref));
  ContainerRecord record = TRY(find_record(store, a.container));
  auto lease = TRY(store.lease());
  image::Image base = TRY(store.load_image(TRY(image::Digest::parse(record.manifest_digest))));

  // commit_layer_dir moves its directory into the store: it gets a copy of the upper, which the
  // container keeps. cp -a keeps owners, modes, times, xattrs, links and the whiteout files.
  fs::TempDir staging = TRY(store.make_staging_dir("commit"));
  std::string upper = fs::join(container_dir(store, record.id), "upper");
  auto copied = TRY(run_process({"cp", "-a", upper + "/.", staging.path() + "/"}));
  if (copied.exit_code != 0) {
    return fail(ErrorKind::kIo, "copying " + upper + ": " + copied.err);
  }
  image::ImageConfig config = base.config;
  std::vector<image::Descriptor> layers = base.manifest.layers;
  image::HistoryEntry history;
  history.created = image::rfc3339_now();
  history.created_by = joined(record.spec.args);
  history.author = a.author;
  history.comment = a.message;
  if (TRY(builder::dir_is_empty(staging.path()))) {
    history.empty_layer = true;
  } else {
    builder::LayerRef layer = TRY(builder::commit_layer_dir(store, staging.path(), std::nullopt));
    staging.release();  // adopted into layers/
    config.diff_ids.push_back(layer.diff_id);
    layers.push_back(layer.blob);
  }
  config.created = history.created;
  if (!a.author.empty()) config.author = a.author;
  config.history.push_back(history);
  image::CommittedImage committed = TRY(store.commit_image(config, layers));
  if (ref) TRY(store.tag(*ref, committed.manifest_digest, committed.manifest_size));
  return committed.config_digest;
}

Runner setup(CLI::App& sub, const GlobalOptions& globals) {
  auto args = std::make_shared<CommitArgs>();
  sub.add_option("-a,--author", args->author, "Author (e.g. \"Jane <jane@example.com>\")");
  sub.add_option("-m,--message", args->message, "Commit message");
  sub.add_option("CONTAINER", args->container, "Container")->required();
  sub.add_option("REPOSITORY", args->ref, "Name (and tag) for the new image");
  return [=, &globals]() -> int {
    auto store = image::Store::open(globals.root);
    if (!store) return report_error(store.error());
    auto id = commit(*store, *args);
    if (!id) return report_error(id.error().with_context("commit " + args->container));
    std::printf("%s\n", id->str().c_str());
    return 0;
  };
}

}  // namespace

IMGBUILD_COMMAND(commit, Command{
                             .name = "commit",
                             .description = "Create a new image from a container's changes",
                             .setup = setup,
                         });

}  // namespace imgbuild::cli
