// Directory -> layer blob -> extracted directory gives back the same tree, for every compression.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "base/fs.h"
#include "base/subprocess.h"
#include "base/sys.h"
#include "image/layer_extractor.h"
#include "image/layer_writer.h"
#include "tests/unit/image/layer_test_tree.h"

using namespace imgbuild;
using namespace imgbuild::image;
using namespace imgbuild::image::testing;

namespace {

bool root() { return geteuid() == 0; }

void round_trip(Compression compression) {
  auto src = fs::TempDir::create();
  REQUIRE(src);
  bool xattrs = make_rich_tree(src->path());
  if (!xattrs) WARN("user xattrs unsupported on " << src->path() << ": not round-tripped");
  if (!root()) WARN("not root: devices, owners and security.capability not round-tripped");

  auto work = fs::TempDir::create();
  REQUIRE(work);
  std::string blob_path = work->path() + "/blob";
  auto out = sys::open(blob_path, O_RDWR | O_CREAT, 0644);
  REQUIRE(out);
  auto blob = write_layer_from_dir(src->path(), out->get(), {.compression = compression});
  REQUIRE(blob);
  CHECK(blob->media_type == layer_media_type(compression));
  struct stat st {};
  REQUIRE(fstat(out->get(), &st) == 0);
  CHECK(blob->size == st.st_size);
  CHECK(blob->digest == Digest::of(read_whole(blob_path)));
  if (compression == Compression::kNone) CHECK(blob->digest == blob->diff_id);

  REQUIRE(lseek(out->get(), 0, SEEK_SET) == 0);
  std::string target = work->path() + "/extracted";
  auto layer = extract_layer(out->get(), target);
  REQUIRE(layer);
  CHECK(layer->diff_id == blob->diff_id);
  CHECK(describe_tree(target) == describe_tree(src->path()));

  struct stat sparse {};
  REQUIRE(stat((target + "/sparse").c_str(), &sparse) == 0);
  CHECK(sparse.st_size == (64 << 20) + 4);
  CHECK(sparse.st_blocks * 512 < (1 << 20));  // the hole stayed a hole
  CHECK(fs::exists(target + "/usr/.wh.gone"));
  CHECK(fs::exists(target + "/secret/.wh..wh..opq"));
}

}  // namespace

TEST_CASE("layer round trip restores the tree exactly with gzip") {
  round_trip(Compression::kGzip);
}

TEST_CASE("layer round trip restores the tree exactly with zstd") {
  round_trip(Compression::kZstd);
}

TEST_CASE("layer round trip restores the tree exactly uncompressed") {
  round_trip(Compression::kNone);
}

TEST_CASE("layer extract refuses an existing target and leaves it alone") {
  auto work = fs::TempDir::create();
  REQUIRE(work);
  REQUIRE(mkdir((work->path() + "/t").c_str(), 0755) == 0);
  write_whole(work->path() + "/t/keep", "mine");
  auto fd = sys::open("/dev/null", O_RDONLY);
  REQUIRE(fd);
  auto r = extract_layer(fd->get(), work->path() + "/t");
  REQUIRE(!r);
  CHECK(r.error().message() == "extracting layer into " + work->path() + "/t: mkdir(" +
                                   work->path() + "/t): EEXIST (File exists)");
  CHECK(read_whole(work->path() + "/t/keep") == "mine");
}

TEST_CASE("layer import re-compresses a tar and keeps its diff id") {
  auto src = fs::TempDir::create();
  REQUIRE(src);
  write_whole(src->path() + "/hello", "hello\n");
  auto work = fs::TempDir::create();
  REQUIRE(work);
  auto plain = sys::open(work->path() + "/plain.tar", O_RDWR | O_CREAT, 0644);
  REQUIRE(plain);
  auto tar = write_layer_from_dir(src->path(), plain->get(), {.compression = Compression::kNone});
  REQUIRE(tar);
  for (const char* tool : {"xz", "bzip2", "gzip", "zstd"}) {
    INFO(tool);
    auto r = run_process({tool, "-k", "-f", "-q", work->path() + "/plain.tar"});
    if (!r || r->exit_code != 0) {
      WARN(tool << " unavailable: skipped");
      continue;
    }
    std::string ext = std::string(tool) == "xz"      ? ".xz"
                      : std::string(tool) == "bzip2" ? ".bz2"
                      : std::string(tool) == "gzip"  ? ".gz"
                                                     : ".zst";
    auto in = sys::open(work->path() + "/plain.tar" + ext, O_RDONLY);
    REQUIRE(in);
    auto out = sys::open(work->path() + "/out" + ext, O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(out);
    auto blob = write_layer_from_tar(in->get(), out->get(), {.compression = Compression::kZstd});
    REQUIRE(blob);
    CHECK(blob->diff_id == tar->diff_id);
    CHECK(blob->media_type == "application/vnd.oci.image.layer.v1.tar+zstd");
    REQUIRE(lseek(out->get(), 0, SEEK_SET) == 0);
    auto layer = extract_layer(out->get(), work->path() + "/x" + ext);
    REQUIRE(layer);
    CHECK(layer->diff_id == tar->diff_id);
    CHECK(read_whole(work->path() + "/x" + ext + "/hello") == "hello\n");
  }
}
