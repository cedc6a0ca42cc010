#include "fs/request_counts.h"

#include <linux/fuse.h>

#include <algorithm>
#include <type_traits>
#include <utility>
#include <vector>

namespace imgbuild::fs {

namespace {

// The wrapped table's callbacks forward to these (counting_ops builds the table once).
fuse_lowlevel_ops real_ops;
RequestCounts& (*counts_of_req)(fuse_req_t) = nullptr;

template <auto Member>
using CallbackType = std::remove_pointer_t<
    std::remove_reference_t<decltype(std::declval<fuse_lowlevel_ops&>().*Member)>>;

template <auto Member, uint32_t Opcode, typename F = CallbackType<Member>>
struct Counted;

template <auto Member, uint32_t Opcode, typename... Args>
struct Counted<Member, Opcode, void(fuse_req_t, Args...)> {
  static void call(fuse_req_t req, Args... args) {
    counts_of_req(req).add(Opcode);
    (real_ops.*Member)(req, args...);
  }
};

template <auto Member, uint32_t Opcode>
void wrap(fuse_lowlevel_ops* ops) {
  if (ops->*Member) ops->*Member = &Counted<Member, Opcode>::call;
}

// Each callback that takes a request, with the opcode it serves (the kernel's name, after
// FUSE_). write_buf serves WRITE as write does, rename RENAME and RENAME2, setlk SETLK and SETLKW.
// clang-format off
#define IMGFS_COUNTED_OPS(X) \
  X(lookup, LOOKUP) X(forget, FORGET) X(getattr, GETATTR) X(setattr, SETATTR) \
  X(readlink, READLINK) X(mknod, MKNOD) X(mkdir, MKDIR) X(unlink, UNLINK) X(rmdir, RMDIR) \
  X(symlink, SYMLINK) X(rename, RENAME) X(link, LINK) X(open, OPEN) X(read, READ) \
  X(write, WRITE) X(flush, FLUSH) X(release, RELEASE) X(fsync, FSYNC) X(opendir, OPENDIR) \
  X(readdir, READDIR) X(releasedir, RELEASEDIR) X(fsyncdir, FSYNCDIR) X(statfs, STATFS) \
  X(setxattr, SETXATTR) X(getxattr, GETXATTR) X(listxattr, LISTXATTR) \
  X(removexattr, REMOVEXATTR) X(access, ACCESS) X(create, CREATE) X(getlk, GETLK) \
  X(setlk, SETLK) X(bmap, BMAP) X(ioctl, IOCTL) X(poll, POLL) X(forget_multi, BATCH_FORGET) \
  X(fallocate, FALLOCATE) X(readdirplus, READDIRPLUS) X(copy_file_range, COPY_FILE_RANGE) \
  X(lseek, LSEEK)
// clang-format on

fuse_lowlevel_ops make_counting(const fuse_lowlevel_ops& ops) {
  fuse_lowlevel_ops out = ops;
#define IMGFS_WRAP(member, op) wrap<&fuse_lowlevel_ops::member, FUSE_##op>(&out);
  IMGFS_COUNTED_OPS(IMGFS_WRAP)
#undef IMGFS_WRAP
  wrap<&fuse_lowlevel_ops::write_buf, FUSE_WRITE>(&out);
  return out;
}

const char* opcode_name(uint32_t op) {
  switch (op) {
#define IMGFS_NAME(member, op) \
  case FUSE_##op: return #op;
    IMGFS_COUNTED_OPS(IMGFS_NAME)
#undef IMGFS_NAME
    default: return nullptr;
  }
}

#undef IMGFS_COUNTED_OPS

}  // namespace

std::map<std::string, uint64_t> RequestCounts::by_name() const {
  std::map<std::string, uint64_t> out;
  for (uint32_t op = 0; op <= kMaxOpcode; ++op) {
    uint64_t n = get(op);
    if (n == 0) continue;
    const char* name = opcode_name(op);
    out[name ? name : "OPCODE_" + std::to_string(op)] += n;
  }
  return out;
}

const fuse_lowlevel_ops& counting_ops(const fuse_lowlevel_ops& ops,
                                      RequestCounts& (*counts_of)(fuse_req_t)) {
  static const fuse_lowlevel_ops table = [&] {
    real_ops = ops;
    counts_of_req = counts_of;
    return make_counting(ops);
  }();
  return table;
}

std::string format_request_counts(const std::map<std::string, uint64_t>& counts) {
  std::vector<std::pair<std::string, uint64_t>> sorted(counts.begin(), counts.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string out;
  for (const auto& [name, n] : sorted) {
    if (!out.empty()) out += ", ";
    out += name + " " + std::to_string(n);
  }
  return out.empty() ? "none" : out;
}

}  // namespace imgbuild::fs
