// StreamingUnpack: a layer fed in pieces (as a download delivers it) ends up as the same
// directory unpack_layer() makes from the whole blob; failures leave nothing in layers/ or tmp/.
#include <catch2/catch.hpp>
#include <filesystem>

#include "base/fs.h"
#include "base/sys.h"
#include "image/layer_writer.h"
#include "image/streaming_unpack.h"

using namespace imgbuild;
using namespace imgbuild::image;

namespace {

struct Fixture {
  fs::TempDir dir = *fs::TempDir::create("/tmp", "imgbuild-stream-unpack-");
  Store store = *Store::open(fs::join(dir.path(), "root"));
  std::string blob;
  Digest diff_id;

  explicit Fixture(Compression compression = Compression::kGzip) {
    auto src = *fs::TempDir::create("/tmp", "imgbuild-stream-src-");
    REQUIRE(fs::make_dirs(src.path() + "/etc/deep/er"));
    REQUIRE(fs::write_file_atomic(src.path() + "/etc/hello", "world"));
    REQUIRE(fs::write_file_atomic(src.path() + "/.wh.gone", ""));
    std::string big;
    for (int i = 0; i < 3'000'000; ++i) big += static_cast<char>((i * 2654435761u) >> 24);
    REQUIRE(fs::write_file_atomic(src.path() + "/etc/deep/er/big", big));
    auto file = *fs::TempDir::create("/tmp", "imgbuild-stream-blob-");
    auto fd = *sys::open(file.path() + "/blob", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    LayerWriteOptions options;
    options.compression = compression;
    auto layer = write_layer_from_dir(src.path(), fd.get(), options);
    REQUIRE(layer);
    diff_id = layer->diff_id;
    blob = *fs::read_file(file.path() + "/blob");
  }

  bool tmp_empty() const { return std::filesystem::is_empty(store.tmp_dir()); }
};

}  // namespace

TEST_CASE("a layer fed in pieces is extracted and adopted on finish") {
  auto compression = GENERATE(Compression::kGzip, Compression::kZstd, Compression::kNone);
  Fixture f(compression);
  size_t piece = GENERATE(1, 4093, 1 << 20);
  if (piece == 1 && f.blob.size() > 200'000) piece = 7;  // still tiny pieces, fewer calls
  auto unpack = StreamingUnpack::start(f.store, "unpacking layer");
  REQUIRE(unpack);
  for (size_t at = 0; at < f.blob.size(); at += piece) {
    REQUIRE((*unpack)->feed(std::string_view(f.blob).substr(at, piece)));
  }
  CHECK(!f.store.has_layer(f.diff_id));  // nothing visible before finish()
  auto dir = (*unpack)->finish(f.diff_id);
  REQUIRE(dir);
  CHECK(*dir == f.store.layer_path(f.diff_id));
  CHECK(*fs::read_file(*dir + "/etc/hello") == "world");
  CHECK(fs::read_file(*dir + "/etc/deep/er/big")->size() == 3'000'000);
  CHECK(fs::exists(*dir + "/.wh.gone"));
  unpack->reset();
  CHECK(f.tmp_empty());
}

TEST_CASE("a streamed layer whose tar hashes to another diff ID is refused") {
  Fixture f;
  auto unpack = *StreamingUnpack::start(f.store, "unpacking layer L");
  REQUIRE(unpack->feed(f.blob));
  auto r = unpack->finish(Digest::of("not this layer"));
  REQUIRE(!r);
  CHECK(r.error().kind() == ErrorKind::kCorrupt);
  CHECK_THAT(r.error().message(), Catch::Contains("unpacking layer L: diff ID mismatch"));
  CHECK(!f.store.has_layer(f.diff_id));
  unpack.reset();
  CHECK(f.tmp_empty());
}

TEST_CASE("a truncated stream is an error and leaves nothing behind") {
  Fixture f;
  auto unpack = *StreamingUnpack::start(f.store, "unpacking layer");
  REQUIRE(unpack->feed(std::string_view(f.blob).substr(0, f.blob.size() / 2)));
  auto r = unpack->finish(f.diff_id);
  REQUIRE(!r);
  CHECK(r.error().kind() == ErrorKind::kCorrupt);
  CHECK(!f.store.has_layer(f.diff_id));
  unpack.reset();
  CHECK(f.tmp_empty());
}

TEST_CASE("garbage makes feed fail once the extractor has given up") {
  Fixture f;
  auto unpack = *StreamingUnpack::start(f.store, "unpacking layer G");
  std::string junk(1 << 16, 'x');
  Status st;
  // The extractor fails on the first block; a later feed reports it (bounded: never hangs).
  for (int i = 0; i < 10'000 && st; ++i) st = unpack->feed(junk);
  REQUIRE(!st);
  CHECK_THAT(st.error().message(), Catch::Contains("unpacking layer G"));
  unpack.reset();
  CHECK(f.tmp_empty());
}

TEST_CASE("an abandoned stream (download failed) removes its staging directory") {
  Fixture f;
  auto unpack = *StreamingUnpack::start(f.store, "unpacking layer");
  REQUIRE(unpack->feed(std::string_view(f.blob).substr(0, 1000)));
  unpack.reset();
  CHECK(f.tmp_empty());
  CHECK(!f.store.has_layer(f.diff_id));
}
