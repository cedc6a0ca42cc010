// eStargz layers: the blob decompresses to the input tar plus the TOC tar, every chunk the TOC
// names is its own gzip member at the recorded offset with the recorded digest, the footer
// points at the TOC, extraction gives back the tree, and the output does not depend on threads.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include <catch2/catch.hpp>

#include "base/fs.h"
#include "base/sys.h"
#include "image/compression_reader.h"
#include "image/estargz_index.h"
#include "image/estargz_toc.h"
#include "image/estargz_writer.h"
#include "image/gzip_member.h"
#include "image/layer_extractor.h"
#include "image/layer_writer.h"
#include "tests/unit/image/layer_test_tree.h"
#include "tests/unit/image/toc_test_builder.h"

using namespace imgbuild;
using namespace imgbuild::image;
using namespace imgbuild::image::testing;

namespace {

// Inflates the single gzip member starting at `offset`; returns its plain bytes.
std::string inflate_member(std::string_view blob, int64_t offset) {
  auto plain = gunzip_member(blob.substr(static_cast<size_t>(offset)), size_t{1} << 30, "member");
  REQUIRE(plain);
  return *plain;
}

std::string gunzip_all(const std::string& path) {
  auto fd = sys::open(path, O_RDONLY);
  REQUIRE(fd);
  auto reader = DecompressReader::open(fd->get());
  REQUIRE(reader);
  std::string out;
  for (;;) {
    auto chunk = (*reader)->next();
    REQUIRE(chunk);
    if (chunk->empty()) break;
    out.append(*chunk);
  }
  return out;
}

// The directory as a plain layer tar in `work`; returns its path.
std::string write_tar(const std::string& dir, const std::string& work) {
  std::string tar_path = work + "/layer.tar";
  auto out = sys::open(tar_path, O_RDWR | O_CREAT, 0644);
  REQUIRE(out);
  REQUIRE(write_layer_from_dir(dir, out->get(), {.compression = Compression::kNone}));
  return tar_path;
}

struct Converted {
  std::string tar;
  std::string blob;
  EstargzBlob info;
};

Converted convert(const std::string& tar_path, const std::string& out_path,
                  const EstargzOptions& options) {
  auto in = sys::open(tar_path, O_RDONLY);
  REQUIRE(in);
  auto out = sys::open(out_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  REQUIRE(out);
  auto info = write_estargz(in->get(), out->get(), options);
  REQUIRE(info);
  return {read_whole(tar_path), read_whole(out_path), *info};
}

}  // namespace

TEST_CASE("eStargz keeps the tar, indexes every chunk and extracts to the same tree") {
  auto src = fs::TempDir::create();
  REQUIRE(src);
  make_rich_tree(src->path());
  auto work = fs::TempDir::create();
  REQUIRE(work);
  std::string tar_path = write_tar(src->path(), work->path());
  Converted c = convert(tar_path, work->path() + "/blob", {.chunk_size = 100000, .threads = 2});

  CHECK(c.info.size == static_cast<int64_t>(c.blob.size()));
  CHECK(c.info.digest == Digest::of(c.blob));
  CHECK(c.info.source_diff_id == Digest::of(c.tar));

  // The whole blob gunzips to the input tar followed by the TOC tar.
  std::string plain = gunzip_all(work->path() + "/blob");
  CHECK(c.info.diff_id == Digest::of(plain));
  CHECK(c.info.uncompressed_size == static_cast<int64_t>(plain.size()));
  REQUIRE(plain.size() > c.tar.size());
  CHECK(plain.compare(0, c.tar.size(), c.tar) == 0);

  // The footer points at the TOC member; its JSON hashes to the TOC digest.
  auto toc_offset = estargz::parse_footer(std::string_view(c.blob).substr(c.blob.size() - 51));
  REQUIRE(toc_offset);
  CHECK(*toc_offset == c.info.toc_offset);
  std::string toc_tar = inflate_member(c.blob, *toc_offset);
  CHECK(toc_tar.substr(0, 17) == "stargz.index.json");
  auto size = std::stoll(toc_tar.substr(124, 11), nullptr, 8);
  std::string json = toc_tar.substr(512, static_cast<size_t>(size));
  CHECK(Digest::of(json) == c.info.toc_digest);
  CHECK(c.info.annotations().at("containerd.io/snapshot/stargz/toc.digest") ==
        c.info.toc_digest.str());
  auto toc = estargz::parse_toc(json, "TOC");
  REQUIRE(toc);

  // Every chunk is a member of its own at its offset, holding exactly its bytes.
  std::map<std::string, std::string> files;
  std::map<std::string, std::string> digests;
  std::map<std::string, int64_t> sizes;
  int chunk_entries = 0;
  for (const auto& e : toc->entries) {
    if (e.type == "reg") {
      digests[e.name] = e.digest;
      sizes[e.name] = e.size;
    }
    if (e.type != "reg" && e.type != "chunk") continue;
    if (e.type == "chunk") ++chunk_entries;
    if (e.type == "reg" && e.size == 0) continue;
    std::string member = inflate_member(c.blob, e.offset);
    int64_t length = e.chunk_size;
    if (length == 0) length = sizes[e.name] - e.chunk_offset;  // the last chunk: to the end
    std::string data = member.substr(0, static_cast<size_t>(length));
    CHECK(Digest::of(data).str() == e.chunk_digest);
    CHECK(static_cast<int64_t>(files[e.name].size()) == e.chunk_offset);
    files[e.name] += data;
  }
  CHECK(chunk_entries >= 2);  // usr/bin/tool (300 KiB) spans several 100 kB chunks
  for (const auto& [name, data] : files) {
    CHECK(Digest::of(data).str() == digests[name]);
  }
  CHECK(files.at("usr/bin/tool").size() == 300003);
  CHECK(files.at("sparse").size() == (64u << 20) + 4);

  // The blob extracts like any gzip layer, to the same tree (the TOC tar is past the end).
  auto blob_fd = sys::open(work->path() + "/blob", O_RDONLY);
  REQUIRE(blob_fd);
  auto layer = extract_layer(blob_fd->get(), work->path() + "/tree");
  REQUIRE(layer);
  CHECK(layer->diff_id == c.info.diff_id);
  CHECK(describe_tree(work->path() + "/tree") == describe_tree(src->path()));

  // Deterministic whatever the thread count.
  Converted one = convert(tar_path, work->path() + "/blob1", {.chunk_size = 100000, .threads = 1});
  CHECK(one.info.digest == c.info.digest);
}

TEST_CASE("eStargz refuses a layer that already holds a TOC and a truncated tar") {
  auto src = fs::TempDir::create();
  REQUIRE(src);
  write_whole(src->path() + "/a", std::string(1000, 'a'));
  write_whole(src->path() + "/stargz.index.json", "{}");
  auto work = fs::TempDir::create();
  REQUIRE(work);
  std::string tar_path = write_tar(src->path(), work->path());
  auto in = sys::open(tar_path, O_RDONLY);
  REQUIRE(in);
  auto out = sys::open(work->path() + "/blob", O_RDWR | O_CREAT, 0644);
  REQUIRE(out);
  auto r = write_estargz(in->get(), out->get());
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == ErrorKind::kUnsupported);
  CHECK_THAT(r.error().message(), Catch::Contains("stargz.index.json"));

