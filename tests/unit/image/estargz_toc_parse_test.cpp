// The eStargz TOC reader (image/estargz_toc.h, parse_toc): what it keeps of a valid TOC, and the
// exact kCorrupt error for each kind of malformed one, naming the entry or the byte.
#include <catch2/catch.hpp>

#include "image/estargz_toc.h"

using namespace imgbuild;
using namespace imgbuild::image;

namespace {

std::string error_of(std::string_view json) {
  auto toc = estargz::parse_toc(json, "TOC");
  REQUIRE_FALSE(toc);
  CHECK(toc.error().kind() == ErrorKind::kCorrupt);
  return toc.error().message();
}

}  // namespace

TEST_CASE("TOC reader keeps every field, skips unknown keys and treats null as absent") {
  auto toc = estargz::parse_toc(
      R"({"version":1,"future":{"a":[1,{"b":null}]},"entries":[
        {"name":"bin/sh","type":"reg","size":5,"modtime":"2020-01-02T03:04:05Z","mode":493,
         "uid":1,"gid":2,"userName":"u","groupName":"g","offset":10,"innerOffset":3,
         "chunkOffset":0,"chunkSize":5,"digest":"sha256:aa","chunkDigest":"sha256:bb",
         "xattrs":{"user.k":"dg=="},"unknown":[{"x":1}],"linkName":null},
        {"name":"dev/null","type":"char","devMajor":1,"devMinor":3,"mode":null},
        {"name":"lib","type":"symlink","linkName":"usr/lib"}],"more":"x"})",
      "TOC");
  REQUIRE(toc);
  REQUIRE(toc->entries.size() == 3);
  const auto& e = toc->entries[0];
  CHECK(e.name == "bin/sh");
  CHECK(e.type == "reg");
  CHECK(e.size == 5);
  CHECK(e.modtime == "2020-01-02T03:04:05Z");
  CHECK(e.mode == 493);
  CHECK(e.uid == 1);
  CHECK(e.gid == 2);
  CHECK(e.user_name == "u");
  CHECK(e.group_name == "g");
  CHECK(e.offset == 10);
  CHECK(e.inner_offset == 3);
  CHECK(e.chunk_size == 5);
  CHECK(e.digest == "sha256:aa");
  CHECK(e.chunk_digest == "sha256:bb");
  CHECK(e.xattrs == std::map<std::string, std::string>{{"user.k", "v"}});
  CHECK(e.link_name.empty());
  CHECK(toc->entries[1].dev_major == 1);
  CHECK(toc->entries[1].dev_minor == 3);
  CHECK(toc->entries[1].mode == 0);
  CHECK(toc->entries[2].link_name == "usr/lib");
  // The serialiser's output reads back the same.
  CHECK(estargz::serialize_toc(*estargz::parse_toc(estargz::serialize_toc(*toc), "TOC")) ==
        estargz::serialize_toc(*toc));
}

TEST_CASE("TOC reader refuses each kind of malformed TOC, naming the entry or the byte") {
  CHECK(error_of("") == "TOC: invalid JSON near byte 1");
  CHECK(error_of(R"({"entries":[{"name":"a","type":"reg"})") == "TOC: invalid JSON near byte 38");
  CHECK(error_of(R"({"entries":[]} x)") == "TOC: invalid JSON near byte 16");
  CHECK(error_of(R"({"entries":[{"name":"a\x"}]})") == "TOC: invalid JSON near byte 24");
  CHECK(error_of("[]") == "TOC: the TOC must be a JSON object");
  CHECK(error_of("7") == "TOC: the TOC must be a JSON object");
  CHECK(error_of(R"({"version":1})") == "TOC: \"entries\" must be an array");
  CHECK(error_of(R"({"entries":{}})") == "TOC: \"entries\" must be an array");
  CHECK(error_of(R"({"entries":"x"})") == "TOC: \"entries\" must be an array");
  CHECK(error_of(R"({"version":"1","entries":[]})") == "TOC: \"version\" must be an integer");
  CHECK(error_of(R"({"version":2,"entries":[]})") == "TOC: unsupported TOC version 2");
  CHECK(error_of(R"({"version":99999999999,"entries":[]})") == "TOC: \"version\" is out of range");
  CHECK(error_of(R"({"entries":[{"name":"a","type":"dir"},7]})") ==
        "TOC: entry 2: a TOC entry must be an object");
  CHECK(error_of(R"({"entries":[{"name":"a","type":"dir"},{"name":7,"type":"reg"}]})") ==
        "TOC: entry 2: \"name\" must be a string");
  CHECK(error_of(R"({"entries":[{"name":"a","type":"reg","size":"5"}]})") ==
        "TOC: entry 1 (\"a\"): \"size\" must be an integer");
  CHECK(error_of(R"({"entries":[{"name":"a","type":"reg","size":1.5}]})") ==
        "TOC: entry 1 (\"a\"): \"size\" must be an integer");
  CHECK(error_of(R"({"entries":[{"name":"a","type":"reg","offset":18446744073709551615}]})") ==
        "TOC: entry 1 (\"a\"): \"offset\" is out of range");
  CHECK(error_of(R"({"entries":[{"name":"a","type":"reg","uid":[1]}]})") ==
        "TOC: entry 1 (\"a\"): \"uid\" must be an integer");
  CHECK(error_of(R"({"entries":[{"name":"a","type":"reg","xattrs":[]}]})") ==
        "TOC: entry 1 (\"a\"): \"xattrs\" must be an object of strings");
  CHECK(error_of(R"({"entries":[{"name":"a","type":"reg","xattrs":{"k":1}}]})") ==
        "TOC: entry 1 (\"a\"): \"xattrs\" must be an object of strings");
  CHECK(error_of(R"({"entries":[{"name":"a","type":"reg","xattrs":{"k":"!!"}}]})") ==
        "TOC: entry 1 (\"a\"): xattr k is not base64");
  CHECK(error_of(R"({"entries":[{"type":"reg"}]})") == "TOC: entry 1: no name or type");
  CHECK(error_of(R"({"entries":[{"name":"a","type":""}]})") ==
        "TOC: entry 1 (\"a\"): no name or type");
  CHECK(error_of(R"({"entries":[{"name":"a","type":"reg","chunkSize":-1}]})") ==
        "TOC: entry 1 (\"a\"): negative size or offset");
  std::string deep = R"({"entries":[{"name":"a","type":"reg","x":)" + std::string(1000, '[');
  CHECK(error_of(deep) == "TOC: JSON nested too deep");
}
