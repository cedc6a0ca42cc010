// imgbuild umount MOUNTPOINT: unmounts an imgfs mount and waits for its server to exit; also
// cleans up a mount whose server was killed (detaching it and aborting the FUSE connection).
// Removes the mount's record (and the upper imgbuild created for it), even an unreadable one.
#include "base/fs.h"
#include "cli/command.h"
#include "cli/image_common.h"
#include "fs/mount_lifecycle.h"

namespace imgbuild::cli {
namespace {

Result<int> run_umount(const std::string& target, const GlobalOptions& globals) {
  auto store = TRY(open_store(globals));
  auto outcome = TRY(fs::unmount_recorded(store, fs::absolute(target)));
  if (outcome.removed_unreadable) {
    print_warning("[Warning] umount: removing unreadable " + outcome.removed_unreadable->message());
  }
  return 0;
}

}  // namespace

IMGBUILD_COMMAND(umount, Command{
                             .name = "umount",
                             .description = "Unmount an image mounted with imgbuild mount",
                             .setup = [](CLI::App& sub, const GlobalOptions& globals) -> Runner {
                               auto target = std::make_shared<std::string>();
                               sub.add_option("MOUNTPOINT", *target, "The mount point")->required();
                               return [target, &globals] {
                                 auto r = run_umount(*target, globals);
                                 if (!r) return report_error(r.error());
                                 return *r;
                               };
                             },
                             .aliases = {"unmount"},
                         });

}  // namespace imgbuild::cli
