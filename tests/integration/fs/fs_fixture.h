// Helpers for the imgfs integration tests: building layer directories, reading a tree as a
// comparable snapshot, applying OCI layers in memory (the reference semantics the mount must
// match), and a fixture that owns the temp dirs and the mount (unmounted by RAII even when a
// check fails).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/fs.h"
#include "fs/mount.h"

namespace imgbuild::fs::test {

// One entry of a tree: everything visible that a layer records (not times, not inode numbers).
struct Entry {
  char type = '?';  // f d l p c b s
  mode_t mode = 0;  // permission bits
  uid_t uid = 0;
  gid_t gid = 0;
  std::string data;  // file content, link target, or "maj:min" for devices
  bool operator==(const Entry&) const = default;
};
using Tree = std::map<std::string, Entry>;  // "a/b/c" -> entry

// Reads the tree below dir with fd-relative calls. raw=true keeps whiteout markers, overlay
// whiteouts (as type 'w') and opaque flags (as an entry "DIR/.wh..wh..opq") as they are on disk.
Tree snapshot(const std::string& dir, bool raw = false);
// Applies a raw layer snapshot onto base as an OCI layer would be applied.
void apply_layer(Tree& base, const Tree& layer);
// The tree the lowers (top first) and upper should show.
Tree expected_union(const std::vector<std::string>& lowers_top_first, const std::string& upper);
// Describes the first difference, or "" when equal.
std::string diff_trees(const Tree& want, const Tree& got);

// Writes a file (creating parents), with mode.
void write(const std::string& path, const std::string& data, mode_t mode = 0644);
std::string read(const std::string& path);
// Makes an OCI whiteout file ".wh.NAME" next to path.
void whiteout(const std::string& path);
// Converts an OCI-style layer copy in place to kernel overlay style (char dev whiteouts, xattr).
void to_overlay_style(const std::string& dir);
// Runs a shell command, failing the test if it fails.
void sh(const std::string& command);

// Owns a temp dir with lowers l0 (top) .. lN, an upper "up" and a mount point "mnt".
class Fixture {
 public:
  explicit Fixture(int lowers = 2);
  ~Fixture();
  std::string lower(int i) const { return dir_.path() + "/l" + std::to_string(i); }
  std::string upper() const { return dir_.path() + "/up"; }
  std::string mnt() const { return dir_.path() + "/mnt"; }
  std::string m(const std::string& rel) const { return mnt() + "/" + rel; }
  const std::string& root() const { return dir_.path(); }
  std::vector<std::string> lowers() const;
  // Mounts (read-write unless ro); REQUIREs success. passthrough: MountOptions::passthrough
  // (unset: on, unless IMGFS_TEST_PASSTHROUGH=0).
  void mount(bool ro = false, WhiteoutStyle style = WhiteoutStyle::kOci,
             std::optional<bool> passthrough = {});
  void unmount();
  // Called on the options of every mount() before mounting, when set.
  std::function<void(MountOptions&)> adjust_options;
  Mount& mounted() { return *mount_; }
  // The invariant: the mount shows exactly lowers + upper applied as OCI layers.
  void check_invariant();

 private:
  TempDir dir_;
  int nlowers_;
  std::unique_ptr<Mount> mount_;
};

// Runs fn in a forked child and REQUIREs that it returned true. Memory mappings of files on the
// mount must be made there: this process also serves the mount, and a page fault or munmap on a
// mapped mount file holds the process's mmap lock while it waits for a FUSE reply, which a server
// thread needing that lock (to start a thread or map a buffer) would never send. fn must not
// allocate or lock (the child of a threaded process).
void in_child(const std::function<bool()>& fn);

// True when this machine can run FUSE mounts (root and /dev/fuse); WARNs otherwise.
bool can_mount();

// The standalone imgfs binary built next to imgbuild.
std::string imgfs_binary();
// "-o" options for that binary that match the suite's mode (",nopassthrough" when
// IMGFS_TEST_PASSTHROUGH=0, else "").
std::string imgfs_mode_options();
// The pid of the imgfs server process serving mountpoint (found by its command line), or -1.
pid_t imgfs_server_pid(const std::string& mountpoint);
// Waits (up to 5 s) for the imgfs server of mountpoint to exit; true if it did.
bool wait_server_exit(const std::string& mountpoint);
// Descriptors process pid has open, and how many of them name a path below dir.
size_t open_fd_count(pid_t pid);
size_t open_fds_below(pid_t pid, const std::string& dir);

// A mount's requests of one opcode (MountStats::requests; 0 when it served none), and of all.
uint64_t request_count(const std::map<std::string, uint64_t>& requests, const std::string& op);
uint64_t request_total(const std::map<std::string, uint64_t>& requests);

}  // namespace imgbuild::fs::test
