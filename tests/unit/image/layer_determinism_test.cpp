// Layers are reproducible: the digest depends only on the tree's contents and metadata, never on
// creation order, inode numbers or (with SOURCE_DATE_EPOCH) the time of the build; and the tars are
// ordinary tars other tools read.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "base/fs.h"
#include "base/subprocess.h"
#include "base/sys.h"
#include "image/layer_writer.h"
#include "tests/unit/image/layer_test_tree.h"

using namespace imgbuild;
using namespace imgbuild::image;
using namespace imgbuild::image::testing;

namespace {

LayerBlob write_layer(const std::string& dir, const LayerWriteOptions& options,
                      const std::string& out_path = "/dev/null") {
  auto out = sys::open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(out);
  auto blob = write_layer_from_dir(dir, out->get(), options);
  REQUIRE(blob);
  return *blob;
}

// The same logical tree, built in one of two orders, with all times set to `when`.
void make_tree(const std::string& d, bool reverse, time_t when) {
  std::vector<std::string> files = {"b/two", "a/one", "a/z/three", "c"};
  if (reverse) std::reverse(files.begin(), files.end());
  for (const auto& f : files) {
    std::string full = d + "/" + f;
    REQUIRE(fs::make_dirs(full.substr(0, full.rfind('/'))));
    write_whole(full, "contents of " + f + "\n");
  }
  // The hard link gets the same primary name whichever name was created first.
  if (reverse) {
    write_whole(d + "/b/link2", "linked\n");
    REQUIRE(link((d + "/b/link2").c_str(), (d + "/a/link1").c_str()) == 0);
  } else {
    write_whole(d + "/a/link1", "linked\n");
    REQUIRE(link((d + "/a/link1").c_str(), (d + "/b/link2").c_str()) == 0);
  }
  REQUIRE(symlink("a/one", (d + "/s").c_str()) == 0);
  for (const char* p : {"a/one", "a/z/three", "b/two", "c", "a/link1", "s", "a/z", "a", "b"}) {
    set_mtime(d + "/" + p, when);
  }
}

}  // namespace

TEST_CASE("layer digest is the same for the same tree written twice") {
  auto d = fs::TempDir::create();
  REQUIRE(d);
  make_tree(d->path(), false, 1650000000);
  for (auto c : {Compression::kGzip, Compression::kZstd, Compression::kNone}) {
    LayerBlob one = write_layer(d->path(), {.compression = c});
    LayerBlob two = write_layer(d->path(), {.compression = c});
    CHECK(one.digest == two.digest);
    CHECK(one.diff_id == two.diff_id);
  }
}

TEST_CASE("layer digest ignores creation order and build time with SOURCE_DATE_EPOCH") {
  auto d1 = fs::TempDir::create();
  auto d2 = fs::TempDir::create();
  REQUIRE(d1);
  REQUIRE(d2);
  make_tree(d1->path(), false, 1700000000);
  make_tree(d2->path(), true, 1800000000);
  LayerWriteOptions opts{.compression = Compression::kGzip, .source_date_epoch = 1600000000};
  LayerBlob one = write_layer(d1->path(), opts);
  LayerBlob two = write_layer(d2->path(), opts);
  CHECK(one.digest == two.digest);
  CHECK(one.diff_id == two.diff_id);
  opts.compression = Compression::kZstd;
  CHECK(write_layer(d1->path(), opts).digest == write_layer(d2->path(), opts).digest);
  // Without the clamp the times differ and so do the layers.
  CHECK(write_layer(d1->path(), {}).diff_id != write_layer(d2->path(), {}).diff_id);
  // Times before the epoch are kept.
  opts.source_date_epoch = 1900000000;
  CHECK(write_layer(d1->path(), opts).diff_id == write_layer(d1->path(), {}).diff_id);
}

TEST_CASE("layer tar lists in sorted order with numeric owners for GNU tar and python tarfile") {
  auto d = fs::TempDir::create();
  REQUIRE(d);
  make_tree(d->path(), true, 1650000000);
  write_whole(d->path() + "/" + std::string(130, 'L'), "long name\n");
  set_mtime(d->path() + "/" + std::string(130, 'L'), 1650000000);
  auto work = fs::TempDir::create();
  REQUIRE(work);
  std::string blob = work->path() + "/layer.tar.gz";
  write_layer(d->path(), {.compression = Compression::kGzip}, blob);

  std::string long_name(130, 'L');
  auto gnu = run_process({"tar", "-tzf", blob});
  REQUIRE(gnu);
  REQUIRE(gnu->exit_code == 0);
  CHECK(gnu->out ==
        long_name + "\na/\na/link1\na/one\na/z/\na/z/three\nb/\nb/link2\nb/two\nc\ns\n");

  auto py = run_process(
      {"python3", "-c",
       "import sys, tarfile\n"
       "for m in tarfile.open(sys.argv[1]):\n"
       "  print(m.name, m.type.decode(), oct(m.mode), m.uid, m.gid, repr(m.uname), repr(m.gname),\n"
       "        m.mtime, m.size, m.linkname)\n",
       blob});
  REQUIRE(py);
  INFO(py->err);
  REQUIRE(py->exit_code == 0);
  std::string uid = std::to_string(geteuid()) + " " + std::to_string(getegid());
  CHECK(py->out == long_name + " 0 0o644 " + uid + " '' '' 1650000000 10 \n" + "a 5 0o755 " + uid +
                       " '' '' 1650000000 0 \n" + "a/link1 0 0o644 " + uid +
                       " '' '' 1650000000 7 \n" + "a/one 0 0o644 " + uid +
                       " '' '' 1650000000 18 \n" + "a/z 5 0o755 " + uid + " '' '' 1650000000 0 \n" +
                       "a/z/three 0 0o644 " + uid + " '' '' 1650000000 22 \n" + "b 5 0o755 " + uid +
                       " '' '' 1650000000 0 \n" + "b/link2 1 0o644 " + uid +
                       " '' '' 1650000000 0 a/link1\n" + "b/two 0 0o644 " + uid +
                       " '' '' 1650000000 18 \n" + "c 0 0o644 " + uid + " '' '' 1650000000 14 \n" +
                       "s 2 0o777 " + uid + " '' '' 1650000000 0 a/one\n");
}
