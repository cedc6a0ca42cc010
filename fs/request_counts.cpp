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

fuse_lowlevel_ops make_counting(const fuse_lowlevel_ops& ops) {
  fuse_lowlevel_ops out = ops;
  using O = fuse_lowlevel_ops;
  wrap<&O::lookup, FUSE_LOOKUP>(&out);
  wrap<&O::forget, FUSE_FORGET>(&out);
  wrap<&O::getattr, FUSE_GETATTR>(&out);
  wrap<&O::setattr, FUSE_SETATTR>(&out);
  wrap<&O::readlink, FUSE_READLINK>(&out);
  wrap<&O::mknod, FUSE_MKNOD>(&out);
  wrap<&O::mkdir, FUSE_MKDIR>(&out);
  wrap<&O::unlink, FUSE_UNLINK>(&out);
  wrap<&O::rmdir, FUSE_RMDIR>(&out);
  wrap<&O::symlink, FUSE_SYMLINK>(&out);
  wrap<&O::rename, FUSE_RENAME>(&out);  // RENAME and RENAME2
  wrap<&O::link, FUSE_LINK>(&out);
  wrap<&O::open, FUSE_OPEN>(&out);
  wrap<&O::read, FUSE_READ>(&out);
  wrap<&O::write, FUSE_WRITE>(&out);
  wrap<&O::flush, FUSE_FLUSH>(&out);
  wrap<&O::release, FUSE_RELEASE>(&out);
  wrap<&O::fsync, FUSE_FSYNC>(&out);
  wrap<&O::opendir, FUSE_OPENDIR>(&out);
  wrap<&O::readdir, FUSE_READDIR>(&out);
  wrap<&O::releasedir, FUSE_RELEASEDIR>(&out);
  wrap<&O::fsyncdir, FUSE_FSYNCDIR>(&out);
  wrap<&O::statfs, FUSE_STATFS>(&out);
  wrap<&O::setxattr, FUSE_SETXATTR>(&out);
  wrap<&O::getxattr, FUSE_GETXATTR>(&out);
  wrap<&O::listxattr, FUSE_LISTXATTR>(&out);
  wrap<&O::removexattr, FUSE_REMOVEXATTR>(&out);
  wrap<&O::access, FUSE_ACCESS>(&out);
  wrap<&O::create, FUSE_CREATE>(&out);
  wrap<&O::getlk, FUSE_GETLK>(&out);
  wrap<&O::setlk, FUSE_SETLK>(&out);  // SETLK and SETLKW
  wrap<&O::bmap, FUSE_BMAP>(&out);
  wrap<&O::ioctl, FUSE_IOCTL>(&out);
  wrap<&O::poll, FUSE_POLL>(&out);
  wrap<&O::write_buf, FUSE_WRITE>(&out);
  wrap<&O::forget_multi, FUSE_BATCH_FORGET>(&out);
  wrap<&O::fallocate, FUSE_FALLOCATE>(&out);
  wrap<&O::readdirplus, FUSE_READDIRPLUS>(&out);
  wrap<&O::copy_file_range, FUSE_COPY_FILE_RANGE>(&out);
  wrap<&O::lseek, FUSE_LSEEK>(&out);
  return out;
}

const char* opcode_name(uint32_t op) {
  static constexpr std::pair<uint32_t, const char*> kNames[] = {
      {FUSE_LOOKUP, "LOOKUP"},
      {FUSE_FORGET, "FORGET"},
      {FUSE_GETATTR, "GETATTR"},
      {FUSE_SETATTR, "SETATTR"},
      {FUSE_READLINK, "READLINK"},
      {FUSE_SYMLINK, "SYMLINK"},
      {FUSE_MKNOD, "MKNOD"},
      {FUSE_MKDIR, "MKDIR"},
      {FUSE_UNLINK, "UNLINK"},
      {FUSE_RMDIR, "RMDIR"},
      {FUSE_RENAME, "RENAME"},
      {FUSE_LINK, "LINK"},
      {FUSE_OPEN, "OPEN"},
      {FUSE_READ, "READ"},
      {FUSE_WRITE, "WRITE"},
      {FUSE_STATFS, "STATFS"},
      {FUSE_RELEASE, "RELEASE"},
      {FUSE_FSYNC, "FSYNC"},
      {FUSE_SETXATTR, "SETXATTR"},
      {FUSE_GETXATTR, "GETXATTR"},
      {FUSE_LISTXATTR, "LISTXATTR"},
      {FUSE_REMOVEXATTR, "REMOVEXATTR"},
      {FUSE_FLUSH, "FLUSH"},
      {FUSE_OPENDIR, "OPENDIR"},
      {FUSE_READDIR, "READDIR"},
      {FUSE_RELEASEDIR, "RELEASEDIR"},
      {FUSE_FSYNCDIR, "FSYNCDIR"},
      {FUSE_GETLK, "GETLK"},
      {FUSE_SETLK, "SETLK"},
      {FUSE_ACCESS, "ACCESS"},
      {FUSE_CREATE, "CREATE"},
      {FUSE_BMAP, "BMAP"},
      {FUSE_IOCTL, "IOCTL"},
      {FUSE_POLL, "POLL"},
      {FUSE_BATCH_FORGET, "BATCH_FORGET"},
      {FUSE_FALLOCATE, "FALLOCATE"},
      {FUSE_READDIRPLUS, "READDIRPLUS"},
      {FUSE_LSEEK, "LSEEK"},
      {FUSE_COPY_FILE_RANGE, "COPY_FILE_RANGE"},
  };
  for (const auto& [code, name] : kNames) {
    if (code == op) return name;
  }
  return nullptr;
}

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
