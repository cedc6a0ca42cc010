// Media types, format detection, and the streaming compressors/decompressors of the layer codec.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <random>

#include "base/fs.h"
#include "base/subprocess.h"
#include "base/sys.h"
#include "image/compression.h"
#include "image/compression_reader.h"
#include "image/compression_writer.h"
#include "tests/support/skip.h"
#include "tests/unit/image/layer_test_tree.h"

using namespace imgbuild;
using namespace imgbuild::image;
using namespace imgbuild::image::testing;

namespace {

// Half compressible text, half noise, a few MiB: spans many gzip blocks.
std::string sample(size_t size) {
  std::mt19937 rng(42);
  std::string s;
  s.reserve(size);
  while (s.size() < size) {
    if ((s.size() / 100000) % 2 == 0) {
      s += "line " + std::to_string(s.size() % 977) + " of a fairly repetitive text\n";
    } else {
      s += static_cast<char>(rng() & 0xff);
    }
  }
  s.resize(size);
  return s;
}

std::string compress(const std::string& path, Compression c, const std::string& data, int threads,
                     CompressedBlob* blob_out = nullptr) {
  auto fd = sys::open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd);
  auto comp = BlobCompressor::create(c, fd->get(), -1, threads);
  REQUIRE(comp);
  // Odd chunk sizes exercise the block splitting.
  for (size_t pos = 0; pos < data.size(); pos += 70001) {
    REQUIRE((*comp)->write(std::string_view(data).substr(pos, 70001)));
  }
  auto blob = (*comp)->finish();
  REQUIRE(blob);
  std::string bytes = read_whole(path);
  CHECK(blob->digest == Digest::of(bytes));
  CHECK(blob->size == static_cast<int64_t>(bytes.size()));
  if (blob_out != nullptr) *blob_out = *blob;
  return bytes;
}

Result<std::string> decompress(const std::string& path) {
  auto fd = sys::open(path, O_RDONLY);
  REQUIRE(fd);
  auto reader = TRY(DecompressReader::open(fd->get()));
  std::string out;
  for (;;) {
    std::string_view chunk = TRY(reader->next());
    if (chunk.empty()) break;
    out.append(chunk);
  }
  return out;
}

}  // namespace

TEST_CASE("layer media types map to compressions and back") {
  CHECK(layer_media_type(Compression::kNone) == "application/vnd.oci.image.layer.v1.tar");
  CHECK(layer_media_type(Compression::kGzip) == "application/vnd.oci.image.layer.v1.tar+gzip");
  CHECK(layer_media_type(Compression::kZstd) == "application/vnd.oci.image.layer.v1.tar+zstd");
  for (auto c : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    CHECK(compression_for_media_type(layer_media_type(c)).value() == c);
  }
  CHECK(compression_for_media_type("application/vnd.docker.image.rootfs.diff.tar.gzip").value() ==
        Compression::kGzip);
  CHECK(compression_for_media_type("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip")
            .value() == Compression::kGzip);
  CHECK(compression_for_media_type("application/vnd.oci.image.layer.nondistributable.v1.tar")
            .value() == Compression::kNone);
  auto bad = compression_for_media_type("application/vnd.oci.image.config.v1+json");
  REQUIRE(!bad);
  CHECK(bad.error().kind() == ErrorKind::kUnsupported);
  CHECK(bad.error().message() ==
        "unsupported layer media type \"application/vnd.oci.image.config.v1+json\"");
  CHECK(parse_compression("zstd").value() == Compression::kZstd);
  CHECK(parse_compression("lz4").error().message() ==
        "unknown compression \"lz4\" (expected gzip, zstd, estargz or none)");
}

TEST_CASE("stream format is detected from magic bytes") {
  CHECK(detect_stream_format("\x1f\x8b\x08") == StreamFormat::kGzip);
  CHECK(detect_stream_format("\x28\xb5\x2f\xfd\x00") == StreamFormat::kZstd);
  CHECK(detect_stream_format(std::string_view("\xfd"
                                              "7zXZ\0",
                                              6)) == StreamFormat::kXz);
  CHECK(detect_stream_format("BZh91AY") == StreamFormat::kBzip2);
  CHECK(detect_stream_format("BZhello.txt") == StreamFormat::kPlain);
  CHECK(detect_stream_format("etc/passwd") == StreamFormat::kPlain);
  CHECK(detect_stream_format("") == StreamFormat::kPlain);
}

