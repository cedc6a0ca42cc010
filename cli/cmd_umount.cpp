// imgbuild umount MOUNTPOINT: unmounts an imgfs mount and waits for its server to exit; also
// cleans up a mount whose server was killed (detaching it and aborting the FUSE connection).
// Removes the mount's record (and the upper imgbuild created for it), even an unreadable one.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "base/fs.h"
#include "cli/command.h"
#include "cli/image_common.h"
#include "fs/mount.h"
#include "fs/mount_record.h"
#include "fs/mount_table.h"

namespace imgbuild::cli {
namespace {

bool alive(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

Result<int> run_umount(const std::string& target, const GlobalOptions& globals) {
  std::string mountpoint = fs::absolute(target);
  auto store = TRY(open_store(globals));
  auto record = fs::read_mount_record(store, mountpoint);
  bool unreadable = !record && record.error().kind() != ErrorKind::kNotFound;
  bool mounted = fs::mounted_device(mountpoint).has_value();
  if (!record && !unreadable && !mounted) {
    return fail(ErrorKind::kNotFound, "umount: nothing is mounted at " + mountpoint);
  }
  if (mounted) TRY_CTX(fs::force_unmount(mountpoint), "umount");
  if (unreadable) {
    // The record's path comes from the mount point, so it can go; the server pid it held is
    // unknown, but the server exits when the kernel ends its session.
    print_warning("[Warning] umount: removing unreadable " + record.error().message());
    TRY(fs::remove_tree(fs::owned_upper_path(store, mountpoint)));
    TRY(fs::remove_mount_record(store, mountpoint));
  }
  if (record) {
    // The server exits once the kernel ends its session; give it a moment, then make sure.
    for (int i = 0; i < 200 && alive(record->pid); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    if (alive(record->pid)) ::kill(record->pid, SIGKILL);
    if (record->owned_upper) TRY(fs::remove_tree(fs::owned_upper_path(store, mountpoint)));
    TRY(fs::remove_mount_record(store, mountpoint));
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
