#include "containers/upper_diff.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>

#include "base/dir_reader.h"
#include "base/sys.h"
#include "runtime/safe_path.h"

namespace imgbuild::containers {
namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";

struct Walker {
  std::vector<UniqueFd> lowers;
  std::vector<Change> out;

  bool in_lower(const std::string& rel) const {
    for (const auto& fd : lowers) {
      if (runtime::open_in_root(fd.get(), rel, O_PATH | O_NOFOLLOW)) return true;
    }
    return false;
  }

  Status walk(int dirfd, const std::string& rel, const std::string& subject) {
    auto dir = TRY(fs::DirReader::open_fd(dirfd, subject));
    std::vector<std::pair<std::string, bool>> entries;  // name, is a directory
    while (auto e = TRY(dir.next())) {
      bool is_dir = e->type == DT_DIR;
      if (e->type == DT_UNKNOWN) {
        struct stat st {};
        is_dir =
            ::fstatat(dirfd, e->name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
      }
      entries.emplace_back(std::move(e->name), is_dir);
    }
    for (const auto& [name, is_dir] : entries) {
      if (name == kOpaqueMarker) continue;
      if (name.starts_with(kWhiteoutPrefix)) {
        out.push_back({'D', "/" + rel + name.substr(kWhiteoutPrefix.size())});
        continue;
      }
      std::string child = rel + name;
      out.push_back({in_lower(child) ? 'C' : 'A', "/" + child});
      if (is_dir) {
        UniqueFd sub = TRY(sys::open_at(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
        TRY(walk(sub.get(), child + "/", subject + "/" + name));
      }
    }
    return {};
  }
};

}  // namespace

Result<std::vector<Change>> upper_changes(const std::string& upper,
                                          const std::vector<std::string>& lowers) {
  Walker w;
  for (const auto& l : lowers) w.lowers.push_back(TRY(sys::open(l, O_PATH | O_DIRECTORY)));
  UniqueFd root = TRY(sys::open(upper, O_RDONLY | O_DIRECTORY));
  TRY(w.walk(root.get(), "", upper));
  std::sort(w.out.begin(), w.out.end(),
            [](const Change& a, const Change& b) { return a.path < b.path; });
  return w.out;
}

}  // namespace imgbuild::containers
