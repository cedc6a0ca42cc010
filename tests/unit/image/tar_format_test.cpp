// The tar bytes the layer writer produces: ustar fields, PAX records, and that both read back.
#include <unistd.h>

#include <catch2/catch.hpp>

#include "base/fs.h"
#include "base/subprocess.h"
#include "base/sys.h"
#include "image/tar_reader.h"
#include "image/tar_writer.h"
#include "tests/unit/image/layer_test_tree.h"

using namespace imgbuild;
using namespace imgbuild::image;
using namespace imgbuild::image::testing;

namespace {

std::string write_tar(const std::vector<std::pair<TarEntry, std::string>>& entries) {
  std::string out;
  TarWriter tar([&](std::string_view chunk) -> Status {
    out.append(chunk);
    return {};
  });
  for (const auto& [entry, data] : entries) {
    REQUIRE(tar.add(entry));
    if (!data.empty()) REQUIRE(tar.write_data(data));
  }
  REQUIRE(tar.finish());
  return out;
}

std::string field(const std::string& tar, size_t off, size_t len) {
  std::string f = tar.substr(off, len);
  return f.substr(0, f.find('\0'));
}

}  // namespace

TEST_CASE("tar writer emits plain ustar headers with numeric owners and no names") {
  TarEntry e{.name = "etc/hostname",
             .mode = 0644,
             .uid = 1000,
             .gid = 100,
             .size = 6,
             .mtime = 1700000000};
  std::string tar = write_tar({{e, "hello\n"}});
  REQUIRE(tar.size() == 512 * 4);  // header, one data block, two zero blocks
  CHECK(field(tar, 0, 100) == "etc/hostname");
  CHECK(field(tar, 100, 8) == "0000644");
  CHECK(field(tar, 108, 8) == "0001750");
  CHECK(field(tar, 116, 8) == "0000144");
  CHECK(field(tar, 124, 12) == "00000000006");
  CHECK(field(tar, 136, 12) == "14524770400");
  CHECK(tar[156] == '0');
  CHECK(tar.substr(257, 8) == std::string("ustar\0"
                                          "00",
                                          8));
  CHECK(field(tar, 265, 32).empty());  // uname
  CHECK(field(tar, 297, 32).empty());  // gname
  unsigned sum = 0;
  for (size_t i = 0; i < 512; ++i)
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(tar[i]);
  CHECK(field(tar, 148, 7) == [&] {
    char buf[8];
    snprintf(buf, sizeof buf, "%06o", sum);
    return std::string(buf);
  }());
  CHECK(tar.substr(512, 6) == "hello\n");
  CHECK(tar.substr(1024) == std::string(1024, '\0'));
}

TEST_CASE("tar writer uses PAX records only for what ustar cannot hold") {
  std::string long_name = "dir/" + std::string(200, 'n');
  TarEntry big{
      .name = long_name,
      .mode = 0755,
      .uid = 3000000,
      .gid = 5,
      .size = 0,
      .mtime = 1700000000,
      .xattrs = {{"security.capability", std::string("\x01\x00\x00\x02", 4)}, {"user.k", "v"}}};
  TarEntry link{.name = "l",
                .type = TarEntry::Type::kSymlink,
                .mode = 0777,
                .linkname = std::string(150, 't')};
  TarEntry dir{.name = "d", .type = TarEntry::Type::kDirectory, .mode = 0755};
  std::string tar = write_tar({{big, ""}, {link, ""}, {dir, ""}});
  CHECK(tar[156] == 'x');
  CHECK(field(tar, 0, 100) == "PaxHeaders/" + long_name.substr(0, 88));
  std::string records = tar.substr(512, 512);
  CHECK(records.substr(0, records.find(std::string(4, '\0'))) ==
        "41 SCHILY.xattr.security.capability=" + std::string("\x01\x00\x00\x02", 4) +
            "\n25 SCHILY.xattr.user.k=v\n214 path=" + long_name + "\n15 uid=3000000\n");

  auto dir_path = fs::TempDir::create();
  REQUIRE(dir_path);
  write_whole(dir_path->path() + "/t.tar", tar);
  auto py = run_process(
      {"python3", "-c",
       "import sys, tarfile\n"
       "for m in tarfile.open(sys.argv[1]):\n"
       "  print(len(m.name), m.type.decode(), m.uid, len(m.linkname), sorted(m.pax_headers))\n",
       dir_path->path() + "/t.tar"});
  REQUIRE(py);
  INFO(py->err);
  CHECK(py->out ==
        "204 0 3000000 0 ['SCHILY.xattr.security.capability', 'SCHILY.xattr.user.k', 'path', "
        "'uid']\n1 2 0 150 ['linkpath']\n1 5 0 0 []\n");

  // Our own reader (libarchive) sees the same.
  auto fd = sys::open(dir_path->path() + "/t.tar", O_RDONLY);
  REQUIRE(fd);
  auto reader = TarReader::open(fd->get());
  REQUIRE(reader);
  auto h = (*reader)->next();
  REQUIRE(h);
  REQUIRE(h->has_value());
  CHECK((*h)->path == long_name);
  CHECK((*h)->uid == 3000000);
  CHECK((*h)->xattrs == big.xattrs);
  h = (*reader)->next();
  REQUIRE(h);
  REQUIRE(h->has_value());
  CHECK((*h)->linkname == std::string(150, 't'));
  h = (*reader)->next();
  REQUIRE(h);
  REQUIRE(h->has_value());
  CHECK((*h)->path == "d/");
  CHECK((*h)->type == TarEntry::Type::kDirectory);
  h = (*reader)->next();
  REQUIRE(h);
  CHECK(!h->has_value());
  CHECK((*reader)->finish().value() == Digest::of(tar));
}

TEST_CASE("tar writer refuses data that does not match the header size") {
  std::string sink;
  TarWriter tar([&](std::string_view c) -> Status {
    sink.append(c);
    return {};
  });
  REQUIRE(tar.add(TarEntry{.name = "f", .size = 3}));
  CHECK(tar.write_data("four").error().message() ==
        "tar entry \"f\": more data than its header's size");
  REQUIRE(tar.write_data("ab"));
  CHECK(tar.finish().error().message() == "tar entry \"f\": 1 bytes of data missing");
}