  std::string tar = read_whole(tar_path);
  write_whole(work->path() + "/cut.tar", tar.substr(0, 700));  // header + part of the data
  auto cut = sys::open(work->path() + "/cut.tar", O_RDONLY);
  REQUIRE(cut);
  auto bad = write_estargz(cut->get(), out->get());
  REQUIRE_FALSE(bad);
  CHECK(bad.error().kind() == ErrorKind::kCorrupt);
}

TEST_CASE("eStargz footer and TOC round trip") {
  std::string footer = estargz::make_footer(0x1234);
  CHECK(footer.size() == 51);
  auto offset = estargz::parse_footer(footer);
  REQUIRE(offset);
  CHECK(*offset == 0x1234);
  footer[20] = 'x';
  CHECK_FALSE(estargz::parse_footer(footer));

  estargz::Toc toc;
  estargz::TocEntry e;
  e.name = "bin/sh";
  e.type = "reg";
  e.size = 10;
  e.offset = 99;
  e.xattrs["user.a"] = std::string("\0\1", 2);
  toc.entries.push_back(e);
  std::string json = estargz::serialize_toc(toc);
  CHECK(json.find("\"xattrs\":{\"user.a\":\"AAE=\"}") != std::string::npos);
  CHECK(json.find("chunkSize") == std::string::npos);  // zero fields are left out
  auto back = estargz::parse_toc(json, "TOC");
  REQUIRE(back);
  REQUIRE(back->entries.size() == 1);
  CHECK(back->entries[0].xattrs.at("user.a") == std::string("\0\1", 2));
  CHECK(back->entries[0].offset == 99);
  CHECK_FALSE(estargz::parse_toc("{\"version\":2,\"entries\":[]}", "TOC"));
}

