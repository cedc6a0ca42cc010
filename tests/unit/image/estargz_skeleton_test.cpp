// A lazy layer's tree (image/estargz_skeleton.h) made entry by entry: a lookup makes one entry,
// the listing pass makes the rest without touching it (it may be filled already) and removes what
// an interrupted pass left, hard-linked files bring their whole directory, and the result is the
// same tree as making every directory at once.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include "base/dir_reader.h"
#include "base/fs.h"
#include "base/unique_fd.h"
#include "image/estargz_index.h"
#include "image/estargz_skeleton.h"
#include "tests/unit/image/toc_test_builder.h"

using namespace imgbuild;
using namespace imgbuild::image;

namespace {

EstargzIndex small_layer() {
  testing::TocBuilder builder;
  auto add = [&](std::string name, std::string type, int64_t size = 0, std::string link = "") {
    auto& e = builder.add(std::move(name), std::move(type), size, std::move(link));
    e.mode = e.type == "dir" ? 0750 : 0640;
    e.modtime = "2020-01-02T03:04:05Z";
  };
  add("d/", "dir");
  for (int i = 0; i < 20; ++i) add("d/f" + std::to_string(i), "reg", 4);
  add("d/sub/", "dir");
  add("d/sub/leaf", "reg", 4);
  add("d/s", "symlink", 0, "f1");
  add("d/.wh.gone", "reg");
  add("h/", "dir");
  add("h/a", "reg", 4);
  add("h/b", "hardlink", 0, "h/a");
  auto index = EstargzIndex::build(builder.toc, 1000);
  REQUIRE(index);
  return std::move(*index);
}

std::vector<std::string> names_in(const std::string& dir) {
  auto names = fs::list_dir(dir, fs::MissingDir::kIsEmpty);
  REQUIRE(names);
  std::sort(names->begin(), names->end());
  return *names;
}

bool marked(const std::string& path, std::string_view xattr) {
  return ::lgetxattr(path.c_str(), std::string(xattr).c_str(), nullptr, 0) >= 0;
}

// Type, mode, size, mtime, marks and link count of every entry below dir, sorted.
std::string listing(const std::string& dir) {
  std::string out;
  std::vector<std::string> todo{""};
  while (!todo.empty()) {
    std::string rel = todo.back();
    todo.pop_back();
    for (const auto& name : names_in(dir + "/" + rel)) {
      std::string child = rel.empty() ? name : rel + "/" + name;
      struct stat st;
      REQUIRE(::lstat((dir + "/" + child).c_str(), &st) == 0);
      out += child + " " + std::to_string(st.st_mode) + " " + std::to_string(st.st_size) + " " +
             std::to_string(st.st_mtime) + " " + std::to_string(st.st_nlink) +
             (marked(dir + "/" + child, kLazyXattr) ? " lazy" : "") + "\n";
      if (S_ISDIR(st.st_mode)) todo.push_back(child);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("a lazy lookup makes one entry, and the listing the rest without redoing it") {
  auto tmp = fs::TempDir::create("/tmp", "imgbuild-skeleton-").value();
  EstargzIndex index = small_layer();
  std::string root = tmp.path() + "/layer";
  REQUIRE(make_estargz_skeleton(index, root));
  CHECK(names_in(root) == std::vector<std::string>{"d", "h"});
  CHECK(names_in(root + "/d").empty());
  UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(fd);

  // A lookup: that entry and its whiteout only, with the image's metadata; the directory's times
  // stay the image's and it stays marked.
  REQUIRE(materialize_estargz_entry(index, fd.get(), "d", "f7"));
  REQUIRE(materialize_estargz_entry(index, fd.get(), "d", "gone"));
  REQUIRE(materialize_estargz_entry(index, fd.get(), "d", "absent"));
  CHECK(names_in(root + "/d") == std::vector<std::string>{".wh.gone", "f7"});
  struct stat st;
  REQUIRE(::stat((root + "/d/f7").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0640);
  CHECK(st.st_size == 4);
  CHECK(st.st_mtime == 1577934245);
  REQUIRE(::stat((root + "/d").c_str(), &st) == 0);
  CHECK(st.st_mtime == 1577934245);
  CHECK(marked(root + "/d", kLazyDirXattr));
  // A deeper lookup makes the directories on the way alone.
  REQUIRE(materialize_estargz_entry(index, fd.get(), "d/sub", "leaf"));
  CHECK(names_in(root + "/d") == std::vector<std::string>{".wh.gone", "f7", "sub"});
  CHECK(names_in(root + "/d/sub") == std::vector<std::string>{"leaf"});

  // f7 is filled (as the mount's fill does), and an interrupted pass left a staged entry.
  {
    UniqueFd f7(::open((root + "/d/f7").c_str(), O_WRONLY | O_CLOEXEC));
    REQUIRE(f7);
    REQUIRE(::pwrite(f7.get(), "data", 4, 0) == 4);
    struct timespec times[2] = {{1577934245, 0}, {1577934245, 0}};
    REQUIRE(::futimens(f7.get(), times) == 0);
    REQUIRE(::fremovexattr(f7.get(), std::string(kLazyXattr).c_str()) == 0);
  }
  REQUIRE(fs::write_file_atomic(root + "/d/.imgbuild-lazy-staging.99.0", "half"));
  REQUIRE(materialize_estargz_dir(index, fd.get(), "d"));
  auto names = names_in(root + "/d");
  CHECK(names.size() == 23);  // 20 files, sub, s, .wh.gone; no staging leftover
  CHECK(std::find(names.begin(), names.end(), ".imgbuild-lazy-staging.99.0") == names.end());
  CHECK(fs::read_file(root + "/d/f7").value() == "data");
  CHECK(!marked(root + "/d", kLazyDirXattr));
  CHECK(marked(root + "/d/f8", kLazyXattr));

  // The same tree as making every directory at once (f7 aside, filled here).
  std::string whole = tmp.path() + "/whole";
  REQUIRE(make_estargz_skeleton(index, whole));
  UniqueFd wfd(::open(whole.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(wfd);
  for (const char* dir : {"d", "d/sub", "h"}) {
    REQUIRE(materialize_estargz_dir(index, wfd.get(), dir));
    REQUIRE(materialize_estargz_dir(index, fd.get(), dir));
  }
  std::string ours = listing(root);
  std::string theirs = listing(whole);
  const std::string filled = "d/f7 33184 4 1577934245 1\n";
  const std::string placeholder = "d/f7 33184 4 1577934245 1 lazy\n";
  CHECK(ours.find(filled) != std::string::npos);
  REQUIRE(theirs.find(placeholder) != std::string::npos);
  theirs.replace(theirs.find(placeholder), placeholder.size(), filled);
  CHECK(ours == theirs);
}

TEST_CASE("a lazy lookup of a hard-linked file makes its whole directory") {
  auto tmp = fs::TempDir::create("/tmp", "imgbuild-skeleton-").value();
  EstargzIndex index = small_layer();
  std::string root = tmp.path() + "/layer";
  REQUIRE(make_estargz_skeleton(index, root));
  UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(fd);
  REQUIRE(materialize_estargz_entry(index, fd.get(), "h", "a"));
  CHECK(names_in(root + "/h") == std::vector<std::string>{"a", "b"});
  struct stat st;
  REQUIRE(::stat((root + "/h/a").c_str(), &st) == 0);
  CHECK(st.st_nlink == 2);
  CHECK(!marked(root + "/h", kLazyDirXattr));
}
