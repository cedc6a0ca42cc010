// COPY/ADD semantics against Docker's rules, executed into a layer directory over a small fake
// image (plain directories as layers; no mounts).
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "base/fs.h"
#include "base/subprocess.h"
#include "builder/build_context.h"
#include "builder/copy_op.h"
#include "builder/layer_view.h"
#include "builder/source_tree.h"

using namespace imgbuild;
using namespace imgbuild::builder;

namespace {

void write(const std::string& path, const std::string& data, mode_t mode = 0644) {
  REQUIRE(fs::make_dirs(path.substr(0, path.rfind('/'))));
  REQUIRE(fs::write_file_atomic(path, data, mode));
}

struct Fixture {
  fs::TempDir root = fs::TempDir::create().value();
  std::string ctx_dir = root.path() + "/ctx";
  std::string lower = root.path() + "/lower";
  std::string layer = root.path() + "/layer";

  Fixture() {
    write(ctx_dir + "/a.txt", "A");
    write(ctx_dir + "/b.txt", "B");
    write(ctx_dir + "/dir/one", "1");
    write(ctx_dir + "/dir/sub/two", "2", 0600);
    REQUIRE(::symlink("one", (ctx_dir + "/dir/link").c_str()) == 0);
    REQUIRE(::symlink("a.txt", (ctx_dir + "/top-link").c_str()) == 0);
    REQUIRE(::chmod((ctx_dir + "/dir").c_str(), 0750) == 0);
    write(lower + "/etc/passwd",
          "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n");
    write(lower + "/etc/group", "root:x:0:\nstaff:x:50:\n");
    REQUIRE(fs::make_dirs(lower + "/usr/bin"));
    REQUIRE(::symlink("usr/bin", (lower + "/bin").c_str()) == 0);
    REQUIRE(fs::make_dirs(lower + "/existing"));
    REQUIRE(::chmod((lower + "/existing").c_str(), 0700) == 0);
    REQUIRE(::chown((lower + "/existing").c_str(), 5, 6) == 0);
    write(lower + "/afile", "f");
    REQUIRE(fs::make_dirs(layer));
  }

  Status copy(CopyOptions o) {
    IncludeAll all;
    auto ctx = BuildContext::open(ctx_dir, all, "");
    REQUIRE(ctx);
    ContextTree tree(*ctx);
    LayerView view({lower});
    return copy_into_layer(tree, o, view, layer);
  }

  struct stat st(const std::string& rel) {
    struct stat s {};
    REQUIRE(::lstat((layer + "/" + rel).c_str(), &s) == 0);
    return s;
  }
  bool has(const std::string& rel) {
    struct stat s {};
    return ::lstat((layer + "/" + rel).c_str(), &s) == 0;
  }
  std::string read(const std::string& rel) { return fs::read_file(layer + "/" + rel).value(); }
};

CopyOptions opts(std::vector<std::string> sources, std::string dest) {
  CopyOptions o;
  o.sources = std::move(sources);
  o.dest = std::move(dest);
  return o;
}

}  // namespace

TEST_CASE("copy file into a directory given with a trailing slash") {
  Fixture f;
  REQUIRE(f.copy(opts({"a.txt"}, "/new/dir/")));
  CHECK(f.read("new/dir/a.txt") == "A");
  CHECK((f.st("new").st_mode & 07777) == 0755);
  CHECK(f.st("new/dir/a.txt").st_uid == 0);
}

TEST_CASE("copy file without trailing slash renames it") {
  Fixture f;
  REQUIRE(f.copy(opts({"a.txt"}, "/renamed")));
  CHECK(f.read("renamed") == "A");
}

TEST_CASE("copy file onto an existing directory puts it inside") {
  Fixture f;
  REQUIRE(f.copy(opts({"a.txt"}, "/existing")));
  CHECK(f.read("existing/a.txt") == "A");
  // The existing directory is reproduced with its own metadata, not changed.
  CHECK((f.st("existing").st_mode & 07777) == 0700);
  CHECK(f.st("existing").st_uid == 5);
  CHECK(f.st("existing").st_gid == 6);
}