TEST_CASE("compressed blobs decompress to the input with gzip, zstd and none") {
  auto dir = fs::TempDir::create();
  REQUIRE(dir);
  std::string data = sample(3 << 20);
  for (auto c : {Compression::kGzip, Compression::kZstd, Compression::kNone}) {
    INFO(compression_name(c));
    std::string path = dir->path() + "/blob";
    std::string bytes = compress(path, c, data, 2);
    if (c != Compression::kNone) CHECK(bytes.size() < data.size() * 3 / 4);
    auto back = decompress(path);
    REQUIRE(back);
    CHECK(*back == data);
  }
  // Empty input still makes a valid, empty stream.
  compress(dir->path() + "/empty.gz", Compression::kGzip, "", 2);
  CHECK(decompress(dir->path() + "/empty.gz").value().empty());
  auto gz = run_process({"gzip", "-t", dir->path() + "/empty.gz"});
  REQUIRE(gz);
  CHECK(gz->exit_code == 0);
}

TEST_CASE("parallel gzip output is independent of the thread count and valid for gzip(1)") {
  auto dir = fs::TempDir::create();
  REQUIRE(dir);
  std::string data = sample(2 << 20);
  std::string one = compress(dir->path() + "/1.gz", Compression::kGzip, data, 1);
  std::string four = compress(dir->path() + "/4.gz", Compression::kGzip, data, 4);
  CHECK(one == four);
  auto r = run_process({"gzip", "-dc", dir->path() + "/4.gz"});
  REQUIRE(r);
  CHECK(r->exit_code == 0);
  CHECK(r->out == data);
}

TEST_CASE("zstd output is independent of the worker count and valid for zstd(1)") {
  auto dir = fs::TempDir::create();
  REQUIRE(dir);
  std::string data = sample(2 << 20);
  CHECK(compress(dir->path() + "/1.zst", Compression::kZstd, data, 1) ==
        compress(dir->path() + "/3.zst", Compression::kZstd, data, 3));
  auto r = run_process({"zstd", "-q", "-dc", dir->path() + "/3.zst"});
  if (!r) {
    ::imgbuild::testing::skip("zstd(1) not installed: the external check");
    return;
  }
  CHECK(r->exit_code == 0);
  CHECK(r->out == data);
}

TEST_CASE("corrupt and truncated compressed streams are refused") {
  auto dir = fs::TempDir::create();
  REQUIRE(dir);
  std::string data = sample(1 << 20);
  std::string gz = compress(dir->path() + "/a.gz", Compression::kGzip, data, 2);
  std::string zst = compress(dir->path() + "/a.zst", Compression::kZstd, data, 2);
  auto expect_error = [&](const std::string& bytes, const std::string& message) {
    write_whole(dir->path() + "/bad", bytes);
    auto r = decompress(dir->path() + "/bad");
    REQUIRE(!r);
    CHECK(r.error().kind() == ErrorKind::kCorrupt);
    CHECK(r.error().message() == message);
  };
  expect_error(gz.substr(0, gz.size() / 2), "gzip: truncated stream");
  expect_error(zst.substr(0, zst.size() / 2), "zstd: truncated stream");
  std::string bad_gz = gz;
  bad_gz[bad_gz.size() - 5] ^= 0x55;  // the CRC no longer matches
  expect_error(bad_gz, "gzip: incorrect data check");
  std::string bad_gz_header = gz;
  bad_gz_header[2] = 9;  // unknown compression method
  expect_error(bad_gz_header, "gzip: unknown compression method");
  expect_error(gz + "junk", "gzip: trailing garbage after the compressed stream");
  std::string bad_zst = zst;
  bad_zst[4] = static_cast<char>(0xff);  // reserved frame header bits
  expect_error(bad_zst, "zstd: Unsupported frame parameter");
}