TEST_CASE("eStargz index resolves chunks to blob ranges that inflate to the file") {
  auto src = fs::TempDir::create();
  REQUIRE(src);
  std::string big;
  for (int i = 0; i < 40000; ++i) big += std::to_string(i) + "\n";
  write_whole(src->path() + "/big", big);
  write_whole(src->path() + "/small", "hello\n");
  write_whole(src->path() + "/empty", "");
  auto work = fs::TempDir::create();
  REQUIRE(work);
  std::string tar_path = write_tar(src->path(), work->path());
  Converted c = convert(tar_path, work->path() + "/blob", {.chunk_size = 50000});
  std::string toc_tar = inflate_member(c.blob, c.info.toc_offset);
  auto size = std::stoll(toc_tar.substr(124, 11), nullptr, 8);
  auto toc = estargz::parse_toc(toc_tar.substr(512, static_cast<size_t>(size)), "TOC");
  REQUIRE(toc);
  auto index = EstargzIndex::build(*toc, c.info.toc_offset);
  REQUIRE(index);
  REQUIRE(index->lookup("./big") != nullptr);
  CHECK(index->lookup("/small")->size == 6);
  CHECK(index->lookup("missing") == nullptr);
  CHECK(index->chunks("empty").empty());
  for (const char* name : {"big", "small"}) {
    std::string file;
    for (const auto& chunk : index->chunks(name)) {
      CHECK(chunk.blob_end > chunk.blob_offset);
      CHECK(chunk.blob_end <= c.info.toc_offset);
      auto plain = gunzip_member(
          std::string_view(c.blob).substr(static_cast<size_t>(chunk.blob_offset),
                                          static_cast<size_t>(chunk.blob_end - chunk.blob_offset)),
          1 << 30, "chunk");
      REQUIRE(plain);
      std::string data =
          plain->substr(static_cast<size_t>(chunk.inner_offset), static_cast<size_t>(chunk.size));
      CHECK(Digest::of(data).str() == chunk.digest);
      CHECK(chunk.file_offset == static_cast<int64_t>(file.size()));
      file += data;
    }
    CHECK(file == read_whole(src->path() + "/" + name));
  }
  CHECK(index->chunks("big").size() == (big.size() + 49999) / 50000);

  // A hostile TOC is refused, naming the entry.
  auto refused = [&](auto mutate) {
    estargz::Toc bad = *toc;
    mutate(bad);
    auto r = EstargzIndex::build(bad, c.info.toc_offset);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == ErrorKind::kCorrupt);
    return r.error().message();
  };
  auto find = [](estargz::Toc& t, const std::string& name) -> estargz::TocEntry& {
    for (auto& e : t.entries) {
      if (e.name == name && e.type != "chunk") return e;
    }
    FAIL("no entry " << name);
    return t.entries.front();
  };
  CHECK_THAT(refused([&](estargz::Toc& t) { find(t, "small").name = "../escape"; }),
             Catch::Contains("\"..\""));
  CHECK_THAT(refused([&](estargz::Toc& t) { find(t, "small").offset = c.info.toc_offset + 1; }),
             Catch::Contains("offset outside the blob"));
  CHECK_THAT(refused([&](estargz::Toc& t) { find(t, "big").chunk_size -= 1; }),
             Catch::Contains("chunks do not follow each other"));
  CHECK_THAT(refused([&](estargz::Toc& t) {
               for (auto it = t.entries.rbegin(); it != t.entries.rend(); ++it) {
                 if (it->name == "big") {
                   it->chunk_size = 1;  // the last chunk ends early
                   break;
                 }
               }
             }),
             Catch::Contains("chunks end before the file does"));
  CHECK_THAT(refused([&](estargz::Toc& t) { find(t, "small").chunk_digest = "md5:x"; }),
             Catch::Contains("bad chunk digest"));
}

TEST_CASE("eStargz index lists directories' children, implies parents, and finds the prefetch") {
  TocBuilder builder;
  estargz::Toc& toc = builder.toc;
  auto add = [&](std::string name, std::string type, int64_t size = 0, std::string link = "") {
    builder.add(std::move(name), std::move(type), size, std::move(link));
  };
  add("a/b/f", "reg", 3);
  add("p", "reg", 3);
  add(".prefetch.landmark", "reg", 1);
  add("q", "reg", 3);
  add("l", "hardlink", 0, "p");
  add("a/s", "symlink", 0, "b");
  auto index = EstargzIndex::build(toc, 100);
  REQUIRE(index);
  auto names = [&](std::string_view dir) {
    std::vector<std::string> out;
    for (const auto* e : index->children(dir)) out.push_back(EstargzIndex::clean(e->name));
    std::sort(out.begin(), out.end());
    return out;
  };
  CHECK(names("") == std::vector<std::string>{".prefetch.landmark", "a", "l", "p", "q"});
  CHECK(names("a") == std::vector<std::string>{"a/b", "a/s"});
  CHECK(names("a/b") == std::vector<std::string>{"a/b/f"});
  CHECK(names("p").empty());
  REQUIRE(index->lookup("a/b") != nullptr);
  CHECK(index->lookup("a/b")->type == "dir");
  CHECK(index->lookup("a/b")->mode == 0755);
  CHECK(index->hardlinks_to("p") == std::vector<std::string>{"l"});
  CHECK(index->prefetch() == std::vector<std::string>{"a/b/f", "p"});

  add("q/under", "reg", 0);  // below a regular file
  auto refused = EstargzIndex::build(toc, 100);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message() == "eStargz TOC: entry \"q/under\": a parent is not a directory");
}
