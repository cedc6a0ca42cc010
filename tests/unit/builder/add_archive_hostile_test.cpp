// ADD extracts through the layer extractor: the hostile-tar corpus
// (testdata/hostile-tars/make-hostile-tars.py) fails with the archive and the entry named, and
// nothing is written outside the destination.
#include <algorithm>
#include <catch2/catch.hpp>

#include "base/dir_reader.h"
#include "base/fs.h"
#include "base/sys.h"
#include "builder/add_archive.h"
#include "tests/support/hostile_tars.h"

using namespace imgbuild;
using namespace imgbuild::builder;

namespace {

const std::string& corpus_dir() { return ::imgbuild::testing::hostile_tar_dir(); }

std::vector<std::string> list_dir(const std::string& path) {
  auto names = fs::list_dir(path, fs::MissingDir::kIsError);
  REQUIRE(names);
  std::sort(names->begin(), names->end());
  return *names;
}

// ADD into <tmp>/sandbox/dest, which already holds a file, so "../x" would land in sandbox.
struct Sandbox {
  fs::TempDir tmp = fs::TempDir::create().value();
  std::string sandbox = tmp.path() + "/sandbox";
  std::string dest = sandbox + "/dest";
  Sandbox() {
    REQUIRE(fs::make_dirs(dest));
    REQUIRE(fs::write_file_atomic(dest + "/existing", "e", 0644));
  }
  void check_nothing_outside() const {
    CHECK(list_dir(tmp.path()) == std::vector<std::string>{"sandbox"});
    CHECK(list_dir(sandbox) == std::vector<std::string>{"dest"});
    CHECK(!fs::exists("/imgbuild-hostile-evil"));
    CHECK(!fs::exists("/imgbuild-hostile-abs"));
  }
};

}  // namespace

TEST_CASE("ADD of a hostile tar fails naming the archive and writes nothing outside") {
  const std::pair<const char*, std::string> cases[] = {
      {"dotdot", "entry \"../imgbuild-hostile-evil\": path escapes the layer root"},
      {"dotdot-deep", "entry \"a/../../imgbuild-hostile-evil\": path escapes the layer root"},
      {"symlink-then-dotdot",
       "entry \"link/../../imgbuild-hostile-evil\": path escapes the layer root"},
      {"root-symlink", "entry \"./\": cannot replace the layer root"},
      {"symlink-parent-absolute",
       "entry \"link/imgbuild-hostile-evil\": parent \"link\" is a symlink"},
      {"symlink-parent-relative",
       "entry \"link/imgbuild-hostile-evil\": parent \"link\" is a symlink"},
      {"dir-replaced-by-symlink", "entry \"d/imgbuild-hostile-evil\": parent \"d\" is a symlink"},
      {"file-as-parent", "entry \"f/x\": parent \"f\" is not a directory"},
      {"hardlink-escape",
       "entry \"h\": hard link target \"../../etc/passwd\" escapes the layer root"},
      {"hardlink-absolute", "entry \"h\": hard link target \"/etc/passwd\" does not exist (yet)"},
      {"hardlink-before-target", "entry \"h\": hard link target \"later\" does not exist (yet)"},
      {"hardlink-through-symlink",
       "entry \"h\": hard link target \"s/passwd\": parent \"s\" is a symlink"},
      {"hardlink-to-directory", "entry \"h\": hard link target \"d\" is a directory"},
      {"huge-size", "entry \"huge\": size 1000000000000000 is over the limit of 68719476736 bytes"},
      {"long-name", "entry \"" + std::string(200, 'a') +
                        "...(5101 bytes)\": name is 5101 bytes, over the limit of 4096"},
      {"long-component", "entry \"" + std::string(200, 'c') +
                             "...(300 bytes)\": a name component is 300 bytes, over the limit "
                             "of 255"},
      {"truncated-data", "entry \"t\": Truncated tar archive"},
      {"bad-checksum", "reading layer tar after entry \"ok\": Damaged tar archive"},
  };
  for (const auto& [name, message] : cases) {
    INFO("case " << name);
    Sandbox s;
    std::string archive = corpus_dir() + "/" + name + ".tar";
    auto r = extract_archive(archive, s.dest);
    REQUIRE(!r);
    CHECK(r.error().message() == "ADD " + archive + ": extracting into " + s.dest + ": " + message);
    s.check_nothing_outside();
  }
}

TEST_CASE("ADD keeps what is inside the destination and resolves names into it") {
  Sandbox s;
  REQUIRE(extract_archive(corpus_dir() + "/absolute.tar", s.dest));
  REQUIRE(extract_archive(corpus_dir() + "/dotdot-inside.tar", s.dest));
  REQUIRE(extract_archive(corpus_dir() + "/whiteouts.tar", s.dest));
  CHECK(fs::read_file(s.dest + "/imgbuild-hostile-abs/evil").value() == "x\n");
  CHECK(fs::read_file(s.dest + "/b").value() == "x\n");
  CHECK(fs::read_file(s.dest + "/existing").value() == "e");
  s.check_nothing_outside();
}

TEST_CASE("ADD recognises tars, not damaged or foreign files") {
  CHECK(looks_like_archive(corpus_dir() + "/dotdot-inside.tar"));
  CHECK(!looks_like_archive(corpus_dir() + "/garbage.tar"));
  CHECK(!looks_like_archive(corpus_dir() + "/bad-checksum-first.tar"));
  CHECK(!looks_like_archive("/nonexistent/imgbuild-add-archive"));
}