TEST_CASE("copy a directory copies its contents, symlinks as symlinks") {
  Fixture f;
  REQUIRE(f.copy(opts({"dir"}, "/app")));
  CHECK(f.read("app/one") == "1");
  CHECK(f.read("app/sub/two") == "2");
  CHECK((f.st("app/sub/two").st_mode & 07777) == 0600);
  CHECK(S_ISLNK(f.st("app/link").st_mode));
  CHECK(!f.has("app/dir"));
  // A new destination directory takes the source directory's mode.
  CHECK((f.st("app").st_mode & 07777) == 0750);
}

TEST_CASE("copy follows a symlink named as the source") {
  Fixture f;
  REQUIRE(f.copy(opts({"top-link"}, "/x/")));
  CHECK(S_ISREG(f.st("x/top-link").st_mode));
  CHECK(f.read("x/top-link") == "A");
}

TEST_CASE("relative destination is under WORKDIR") {
  Fixture f;
  CopyOptions o = opts({"a.txt"}, "rel/");
  o.workdir = "/work";
  REQUIRE(f.copy(o));
  CHECK(f.read("work/rel/a.txt") == "A");
}

TEST_CASE("destination symlinks are followed inside the image") {
  Fixture f;
  REQUIRE(f.copy(opts({"a.txt"}, "/bin/")));
  CHECK(f.read("usr/bin/a.txt") == "A");
  CHECK(!f.has("bin"));
}

TEST_CASE("wildcards select matching files") {
  Fixture f;
  REQUIRE(f.copy(opts({"*.txt"}, "/w/")));
  CHECK(f.read("w/a.txt") == "A");
  CHECK(f.read("w/b.txt") == "B");
}

TEST_CASE("wildcard without a match is an error") {
  Fixture f;
  auto r = f.copy(opts({"*.none"}, "/w/"));
  REQUIRE(!r);
  CHECK(r.error().message() == "\"*.none\": no source files matched in build context");
}

TEST_CASE("missing source is an error naming it") {
  Fixture f;
  auto r = f.copy(opts({"missing.txt"}, "/w/"));
  REQUIRE(!r);
  CHECK(r.error().message() == "\"missing.txt\": not found in build context");
}

TEST_CASE("source outside the context is refused") {
  Fixture f;
  auto r = f.copy(opts({"../x"}, "/w/"));
  REQUIRE(!r);
  CHECK(r.error().message() == "forbidden path outside the build context: ../x");
}

TEST_CASE("several sources need a directory destination ending in a slash") {
  Fixture f;
  auto r = f.copy(opts({"a.txt", "b.txt"}, "/multi"));
  REQUIRE(!r);
  CHECK(r.error().message() ==
        "When using COPY with more than one source file, the destination must be a directory "
        "and end with a /");
}

TEST_CASE("chown by name resolves in the image's passwd and group") {
  Fixture f;
  CopyOptions o = opts({"a.txt"}, "/owned/");
  LayerView view({f.lower});
  o.chown = resolve_chown("app:staff", view).value();
  REQUIRE(f.copy(o));
  CHECK(f.st("owned/a.txt").st_uid == 1000);
  CHECK(f.st("owned/a.txt").st_gid == 50);
  // Missing parents created by the copy belong to the --chown owner, as in BuildKit.
  CHECK(f.st("owned").st_uid == 1000);
  CHECK(resolve_chown("app", view).value() == Owner{1000, 1001});
  CHECK(resolve_chown("7", view).value() == Owner{7, 7});
  CHECK(resolve_chown("7:8", view).value() == Owner{7, 8});
  auto bad = resolve_chown("nobody", view);
  REQUIRE(!bad);
  CHECK(bad.error().message() ==
        "--chown: unable to find user nobody: no matching entries in passwd file");
}

TEST_CASE("chmod applies to copied files and directories") {
  Fixture f;
  CopyOptions o = opts({"dir"}, "/m");
  o.chmod = parse_chmod("751").value();
  REQUIRE(f.copy(o));
  CHECK((f.st("m/one").st_mode & 07777) == 0751);
  CHECK((f.st("m/sub").st_mode & 07777) == 0751);
  CHECK(!parse_chmod("u+x"));
}

