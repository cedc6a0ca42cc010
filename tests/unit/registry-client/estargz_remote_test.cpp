// fetch_estargz_index against a scripted registry serving a real eStargz blob: how many Range
// requests the footer and TOC cost (one when the TOC lies in the blob's last bytes, two when it
// starts before them), what is kept for a later pull, and a TOC that does not match its
// annotation.
#include <catch2/catch.hpp>

#include <fcntl.h>

#include "base/fs.h"
#include "base/sys.h"
#include "image/estargz_toc.h"
#include "image/estargz_writer.h"
#include "image/layer_writer.h"
#include "registry-client/estargz_remote.h"
#include "registry-client/session.h"
#include "tests/unit/registry-client/fake_transport.h"

using namespace imgbuild;
using namespace imgbuild::registry;

namespace {

struct Layer {
  std::string blob;
  image::Descriptor desc;
  int64_t toc_offset = 0;
};

// A layer of `files` files of `size` random-ish bytes each, as eStargz.
Layer make_layer(int files, size_t size) {
  auto tmp = fs::TempDir::create();
  REQUIRE(tmp);
  std::string dir = tmp->path() + "/root";
  REQUIRE(fs::make_dirs(dir));
  uint32_t x = 12345;
  for (int i = 0; i < files; ++i) {
    std::string data;
    for (size_t k = 0; k < size; ++k) {
      x = x * 1103515245 + 12345;
      data += static_cast<char>(x >> 24);
    }
    REQUIRE(fs::write_file_atomic(dir + "/f" + std::to_string(i), data));
  }
  std::string tar = tmp->path() + "/layer.tar";
  std::string out = tmp->path() + "/layer.estargz";
  {
    auto fd = sys::open(tar, O_RDWR | O_CREAT, 0644);
    REQUIRE(fd);
    REQUIRE(
        image::write_layer_from_dir(dir, fd->get(), {.compression = image::Compression::kNone}));
  }
  auto in = sys::open(tar, O_RDONLY);
  auto outfd = sys::open(out, O_RDWR | O_CREAT | O_TRUNC, 0644);
  REQUIRE(in);
  REQUIRE(outfd);
  auto info = image::write_estargz(in->get(), outfd->get());
  REQUIRE(info);
  Layer layer;
  layer.blob = *fs::read_file(out);
  layer.desc.media_type = "application/vnd.oci.image.layer.v1.tar+gzip";
  layer.desc.digest = info->digest;
  layer.desc.size = info->size;
  layer.desc.annotations = info->annotations();
  layer.toc_offset = info->toc_offset;
  return layer;
}

// Serves the blob's byte ranges; records each Range header.
struct Registry {
  std::string blob;
  testing::FakeTransport transport{[this](const HttpRequest& req) -> Result<HttpResponse> {
    if (req.url.ends_with("/v2/")) return testing::response(200);
    std::string range = find_header(req.headers, "Range").value_or("");
    REQUIRE(range.starts_with("bytes="));
    size_t from = std::stoull(range.substr(6));
    size_t to = std::stoull(range.substr(range.find('-') + 1)) + 1;
    return testing::response(206, blob.substr(from, to - from));
  }};

  std::vector<std::string> ranges() const {
    std::vector<std::string> out;
    for (const auto& r : transport.requests()) {
      if (!r.url.ends_with("/v2/")) out.push_back(find_header(r.headers, "Range").value_or(""));
    }
    return out;
  }
};

std::string range(int64_t begin, int64_t end) {
  return "bytes=" + std::to_string(begin) + "-" + std::to_string(end - 1);
}

struct Fetched {
  Result<image::EstargzIndex> index;
  int64_t bytes = 0;
  std::vector<std::pair<int64_t, std::string>> kept;
};

Fetched fetch(Registry& registry, const image::Descriptor& desc) {
  Session session(registry.transport, "127.0.0.1:5000", "app", Access::kPull, Credential{}, {});
  Fetched out{.index = fail(ErrorKind::kInternal, "not run")};
  out.index =
      fetch_estargz_index(session, desc, &out.bytes, [&](int64_t offset, std::string_view bytes) {
        out.kept.emplace_back(offset, std::string(bytes));
      });
  return out;
}

}  // namespace

TEST_CASE("a TOC within the blob's last bytes costs one Range request, footer included") {
  Layer layer = make_layer(4, 200 << 10);  // ~800 kB of incompressible data, a small TOC
  Registry registry{layer.blob};
  auto got = fetch(registry, layer.desc);
  INFO((got.index ? "" : got.index.error().message()));
  REQUIRE(got.index);
  CHECK(got.index->lookup("f3") != nullptr);
  auto ranges = registry.ranges();
  REQUIRE(ranges.size() == 1);
  int64_t size = layer.desc.size;
  int64_t tail_begin = size - image::estargz::kFooterSize - std::max<int64_t>(size / 64, 16 << 10);
  CHECK(ranges[0] == range(tail_begin, size));
  CHECK(got.bytes == size - tail_begin);
  // Kept: the TOC member and the footer, not the file bytes before them.
  REQUIRE(got.kept.size() == 2);
  CHECK(got.kept[0].first == layer.toc_offset);
  CHECK(got.kept[0].second ==
        layer.blob.substr(layer.toc_offset, static_cast<size_t>(size - image::estargz::kFooterSize -
                                                                layer.toc_offset)));
  CHECK(got.kept[1].first == size - image::estargz::kFooterSize);
}

TEST_CASE("a TOC starting before the blob's last bytes costs a second request for its start") {
  Layer layer = make_layer(3000, 1);  // a TOC much larger than a 64th of the layer
  int64_t size = layer.desc.size;
  int64_t tail_begin = size - image::estargz::kFooterSize - std::max<int64_t>(size / 64, 16 << 10);
  REQUIRE(layer.toc_offset < tail_begin);
  Registry registry{layer.blob};
  auto got = fetch(registry, layer.desc);
  INFO((got.index ? "" : got.index.error().message()));
  REQUIRE(got.index);
  CHECK(got.index->lookup("f2999") != nullptr);
  auto ranges = registry.ranges();
  REQUIRE(ranges.size() == 2);
  CHECK(ranges[0] == range(tail_begin, size));
  CHECK(ranges[1] == range(layer.toc_offset, tail_begin));
  CHECK(got.bytes == size - layer.toc_offset);
}

TEST_CASE("a TOC that does not match its annotation is refused and nothing is kept") {
  Layer layer = make_layer(4, 1000);
  layer.desc.annotations[std::string(image::estargz::kTocDigestAnnotation)] =
      image::Digest::of("something else").str();
  Registry registry{layer.blob};
  auto got = fetch(registry, layer.desc);
  REQUIRE_FALSE(got.index);
  CHECK(got.index.error().message().find("does not match the annotation") != std::string::npos);
  CHECK(got.kept.empty());
}
