// imgbuild mount [--rw] [--upper DIR] [--pull POLICY] IMAGE MOUNTPOINT: mounts an image's layers
// with imgfs (pulling a missing image as `run` does), served by a background process; returns
// once the mount is ready. Read-only by default; --rw adds a writable upper (DIR, or one imgbuild
// creates and removes at umount). The mount is recorded under the store's mounts/ (a GC root: prune
// keeps the image). With no arguments, lists the active mounts (and drops records of mounts that
// are gone; reports unreadable records, exit status 1).
#include <cstdio>

#include "base/fs.h"
#include "cli/command.h"
#include "cli/image_common.h"
#include "cli/registry_progress.h"
#include "containers/image_pull.h"
#include "containers/lazy_mount.h"
#include "fs/mount.h"
#include "fs/mount_lifecycle.h"
#include "fs/mount_record.h"

namespace imgbuild::cli {
namespace {

struct MountArgs {
  bool rw = false;
  bool lazy = false;
  std::string upper;
  std::string pull = "missing";
  std::vector<std::string> insecure;  // --insecure-registry (with --lazy)
  std::string image;
  std::string mountpoint;
};

Result<int> list_mounts(const GlobalOptions& globals) {
  auto store = TRY(open_store(globals));
  auto list = TRY(fs::list_active_mounts(store));
  int rc = 0;
  // Its mount point is unknown, so it is never dropped as stale: it keeps its image from prune
  // until someone looks. Exit status 1, as for any error the listing hit.
  for (const auto& u : list.unreadable) {
    rc = report_error(u.error.with_context(
        "mount: unreadable record (its image is kept from prune; imgbuild umount MOUNTPOINT or "
        "deleting the file removes it)"));
  }
  std::printf("%-40s %-30s %-4s %s\n", "MOUNTPOINT", "IMAGE", "MODE", "PID");
  for (const auto& r : list.records) {
    std::printf("%-40s %-30s %-4s %d\n", r.mountpoint.c_str(), r.image.c_str(),
                r.upper.empty() ? "ro" : "rw", static_cast<int>(r.pid));
  }
  return rc;
}

Result<int> run_mount(const MountArgs& args, const GlobalOptions& globals) {
  if (args.image.empty()) return list_mounts(globals);
  if (args.mountpoint.empty()) {
    return fail(ErrorKind::kInvalidArgument,
                "mount: missing MOUNTPOINT (imgbuild mount IMAGE DIR)");
  }
  std::string mountpoint = fs::absolute(args.mountpoint);
  auto policy = TRY(containers::parse_pull_policy(args.pull));
  auto store = TRY(open_store(globals));
  TRY(fs::check_mount_target(store, mountpoint));
  fs::MountRecord record;
  fs::MountOptions options;
  {
    // Hold a lease until the GC root is written, so a concurrent prune cannot take the layers.
    auto lease = TRY(store.lease());
    RegistryProgress progress(stderr, ProgressOutput::kShown);
    image::Image image;
    if (args.lazy) {
      registry::ClientOptions client;
      client.progress = &progress;
      client.insecure_registries = args.insecure;
      auto lazy = TRY_CTX(containers::prepare_lazy_mount(store, args.image, client),
                          "mount --lazy " + args.image);
      image = lazy.image;
      containers::use_lazy_mount(lazy, options);
    } else {
      image = TRY_CTX(containers::ensure_image(store, args.image, policy, &progress), "mount");
      auto layers = TRY_CTX(store.prepare_layers(image), "mount " + args.image);
      options.lowers.assign(layers.rbegin(), layers.rend());
    }
    record.mountpoint = mountpoint;
    record.image = args.image;
    record.manifest = image.manifest_digest;
    if (args.rw || !args.upper.empty()) {
      TRY(fs::prepare_upper(store, record, args.upper));
      options.upper = record.upper;
    }
    TRY(fs::write_mount_record(store, record));
  }
  options.fsname = "imgbuild";
  TRY(fs::serve_recorded_mount(store, record, options));
  if (args.lazy) {
    // The lazy layers' indexes (held by the callbacks) are the server's now. Freeing them here
    // would write to every heap page this process shares with the fork, copying each one, for
    // nothing: this process exits next. Tens of milliseconds of a lazy mount's start.
    (void)new fs::MountOptions(std::move(options));
  }
  return 0;
}

}  // namespace

IMGBUILD_COMMAND(mount, Command{
                            .name = "mount",
                            .description = "Mount an image's filesystem (imgfs); list mounts",
                            .setup = [](CLI::App& sub, const GlobalOptions& globals) -> Runner {
                              auto args = std::make_shared<MountArgs>();
                              sub.add_flag("--rw", args->rw, "Writable (changes go to an upper)");
                              sub.add_option("--upper", args->upper,
                                             "Upper directory for changes (implies --rw)");
                              sub.add_flag("--lazy", args->lazy,
                                           "Mount a registry image before it has downloaded "
                                           "(eStargz layers: files fetched on first open)");
                              sub.add_option("--insecure-registry", args->insecure,
                                             "With --lazy: allow plain HTTP / unverified TLS "
                                             "for HOST[:PORT]");
                              sub.add_option("--pull", args->pull,
                                             "Pull the image: missing (default), always, never");
                              sub.add_option("IMAGE", args->image, "Image to mount");
                              sub.add_option("MOUNTPOINT", args->mountpoint, "Where to mount it");
                              return [args, &globals] {
                                auto r = run_mount(*args, globals);
                                if (!r) return report_error(r.error());
                                return *r;
                              };
                            },
                        });

}  // namespace imgbuild::cli