TEST_CASE("parents keeps source paths, exclude skips matches") {
  Fixture f;
  CopyOptions o = opts({"dir/sub/two", "a.txt"}, "/p/");
  o.parents = true;
  REQUIRE(f.copy(o));
  CHECK(f.read("p/dir/sub/two") == "2");
  CHECK(f.read("p/a.txt") == "A");

  Fixture g;
  CopyOptions e = opts({"dir"}, "/e");
  e.excludes = {"sub"};
  REQUIRE(g.copy(e));
  CHECK(g.has("e/one"));
  CHECK(!g.has("e/sub"));

  // BuildKit's patternmatcher rules: `**` crosses directories, `*` does not, '!' re-includes.
  Fixture h;
  CopyOptions x = opts({"dir"}, "/x");
  x.excludes = {"**/t*", "!sub/two", "*o*"};
  REQUIRE(h.copy(x));
  CHECK(h.has("x/sub/two"));
  CHECK(!h.has("x/one"));
  x.excludes = {"x["};
  auto bad = h.copy(x);
  REQUIRE(!bad);
  CHECK(bad.error().message() == "--exclude:1: syntax error in pattern: x[");
}

TEST_CASE("source globs follow Go's filepath.Match") {
  Fixture f;
  CHECK(f.copy(opts({"[ab].txt"}, "/g/")));
  CHECK(f.has("g/a.txt"));
  CHECK(f.has("g/b.txt"));
  auto bang = f.copy(opts({"[!a].txt"}, "/n/"));  // Go: the class of '!' and 'a'
  REQUIRE(bang);
  CHECK(f.has("n/a.txt"));
  CHECK(!f.has("n/b.txt"));
  auto bad = f.copy(opts({"a[-"}, "/b/"));
  REQUIRE(!bad);
  CHECK(bad.error().message() == "\"a[-\": syntax error in pattern");
}

TEST_CASE("hard links within a copy stay hard links") {
  Fixture f;
  REQUIRE(::link((f.ctx_dir + "/a.txt").c_str(), (f.ctx_dir + "/hard").c_str()) == 0);
  REQUIRE(f.copy(opts({"."}, "/h/")));
  CHECK(f.st("h/a.txt").st_ino == f.st("h/hard").st_ino);
}

TEST_CASE("ADD extracts a local gzip tar archive") {
  Fixture f;
  write(f.root.path() + "/src/inner/file", "tarred");
  auto r = run_process(
      {"tar", "-czf", f.ctx_dir + "/arch.tar.gz", "-C", f.root.path() + "/src", "inner"});
  REQUIRE(r);
  REQUIRE(r->exit_code == 0);
  CopyOptions o = opts({"arch.tar.gz"}, "/x/");
  o.extract_archives = true;
  REQUIRE(f.copy(o));
  CHECK(f.read("x/inner/file") == "tarred");
  // COPY does not extract.
  Fixture g;
  write(g.root.path() + "/src/inner/file", "tarred");
  REQUIRE(run_process(
      {"tar", "-czf", g.ctx_dir + "/arch.tar.gz", "-C", g.root.path() + "/src", "inner"}));
  REQUIRE(g.copy(opts({"arch.tar.gz"}, "/x/")));
  CHECK(S_ISREG(g.st("x/arch.tar.gz").st_mode));
}

TEST_CASE("layer view honours whiteouts and opaque directories") {
  auto root = fs::TempDir::create().value();
  std::string l1 = root.path() + "/l1", l2 = root.path() + "/l2";
  write(l1 + "/d/old", "o");
  write(l1 + "/gone", "g");
  write(l1 + "/o/hidden", "h");
  write(l2 + "/.wh.gone", "");
  write(l2 + "/o/.wh..wh..opq", "");
  write(l2 + "/o/new", "n");
  write(l2 + "/d/added", "a");
  LayerView view({l2, l1});
  CHECK(!view.lookup("/gone", false).value());
  CHECK(!view.lookup("/o/hidden", false).value());
  CHECK(view.lookup("/o/new", false).value());
  CHECK(view.list("/d").value() == std::vector<std::string>{"added", "old"});
  CHECK(view.list("/o").value() == std::vector<std::string>{"new"});
  CHECK(view.list("/").value() == std::vector<std::string>{"d", "o"});
}
