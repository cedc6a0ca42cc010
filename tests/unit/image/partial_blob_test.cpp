// image/byte_ranges.h and image/partial_blob.h: the bytes of a blob a lazy mount fetched, kept
// for a later pull, and the record of which are present.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>

#include "base/fs.h"
#include "image/byte_ranges.h"
#include "image/partial_blob.h"
#include "image/store.h"

using namespace imgbuild;
using namespace imgbuild::image;

namespace {

std::vector<ByteRange> v(std::initializer_list<ByteRange> l) { return l; }

struct Fixture {
  fs::TempDir dir = *fs::TempDir::create("/tmp", "imgbuild-partial-test-");
  Store store = *Store::open(fs::join(dir.path(), "root"));
  std::string bytes;
  Descriptor blob;

  Fixture() {
    for (int i = 0; i < 100000; ++i) bytes += static_cast<char>('a' + (i * 13) % 26);
    blob = Descriptor{"application/vnd.oci.image.layer.v1.tar+gzip", Digest::of(bytes),
                      static_cast<int64_t>(bytes.size())};
  }
  std::string_view slice(int64_t begin, int64_t end) const {
    return std::string_view(bytes).substr(static_cast<size_t>(begin),
                                          static_cast<size_t>(end - begin));
  }
};

}  // namespace

TEST_CASE("byte ranges merge what overlaps or touches and keep gaps apart") {
  ByteRanges r;
  r.add(10, 20);
  r.add(30, 40);
  r.add(5, 5);  // empty: ignored
  CHECK(r.ranges() == v({{10, 20}, {30, 40}}));
  r.add(20, 25);  // touches
  CHECK(r.ranges() == v({{10, 25}, {30, 40}}));
  r.add(0, 2);
  r.add(24, 31);  // bridges two
  CHECK(r.ranges() == v({{0, 2}, {10, 40}}));
  r.add(1, 100);  // swallows everything after it
  CHECK(r.ranges() == v({{0, 100}}));
  CHECK(r.total() == 100);

  ByteRanges g;
  g.add(10, 20);
  g.add(50, 60);
  CHECK(g.covering(9) == std::nullopt);
  CHECK(g.covering(10) == ByteRange{10, 20});
  CHECK(g.covering(19) == ByteRange{10, 20});
  CHECK(g.covering(20) == std::nullopt);
  CHECK(g.next_present(0, 100) == 10);
  CHECK(g.next_present(15, 100) == 15);
  CHECK(g.next_present(20, 100) == 50);
  CHECK(g.next_present(20, 40) == 40);
  CHECK(g.next_present(60, 100) == 100);
}

TEST_CASE("a partial blob keeps bytes at their offsets and records them") {
  Fixture f;
  CHECK_FALSE(*PartialBlob::open(f.store, f.blob));
  {
    auto p = *PartialBlob::create(f.store, f.blob);
    REQUIRE(p.add(1000, f.slice(1000, 3000)));
    REQUIRE(p.add(90000, f.slice(90000, 100000)));
    REQUIRE(p.add(3000, f.slice(3000, 4000)));
    auto bad = p.add(99999, f.slice(0, 2));
    REQUIRE_FALSE(bad);
    CHECK(bad.error().kind() == ErrorKind::kInvalidArgument);
  }
  auto p = PartialBlob::open(f.store, f.blob);
  REQUIRE(p);
  REQUIRE(*p);
  CHECK((*p)->present()->ranges() == v({{1000, 4000}, {90000, 100000}}));
  CHECK(*(*p)->read(1500, 2500) == f.slice(1500, 4000));
  CHECK(*(*p)->read(90000, 10000) == f.slice(90000, 100000));

  REQUIRE(PartialBlob::remove(f.store, f.blob.digest));
  CHECK_FALSE(fs::exists(PartialBlob::data_path(f.store, f.blob.digest)));
  CHECK_FALSE(fs::exists(PartialBlob::ranges_path(f.store, f.blob.digest)));
  CHECK_FALSE(*PartialBlob::open(f.store, f.blob));
  CHECK(PartialBlob::remove(f.store, f.blob.digest));  // already gone: fine
}

TEST_CASE("a torn or garbled range record is ignored") {
  CHECK(partial_range_line(10, 20).ends_with("\n"));
  CHECK(parse_partial_range_line(partial_range_line(10, 20)) == ByteRange{10, 20});
  std::string line = partial_range_line(1000, 2000);
  CHECK_FALSE(parse_partial_range_line(line.substr(0, line.size() - 1)));  // torn
  std::string flipped = line;
  flipped[1] = '9';  // "1900 2000 <sum of 1000 2000>"
  CHECK_FALSE(parse_partial_range_line(flipped));
  CHECK_FALSE(parse_partial_range_line("1000 2000\n"));
  CHECK_FALSE(parse_partial_range_line("garbage\n"));
  CHECK_FALSE(parse_partial_range_line(partial_range_line(20, 10)));  // empty

  Fixture f;
  {
    auto p = *PartialBlob::create(f.store, f.blob);
    REQUIRE(p.add(0, f.slice(0, 100)));
  }
  std::string records = *fs::read_file(PartialBlob::ranges_path(f.store, f.blob.digest));
  records += flipped + partial_range_line(200, 300000) /* past the blob */ + "garbage\n" +
             partial_range_line(500, 600) + partial_range_line(700, 800).substr(0, 5);
  REQUIRE(fs::write_file_atomic(PartialBlob::ranges_path(f.store, f.blob.digest), records));
  auto p = **PartialBlob::open(f.store, f.blob);
  CHECK(p.present()->ranges() == v({{0, 100}, {500, 600}}));
  // A record added after a torn line is not lost with it.
  REQUIRE(p.add(5000, f.slice(5000, 5100)));
  CHECK(p.present()->ranges() == v({{0, 100}, {500, 600}, {5000, 5100}}));
}

TEST_CASE("threads and processes add to one partial blob at once") {
  Fixture f;
  constexpr int kPieces = 200;  // of 500 bytes, interleaved between writers
  auto write_every = [&](int first, int step) {
    auto p = *PartialBlob::create(f.store, f.blob);  // a descriptor of its own, as a process has
    for (int i = first; i < kPieces; i += step) {
      REQUIRE(p.add(i * 500, f.slice(i * 500, i * 500 + 500)));
    }
  };
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    auto p = PartialBlob::create(f.store, f.blob);
    bool ok = p.has_value();
    for (int i = 3; ok && i < kPieces; i += 4)
      ok = bool(p->add(i * 500, f.slice(i * 500, i * 500 + 500)));
    ::_exit(ok ? 0 : 1);
  }
  std::thread a(write_every, 0, 4), b(write_every, 1, 4), c(write_every, 2, 4);
  a.join();
  b.join();
  c.join();
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  auto p = **PartialBlob::open(f.store, f.blob);
  CHECK(p.present()->ranges() == v({{0, kPieces * 500}}));
  CHECK(*p.read(0, kPieces * 500) == f.slice(0, kPieces * 500));
  std::string records = *fs::read_file(PartialBlob::ranges_path(f.store, f.blob.digest));
  CHECK(std::count(records.begin(), records.end(), '\n') == kPieces);
}
