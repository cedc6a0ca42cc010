#include "image/layer_extractor.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/fs.h"
#include "base/path_clean.h"
#include "base/scope_guard.h"
#include "base/sys.h"
#include "base/user_namespace.h"
#include "image/tar_reader.h"

namespace imgbuild::image {
namespace {

// A name as shown in errors: control bytes escaped, very long names cut.
std::string show(std::string_view name) {
  std::string out;
  for (unsigned char c : name.substr(0, 200)) {
    if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
      char hex[8];
      snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (name.size() > 200) out += "...(" + std::to_string(name.size()) + " bytes)";
  return out;
}

std::string entry_label(std::string_view name) { return "entry \"" + show(name) + "\""; }

std::string join_parts(const std::vector<std::string>& parts, size_t n) {
  return join_path_parts(parts, n);
}

std::string proc_path(int dirfd, const std::string& name) {
  return "/proc/self/fd/" + std::to_string(dirfd) + "/" + name;
}

bool xattr_not_permitted(int err) { return err == EPERM || err == ENOTSUP || err == EACCES; }

// What remove_existing does with a directory already at the name.
enum class ExistingDir { kRemove, kKeep };
// Whether set_metadata applies the entry's mode (a symlink's mode means nothing on Linux).
enum class ModeBits { kSet, kLeave };

struct DirMeta {
  uint32_t mode = 0;
  int64_t mtime = 0;
  long mtime_nsec = 0;
};

class Extractor {
 public:
  Extractor(int root_fd, const ExtractOptions& options)
      : root_(root_fd), options_(options), is_root_(geteuid() == 0) {}

  Status extract(TarReader& reader, const TarHeader& h, ExtractedLayer& stats) {
    std::string label = entry_label(h.path);
    if (++stats.entries > options_.max_entries) {
      return fail(ErrorKind::kLimit, "layer has more than " + std::to_string(options_.max_entries) +
                                         " entries (limit max_entries)");
    }
    TRY(check_name(h.path, label));
    // containerd's cleaning: ".." that would climb above the root is refused.
    auto cleaned = clean_path_parts(h.path, DotDot::kReject);
    if (!cleaned) return fail(ErrorKind::kInvalidArgument, label + ": path escapes the layer root");
    std::vector<std::string> parts = std::move(*cleaned);
    for (const auto& [key, value] : h.xattrs) {
      if (value.size() > options_.max_xattr_bytes) {
        return fail(ErrorKind::kLimit,
                    label + ": xattr " + show(key) + " is " + std::to_string(value.size()) +
                        " bytes, over the limit of " + std::to_string(options_.max_xattr_bytes));
      }
    }
    if (parts.empty()) {
      if (h.type != TarEntry::Type::kDirectory) {
        return fail(ErrorKind::kInvalidArgument, label + ": cannot replace the layer root");
      }
      TRY(set_owner_xattrs(root_, "", h));
      dirs_[""] = DirMeta{h.mode, h.mtime, h.mtime_nsec};
      return {};
    }
    int parent = TRY(parent_fd(parts, label));
    const std::string& name = parts.back();
    std::string rel = join_parts(parts, parts.size());
    switch (h.type) {
      case TarEntry::Type::kDirectory: return make_dir(parent, name, rel, h);
      case TarEntry::Type::kRegular: return make_file(reader, parent, name, rel, h, label, stats);
      case TarEntry::Type::kHardLink: return make_hard_link(parent, name, rel, h, label);
      case TarEntry::Type::kSymlink:
        TRY(remove_existing(parent, name, rel, ExistingDir::kRemove));
        if (symlinkat(h.linkname.c_str(), parent, name.c_str()) < 0) {
          return fail_errno("symlinkat", rel);
        }
        return set_metadata(parent, name, rel, h, ModeBits::kLeave);
      case TarEntry::Type::kChar:
      case TarEntry::Type::kBlock:
      case TarEntry::Type::kFifo: return make_node(parent, name, rel, h, label);
    }
    return fail(ErrorKind::kUnsupported, label + ": unsupported entry type");
  }

  // Directory modes and mtimes, deepest first, now that nothing more is written below them.
  Status finish_dirs() {
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
      const std::string& rel = it->first;
      const DirMeta& m = it->second;
      UniqueFd fd;
      if (rel.empty()) {
        fd = TRY(sys::open_at(root_, ".", O_RDONLY | O_DIRECTORY));
      } else {
        // A directory removed or replaced later by something else (ENOENT, ENOTDIR, ELOOP for
        // a symlink) has no metadata left to apply; any other failure would leave it 0700.
        auto replaced = [](int err) { return err == ENOENT || err == ENOTDIR || err == ELOOP; };
        std::vector<std::string> parts =
            clean_path_parts(rel, DotDot::kReject).value();  // rel is clean
        auto parent = walk(parts, parts.size() - 1, false, "");
        if (!parent) {  // walk() words a missing or non-directory parent without errno
          ErrorKind kind = parent.error().kind();
          if (kind == ErrorKind::kNotFound || kind == ErrorKind::kInvalidArgument) continue;
          return fail(parent.error());
        }
        int f = openat(parent->get(), parts.back().c_str(),
                       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (f < 0) {
          if (replaced(errno)) continue;
          return fail_errno("openat", rel);
        }
        fd.reset(f);
      }
      if (fchmod(fd.get(), m.mode) < 0) return fail_errno("fchmod", rel.empty() ? "." : rel);
      struct timespec ts[2] = {{m.mtime, m.mtime_nsec}, {m.mtime, m.mtime_nsec}};
      if (futimens(fd.get(), ts) < 0) return fail_errno("futimens", rel.empty() ? "." : rel);
    }
    return {};
  }

 private:
  Status check_name(const std::string& path, const std::string& label) {
    if (path.size() > options_.max_path_length) {
      return fail(ErrorKind::kLimit, label + ": name is " + std::to_string(path.size()) +
                                         " bytes, over the limit of " +
                                         std::to_string(options_.max_path_length));
    }
    size_t start = 0;
    while (start <= path.size()) {
      size_t slash = path.find('/', start);
      size_t end = slash == std::string::npos ? path.size() : slash;
      if (end - start > options_.max_name_length) {
        return fail(ErrorKind::kLimit,
                    label + ": a name component is " + std::to_string(end - start) +
                        " bytes, over the limit of " + std::to_string(options_.max_name_length));
      }
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    return {};
  }

  // Opens the first n components below the root, one at a time, never following a symlink.
  // With create, missing directories are made (0755).
  Result<UniqueFd> walk(const std::vector<std::string>& parts, size_t n, bool create,
                        const std::string& label) {
    UniqueFd cur;
    int at = root_;
    for (size_t i = 0; i < n; ++i) {
      int fd = openat(at, parts[i].c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 && errno == ENOENT && create) {
        if (mkdirat(at, parts[i].c_str(), 0755) < 0 && errno != EEXIST) {
          return fail_errno("mkdirat", join_parts(parts, i + 1));
        }
        fd = openat(at, parts[i].c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      }
      if (fd < 0) {
        int err = errno;
        std::string parent = "parent \"" + show(join_parts(parts, i + 1)) + "\"";
        if (err == ELOOP || err == ENOTDIR) {
          struct stat st {};
          bool link =
              fstatat(at, parts[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
          return fail(ErrorKind::kInvalidArgument,
                      label + ": " + parent + (link ? " is a symlink" : " is not a directory"));
        }
        if (err == ENOENT)
          return fail(ErrorKind::kNotFound, label + ": " + parent + " does not exist");
        return fail_errno("openat", join_parts(parts, i + 1), err);
      }
      cur.reset(fd);
      at = fd;
    }
    if (!cur) cur = TRY(sys::open_at(root_, ".", O_PATH | O_DIRECTORY));
    return cur;
  }

  Result<int> parent_fd(const std::vector<std::string>& parts, const std::string& label) {
    std::string key = join_parts(parts, parts.size() - 1);
    if (!cached_parent_ || cache_stale_ || key != cached_key_) {
      cached_parent_ = TRY(walk(parts, parts.size() - 1, true, label));
      cached_key_ = key;
      cache_stale_ = false;
    }
    return cached_parent_.get();
  }

  // Removes whatever is at parent/name (a directory with its contents) unless it is a directory
  // and existing_dir is kKeep. Returns true when a directory was kept.
  Result<bool> remove_existing(int parent, const std::string& name, const std::string& rel,
                               ExistingDir existing_dir) {
    struct stat st {};
    if (fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == ENOENT) return false;
      return fail_errno("fstatat", rel);
    }
    if (S_ISDIR(st.st_mode)) {
      if (existing_dir == ExistingDir::kKeep) return true;
      UniqueFd dir = TRY(sys::open_at(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
      TRY(fs::remove_tree_contents(dir.get(), rel));
      TRY(sys::unlink_at(parent, name, AT_REMOVEDIR));
    } else {
      TRY(sys::unlink_at(parent, name, 0));
    }
    // The cached parent may have been below what was removed. It stays open (the caller is using
    // it) but the next entry walks again.
    cache_stale_ = true;
    return false;
  }

  Status make_dir(int parent, const std::string& name, const std::string& rel, const TarHeader& h) {
    bool kept = TRY(remove_existing(parent, name, rel, ExistingDir::kKeep));
    // Owner-writable until finish_dirs(), so entries below can still be created when not root.
    if (!kept && mkdirat(parent, name.c_str(), 0700) < 0) return fail_errno("mkdirat", rel);
    UniqueFd fd = TRY(sys::open_at(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
    TRY(set_owner_xattrs(fd.get(), rel, h));
    dirs_[rel] = DirMeta{h.mode, h.mtime, h.mtime_nsec};
    return {};
  }

  Status make_file(TarReader& reader, int parent, const std::string& name, const std::string& rel,
                   const TarHeader& h, const std::string& label, ExtractedLayer& stats) {
    if (h.size < 0 || static_cast<uint64_t>(h.size) > options_.max_file_bytes) {
      return fail(ErrorKind::kLimit, label + ": size " + std::to_string(h.size) +
                                         " is over the limit of " +
                                         std::to_string(options_.max_file_bytes) + " bytes");
    }
    if (stats.bytes + static_cast<uint64_t>(h.size) > options_.max_total_bytes) {
      return fail(ErrorKind::kLimit, label + ": layer data exceeds the limit of " +
                                         std::to_string(options_.max_total_bytes) + " bytes");
    }
    TRY(remove_existing(parent, name, rel, ExistingDir::kRemove));
    int raw =
        openat(parent, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (raw < 0) return fail_errno("openat", rel);
    UniqueFd fd(raw);
    for (;;) {
      TarDataBlock block = TRY(reader.read_block());
      if (block.data.empty()) break;
      if (block.offset + static_cast<int64_t>(block.data.size()) > h.size) {
        return fail(ErrorKind::kCorrupt, label + ": data runs past the entry's size");
      }
      TRY(write_block(fd.get(), block, rel));
      stats.bytes += block.data.size();
    }
    // Zero runs were skipped, and sparse entries may end in a hole: the size comes from here.
    if (ftruncate(fd.get(), h.size) < 0) return fail_errno("ftruncate", rel);
    TRY(set_owner_xattrs(fd.get(), rel, h));
    if (fchmod(fd.get(), h.mode) < 0) return fail_errno("fchmod", rel);
    struct timespec ts[2] = {{h.mtime, h.mtime_nsec}, {h.mtime, h.mtime_nsec}};
    if (futimens(fd.get(), ts) < 0) return fail_errno("futimens", rel);
    return {};
  }

  // Writes a data block, leaving aligned all-zero runs as holes: layer tars carry sparse files
  // expanded (Docker's do too), and this gives the holes back at no cost for ordinary data.
  static Status write_block(int fd, const TarDataBlock& block, const std::string& rel) {
    static constexpr size_t kHoleUnit = 64 * 1024;
    static const std::string kZeros(kHoleUnit, '\0');
    std::string_view data = block.data;
    int64_t off = block.offset;
    while (!data.empty()) {
      size_t n = std::min(data.size(), kHoleUnit);
      if (n == kHoleUnit && memcmp(data.data(), kZeros.data(), n) == 0) {
        data.remove_prefix(n);
        off += static_cast<int64_t>(n);
        continue;
      }
      TRY(sys::pwrite_all(fd, data.substr(0, n), off, rel));
      data.remove_prefix(n);
      off += static_cast<int64_t>(n);
    }
    return {};
  }

  Status make_hard_link(int parent, const std::string& name, const std::string& rel,
                        const TarHeader& h, const std::string& label) {
    std::string target_label = label + ": hard link target \"" + show(h.linkname) + "\"";
    auto tcleaned = clean_path_parts(h.linkname, DotDot::kReject);
    if (!tcleaned)
      return fail(ErrorKind::kInvalidArgument, target_label + " escapes the layer root");
    std::vector<std::string> tparts = std::move(*tcleaned);
    if (tparts.empty()) {
      return fail(ErrorKind::kInvalidArgument, target_label + " is the layer root");
    }
    std::string trel = join_parts(tparts, tparts.size());
    if (trel == rel)
      return fail(ErrorKind::kInvalidArgument, target_label + " is the entry itself");
    auto tparent = walk(tparts, tparts.size() - 1, false, target_label);
    if (!tparent) {
      if (tparent.error().kind() == ErrorKind::kNotFound) {
        return fail(ErrorKind::kNotFound, target_label + " does not exist (yet)");
      }
      return fail(tparent.error());
    }
    struct stat st {};
    if (fstatat(tparent->get(), tparts.back().c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == ENOENT)
        return fail(ErrorKind::kNotFound, target_label + " does not exist (yet)");
      return fail_errno("fstatat", trel);
    }
    if (S_ISDIR(st.st_mode)) {
      return fail(ErrorKind::kInvalidArgument, target_label + " is a directory");
    }
    TRY(remove_existing(parent, name, rel, ExistingDir::kRemove));
    if (linkat(tparent->get(), tparts.back().c_str(), parent, name.c_str(), 0) < 0) {
      if (errno == ENOENT)
        return fail(ErrorKind::kNotFound, target_label + " does not exist (yet)");
      return fail_errno("linkat", rel);
    }
    return {};
  }

  Status make_node(int parent, const std::string& name, const std::string& rel, const TarHeader& h,
                   const std::string& label) {
    mode_t type = S_IFIFO;
    dev_t dev = 0;
    if (h.type != TarEntry::Type::kFifo) {
      // As Docker's rootless mode: a user namespace cannot make device nodes, and a container
      // gets its /dev from the runtime anyway. The layer's blob keeps the node.
      if (options_.allow_devices && in_user_namespace()) return {};
      if (!options_.allow_devices) {
        return fail(ErrorKind::kPermission,
                    label + ": device nodes are not allowed (not running as root)");
      }
      type = h.type == TarEntry::Type::kChar ? S_IFCHR : S_IFBLK;
      dev = makedev(h.devmajor, h.devminor);
    }
    TRY(remove_existing(parent, name, rel, ExistingDir::kRemove));
    if (mknodat(parent, name.c_str(), type | 0600, dev) < 0) return fail_errno("mknodat", rel);
    return set_metadata(parent, name, rel, h, ModeBits::kSet);
  }

  // Metadata of an entry that is not opened (symlinks, nodes): owner, mode, xattrs, mtime.
  Status set_metadata(int parent, const std::string& name, const std::string& rel,
                      const TarHeader& h, ModeBits mode_bits) {
    TRY(set_owner_xattrs(parent, rel, h, name));
    // The node was just made by us and is not a symlink, so following is harmless here.
    if (mode_bits == ModeBits::kSet && fchmodat(parent, name.c_str(), h.mode, 0) < 0)
      return fail_errno("fchmodat", rel);
    struct timespec ts[2] = {{h.mtime, h.mtime_nsec}, {h.mtime, h.mtime_nsec}};
    if (utimensat(parent, name.c_str(), ts, AT_SYMLINK_NOFOLLOW) < 0) {
      return fail_errno("utimensat", rel);
    }
    return {};
  }

  // Owner (when root) and xattrs (where permitted) of fd itself, or of fd/name when name is given.
  Status set_owner_xattrs(int fd, const std::string& rel, const TarHeader& h,
                          const std::string& name = {}) {
    std::string subject = rel.empty() ? "." : rel;
    if (is_root_) {
      int rc = name.empty() ? fchown(fd, static_cast<uid_t>(h.uid), static_cast<gid_t>(h.gid))
                            : fchownat(fd, name.c_str(), static_cast<uid_t>(h.uid),
                                       static_cast<gid_t>(h.gid), AT_SYMLINK_NOFOLLOW);
      if (rc < 0 && errno == EINVAL && in_user_namespace()) {
        return fail(ErrorKind::kUnsupported,
                    "chown(" + subject + ") to " + std::to_string(h.uid) + ":" +
                        std::to_string(h.gid) +
                        ": this id has no host id in imgbuild's rootless user namespace (this "
                        "user has no /etc/subuid and /etc/subgid ranges, or they are too small; "
                        "see the README's Rootless section)");
      }
      if (rc < 0) return fail_errno("chown", subject);
    }
    if (h.xattrs.empty()) return {};
    std::string path = name.empty() ? proc_path(fd, "") : proc_path(fd, name);
    if (name.empty()) path.pop_back();
    for (const auto& [key, value] : h.xattrs) {
      int rc = name.empty() ? fsetxattr(fd, key.c_str(), value.data(), value.size(), 0)
                            : lsetxattr(path.c_str(), key.c_str(), value.data(), value.size(), 0);
      if (rc < 0 && !xattr_not_permitted(errno)) {
        return fail_errno("setxattr", subject + " " + key);
      }
    }
    return {};
  }

  int root_;
  const ExtractOptions& options_;
  bool is_root_;
  std::map<std::string, DirMeta> dirs_;  // path -> metadata to apply at the end
  UniqueFd cached_parent_;               // O_PATH fd of the last parent directory used
  std::string cached_key_;
  bool cache_stale_ = false;
};

}  // namespace

Result<ExtractedLayer> extract_layer(int blob_fd, const std::string& target_dir,
                                     const ExtractOptions& options) {
  bool create = options.target == ExtractTarget::kCreate;
  std::string ctx = (create ? "extracting layer into " : "extracting into ") + target_dir;
  if (create && mkdir(target_dir.c_str(), 0700) < 0)
    return fail(Error::from_errno("mkdir", target_dir, errno).with_context(ctx));
  ScopeGuard cleanup([&] {
    if (create) (void)fs::remove_tree(target_dir);
  });
  ExtractedLayer stats;
  {
    UniqueFd root = TRY_CTX(sys::open(target_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW), ctx);
    auto reader = TRY_CTX(TarReader::open(blob_fd), ctx);
    Extractor extractor(root.get(), options);
    for (;;) {
      auto header = TRY_CTX(reader->next(), ctx);
      if (!header) break;
      TRY_CTX(extractor.extract(*reader, *header, stats), ctx);
    }
    stats.diff_id = TRY_CTX(reader->finish(), ctx);
    if (create && fchmod(root.get(), 0755) < 0)
      return fail(Error::from_errno("fchmod", target_dir, errno).with_context(ctx));
    TRY_CTX(extractor.finish_dirs(), ctx);
  }
  cleanup.dismiss();
  return stats;
}

}  // namespace imgbuild::image
