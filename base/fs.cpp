#include "base/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "base/dir_reader.h"
#include "base/sys.h"

namespace imgbuild::fs {

Result<std::string> read_file(const std::string& path) {
  UniqueFd fd = TRY(sys::open(path, O_RDONLY));
  return sys::read_all(fd.get(), path);
}

std::string join(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  std::string out(a);
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  if (out != "/") out += '/';
  out += b;
  return out;
}

std::string absolute(const std::string& path) {
  std::error_code ec;
  auto p = std::filesystem::absolute(path, ec);
  if (ec) return path;
  return p.lexically_normal().string();
}

static std::string dir_of(const std::string& path) {
  auto pos = path.rfind('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

Status sync_dir(const std::string& path) {
  UniqueFd fd = TRY(sys::open(path, O_RDONLY | O_DIRECTORY));
  return sys::fsync(fd.get(), path);
}

Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode,
                         Durability durability) {
  std::string dir = dir_of(path);
  std::string tmpl = path + ".tmp-XXXXXX";
  int raw = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (raw < 0) return fail_errno("mkostemp", tmpl);
  UniqueFd fd(raw);
  bool ok = false;
  struct Cleanup {
    std::string& p;
    bool& ok;
    ~Cleanup() {
      if (!ok) ::unlink(p.c_str());
    }
  } cleanup{tmpl, ok};
  if (::fchmod(fd.get(), mode) < 0) return fail_errno("fchmod", tmpl);
  TRY(sys::write_all(fd.get(), data, tmpl));
  if (durability == Durability::kDurable) TRY(sys::fsync(fd.get(), tmpl));
  fd.reset();
  TRY(sys::rename_at(AT_FDCWD, tmpl, AT_FDCWD, path));
  ok = true;
  if (durability == Durability::kHint) return {};
  return sync_dir(dir);
}

Status make_dirs(const std::string& path, mode_t mode) {
  if (path.empty()) return {};
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return {};
    return fail(Error::from_errno("mkdir", path, ENOTDIR));
  }
  std::string parent = dir_of(path);
  if (parent != path && parent != "." && parent != "/") TRY(make_dirs(parent, mode));
  if (::mkdir(path.c_str(), mode) < 0 && errno != EEXIST) return fail_errno("mkdir", path);
  return {};
}

Status remove_tree_contents(int dirfd, std::string_view subject) {
  std::vector<std::pair<std::string, bool>> entries;
  {
    DirReader reader = TRY(DirReader::open_fd(dirfd, subject));
    while (auto entry = TRY(reader.next())) {
      bool is_dir = entry->type == DT_DIR;
      if (entry->type == DT_UNKNOWN) {
        struct stat st {};
        if (::fstatat(dirfd, entry->name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
          is_dir = S_ISDIR(st.st_mode);
        }
      }
      entries.emplace_back(std::move(entry->name), is_dir);
    }
  }
  for (auto& [name, is_dir] : entries) {
    if (is_dir) {
      // A read-only or search-less directory (possible in hostile layers) must still go.
      ::fchmodat(dirfd, name.c_str(), 0700, 0);
      auto child = sys::open_at(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      if (!child) {
        if (child.error().errno_value() == ENOENT) continue;
        return fail(child.error().with_context(std::string(subject)));
      }
      TRY(remove_tree_contents(child->get(), std::string(subject) + "/" + name));
      if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT) {
        return fail_errno("unlinkat", std::string(subject) + "/" + name);
      }
    } else if (::unlinkat(dirfd, name.c_str(), 0) < 0 && errno != ENOENT) {
      return fail_errno("unlinkat", std::string(subject) + "/" + name);
    }
  }
  return {};
}

Status remove_tree(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) < 0) {
    if (errno == ENOENT) return {};
    return fail_errno("lstat", path);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlink(path.c_str()) < 0 && errno != ENOENT) return fail_errno("unlink", path);
    return {};
  }
  ::chmod(path.c_str(), 0700);
  {
    UniqueFd fd = TRY(sys::open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
    TRY(remove_tree_contents(fd.get(), path));
  }
  if (::rmdir(path.c_str()) < 0 && errno != ENOENT) return fail_errno("rmdir", path);
  return {};
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<TempDir> TempDir::create(const std::string& parent, std::string_view prefix) {
  std::string tmpl = join(parent, std::string(prefix) + "XXXXXX");
  if (::mkdtemp(tmpl.data()) == nullptr) return fail_errno("mkdtemp", tmpl);
  return TempDir(std::move(tmpl));
}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    if (!path_.empty()) (void)remove_tree(path_);
    path_ = std::exchange(other.path_, std::string());
  }
  return *this;
}

TempDir::~TempDir() {
  if (!path_.empty()) (void)remove_tree(path_);
}

}  // namespace imgbuild::fs
