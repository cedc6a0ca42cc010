// Every tar is hostile. One test per case of the generated corpus
// (testdata/hostile-tars/make-hostile-tars.py): the exact error, the target removed again, and
// nothing written outside it.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <optional>

#include "base/fs.h"
#include "base/subprocess.h"
#include "base/sys.h"
#include "image/layer_extractor.h"
#include "image/layer_writer.h"
#include "tests/support/hostile_tars.h"
#include "tests/unit/image/layer_test_tree.h"

using namespace imgbuild;
using namespace imgbuild::image;
using namespace imgbuild::image::testing;

namespace {

const std::string& corpus_dir() { return ::imgbuild::testing::hostile_tar_dir(); }

std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> names;
  DIR* d = opendir(path.c_str());
  REQUIRE(d != nullptr);
  while (struct dirent* de = readdir(d)) {
    std::string n = de->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// Extracts into <tmp>/sandbox/target, so "../x" would land in sandbox and "../../x" in <tmp>.
class Sandbox {
 public:
  Sandbox() {
    auto d = fs::TempDir::create();
    REQUIRE(d);
    tmp_ = std::move(*d);
    REQUIRE(mkdir(sandbox().c_str(), 0755) == 0);
  }
  std::string sandbox() const { return tmp_->path() + "/sandbox"; }
  std::string target() const { return sandbox() + "/target"; }

  Result<ExtractedLayer> extract_file(const std::string& path, const ExtractOptions& options = {}) {
    auto fd = sys::open(path, O_RDONLY);
    REQUIRE(fd);
    return extract_layer(fd->get(), target(), options);
  }
  Result<ExtractedLayer> extract(const std::string& name, const ExtractOptions& options = {}) {
    return extract_file(corpus_dir() + "/" + name + ".tar", options);
  }

  // The failure left nothing behind: no target, nothing beside it or above it, nothing at the
  // absolute paths the corpus aims at.
  void check_clean() const {
    CHECK(list_dir(tmp_->path()) == std::vector<std::string>{"sandbox"});
    CHECK(list_dir(sandbox()).empty());
    CHECK(!fs::exists("/imgbuild-hostile-evil"));
    CHECK(!fs::exists("/imgbuild-hostile-abs"));
  }

  void expect_error(const std::string& name, const std::string& message,
                    const ExtractOptions& options = {}) {
    INFO("case " << name);
    auto r = extract(name, options);
    REQUIRE(!r);
    CHECK(r.error().message() == "extracting layer into " + target() + ": " + message);
    check_clean();
  }

 private:
  std::optional<fs::TempDir> tmp_;
};

ExtractOptions no_devices() {
  ExtractOptions o;
  o.allow_devices = false;
  return o;
}

}  // namespace

TEST_CASE("hostile tar: .. escaping the root is refused") {
  Sandbox s;
  s.expect_error("dotdot", "entry \"../imgbuild-hostile-evil\": path escapes the layer root");
  s.expect_error("dotdot-deep",
                 "entry \"a/../../imgbuild-hostile-evil\": path escapes the layer root");
  s.expect_error("symlink-then-dotdot",
                 "entry \"link/../../imgbuild-hostile-evil\": path escapes the layer root");
}

TEST_CASE("hostile tar: .. that stays inside the root is resolved lexically") {
  Sandbox s;
  REQUIRE(s.extract("dotdot-inside"));
  CHECK(read_whole(s.target() + "/b") == "x\n");
}

TEST_CASE("hostile tar: absolute names are relative to the layer root, as in containerd") {
  Sandbox s;
  REQUIRE(s.extract("absolute"));
  CHECK(read_whole(s.target() + "/imgbuild-hostile-abs/evil") == "x\n");
  CHECK(!fs::exists("/imgbuild-hostile-abs"));
}

TEST_CASE("hostile tar: the root cannot be replaced by a symlink") {
  Sandbox s;
  s.expect_error("root-symlink", "entry \"./\": cannot replace the layer root");
}

TEST_CASE("hostile tar: writing through a symlink is refused") {
  Sandbox s;
  s.expect_error("symlink-parent-absolute",
                 "entry \"link/imgbuild-hostile-evil\": parent \"link\" is a symlink");
  s.expect_error("symlink-parent-relative",
                 "entry \"link/imgbuild-hostile-evil\": parent \"link\" is a symlink");
}

TEST_CASE("hostile tar: a directory replaced by a symlink cannot be written below") {
  Sandbox s;
  s.expect_error("dir-replaced-by-symlink",
                 "entry \"d/imgbuild-hostile-evil\": parent \"d\" is a symlink");
}

TEST_CASE("hostile tar: an entry below a regular file is refused") {
  Sandbox s;
  s.expect_error("file-as-parent", "entry \"f/x\": parent \"f\" is not a directory");
}

TEST_CASE("hostile tar: escaping symlink targets are stored, never followed") {
  Sandbox s;
  REQUIRE(s.extract("symlink-target-escapes"));
  CHECK(sys::readlink_at(AT_FDCWD, s.target() + "/up").value() == "../../../../etc/passwd");
}

TEST_CASE("hostile tar: hard links must stay inside and name an extracted non-directory") {
  Sandbox s;
  s.expect_error("hardlink-escape",
                 "entry \"h\": hard link target \"../../etc/passwd\" escapes the layer root");
  s.expect_error("hardlink-absolute",
                 "entry \"h\": hard link target \"/etc/passwd\" does not exist (yet)");
  s.expect_error("hardlink-before-target",
                 "entry \"h\": hard link target \"later\" does not exist (yet)");
  s.expect_error("hardlink-through-symlink",
                 "entry \"h\": hard link target \"s/passwd\": parent \"s\" is a symlink");
  s.expect_error("hardlink-to-directory", "entry \"h\": hard link target \"d\" is a directory");
}

TEST_CASE("hostile tar: a file written over a hard link replaces the link, not its target") {
  Sandbox s;
  REQUIRE(s.extract("hardlink-overwrite"));
  CHECK(read_whole(s.target() + "/f") == "original\n");
  CHECK(read_whole(s.target() + "/h") == "replaced\n");
  Sandbox t;
  REQUIRE(t.extract("hardlink-to-symlink-overwrite"));
  CHECK(read_whole(t.target() + "/h") == "replaced\n");
  CHECK(!fs::exists(t.sandbox() + "/imgbuild-hostile-evil"));
}

TEST_CASE("hostile tar: device nodes are refused unless allowed") {
  Sandbox s;
  s.expect_error("device", "entry \"dev/evil\": device nodes are not allowed (not running as root)",
                 no_devices());
  REQUIRE(s.extract("fifo", no_devices()));
  struct stat st {};
  REQUIRE(lstat((s.target() + "/pipe").c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
}

TEST_CASE("hostile tar: absurd sizes and name lengths hit the limits") {
  Sandbox s;
  s.expect_error("huge-size",
                 "entry \"huge\": size 1000000000000000 is over the limit of 68719476736 bytes");
  s.expect_error("long-name", "entry \"" + std::string(200, 'a') +
                                  "...(5101 bytes)\": name is 5101 bytes, over the limit of 4096");
  s.expect_error("long-component", "entry \"" + std::string(200, 'c') +
                                       "...(300 bytes)\": a name component is 300 bytes, over "
                                       "the limit of 255");
}

TEST_CASE("hostile tar: entry count and total size limits") {
  Sandbox s;
  ExtractOptions few;
  few.max_entries = 10;
  s.expect_error("many-entries", "layer has more than 10 entries (limit max_entries)", few);
  ExtractOptions small;
  small.max_total_bytes = 10;
  s.expect_error("many-entries", "entry \"f05\": layer data exceeds the limit of 10 bytes", small);
  REQUIRE(s.extract("many-entries"));
}

TEST_CASE("hostile tar: truncated and damaged archives are refused") {
  Sandbox s;
  s.expect_error("truncated-data", "entry \"t\": Truncated tar archive");
  s.expect_error("bad-checksum", "reading layer tar after entry \"ok\": Damaged tar archive");
  s.expect_error("bad-checksum-first", "reading layer tar: Unrecognized archive format");
  s.expect_error("garbage", "reading layer tar: Unrecognized archive format");
}

TEST_CASE("hostile tar: corrupt and truncated compression is refused") {
  Sandbox s;
  auto work = fs::TempDir::create();
  REQUIRE(work);
  for (auto c : {Compression::kGzip, Compression::kZstd}) {
    auto in = sys::open(corpus_dir() + "/many-entries.tar", O_RDONLY);
    REQUIRE(in);
    std::string blob_path = work->path() + "/blob";
    auto out = sys::open(blob_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(out);
    REQUIRE(write_layer_from_tar(in->get(), out->get(), {.compression = c}));
    std::string blob = read_whole(blob_path);
    std::string name = c == Compression::kGzip ? "gzip" : "zstd";
    INFO(name);
    write_whole(work->path() + "/truncated", blob.substr(0, blob.size() - 12));
    auto r = s.extract_file(work->path() + "/truncated");
    REQUIRE(!r);
    CHECK(r.error().message() ==
          "extracting layer into " + s.target() + ": " + name + ": truncated stream");
    s.check_clean();
    std::string corrupt = blob;
    corrupt[blob.size() / 2] ^= 0x5a;
    corrupt[blob.size() / 2 + 1] ^= 0x5a;
    write_whole(work->path() + "/corrupt", corrupt);
    r = s.extract_file(work->path() + "/corrupt");
    REQUIRE(!r);
    CHECK(r.error().kind() == ErrorKind::kCorrupt);
    CHECK(r.error().message().rfind("extracting layer into " + s.target() + ": " + name + ": ",
                                    0) == 0);
    s.check_clean();
  }
}

TEST_CASE("hostile tar: whiteouts stay plain files and later entries replace earlier ones") {
  Sandbox s;
  auto r = s.extract("whiteouts");
  REQUIRE(r);
  CHECK(r->entries == 3);
  CHECK(read_whole(s.target() + "/d/.wh..wh..opq").empty());
  CHECK(read_whole(s.target() + "/.wh.gone").empty());
  Sandbox t;
  REQUIRE(t.extract("replace-file"));
  CHECK(read_whole(t.target() + "/a") == "two\n");
  Sandbox u;
  REQUIRE(u.extract("replace-dir-with-file"));
  CHECK(read_whole(u.target() + "/d") == "now a file\n");
}
