// The build context as the engine sees it: the walk, .dockerignore filtering, wildcard expansion,
// and content hashes that ignore mtimes and are cached across builds by the persistent index.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "base/fs.h"
#include "builder/build_context.h"
#include "builder/context_index.h"

using namespace imgbuild;
using namespace imgbuild::builder;

namespace {

void write(const std::string& path, const std::string& data, mode_t mode = 0644) {
  REQUIRE(fs::make_dirs(path.substr(0, path.rfind('/'))));
  REQUIRE(fs::write_file_atomic(path, data, mode));
}

class PrefixFilter final : public ContextFilter {
 public:
  bool excluded(std::string_view path) const override {
    return path == "ignored" || path.starts_with("ignored/") || path.ends_with(".log");
  }
  bool may_include_below(std::string_view) const override { return false; }
};

std::string hash_of(BuildContext& ctx, const std::string& path) {
  auto d = ctx.digests(path);
  REQUIRE(d);
  return combine_digests(*d);
}

}  // namespace

TEST_CASE("context walk applies the filter and lists entries") {
  auto dir = fs::TempDir::create();
  REQUIRE(dir);
  write(dir->path() + "/a.txt", "a");
  write(dir->path() + "/src/main.c", "int main;");
  write(dir->path() + "/src/debug.log", "x");
  write(dir->path() + "/ignored/big", "x");
  PrefixFilter filter;
  auto ctx = BuildContext::open(dir->path(), filter, "");
  REQUIRE(ctx);
  CHECK(ctx->find("a.txt") != nullptr);
  CHECK(ctx->find("src/main.c") != nullptr);
  CHECK(ctx->find("src/debug.log") == nullptr);
  CHECK(ctx->find("ignored") == nullptr);
  CHECK(ctx->children("") == std::vector<std::string>{"a.txt", "src"});
  // The topmost excluded paths, for hiding them from a bind mount of the context.
  CHECK(std::vector<std::string>(ctx->excluded().begin(), ctx->excluded().end()) ==
        std::vector<std::string>{"ignored", "src/debug.log"});
}

TEST_CASE("context hash ignores mtime but sees content and mode") {
  auto dir = fs::TempDir::create();
  REQUIRE(dir);
  write(dir->path() + "/d/f", "hello");
  IncludeAll all;
  auto ctx = BuildContext::open(dir->path(), all, "");
  REQUIRE(ctx);
  std::string h1 = hash_of(*ctx, "d");

  struct timespec times[2] = {{1000, 0}, {1000, 0}};
  REQUIRE(::utimensat(AT_FDCWD, (dir->path() + "/d/f").c_str(), times, 0) == 0);
  auto ctx2 = BuildContext::open(dir->path(), all, "");
  REQUIRE(ctx2);
  CHECK(hash_of(*ctx2, "d") == h1);

  REQUIRE(::chmod((dir->path() + "/d/f").c_str(), 0600) == 0);
  auto ctx3 = BuildContext::open(dir->path(), all, "");
  REQUIRE(ctx3);
  std::string h3 = hash_of(*ctx3, "d");
  CHECK(h3 != h1);

  write(dir->path() + "/d/f", "hellO", 0600);
  auto ctx4 = BuildContext::open(dir->path(), all, "");
  REQUIRE(ctx4);
  CHECK(hash_of(*ctx4, "d") != h3);
}

TEST_CASE("context index re-reads only changed files across builds") {
  auto dir = fs::TempDir::create();
  REQUIRE(dir);
  auto state = fs::TempDir::create();
  REQUIRE(state);
  std::string index = state->path() + "/idx";
  for (int i = 0; i < 5; ++i) write(dir->path() + "/f" + std::to_string(i), std::to_string(i));
  IncludeAll all;
  std::string first;
  {
    auto ctx = BuildContext::open(dir->path(), all, index);
    REQUIRE(ctx);
    first = hash_of(*ctx, "");
    CHECK(ctx->index().files_read() == 5);
    REQUIRE(ctx->index().save());
  }
  {
    auto ctx = BuildContext::open(dir->path(), all, index);
    REQUIRE(ctx);
    CHECK(hash_of(*ctx, "") == first);
    CHECK(ctx->index().files_read() == 0);
  }
  write(dir->path() + "/f3", "changed");
  {
    auto ctx = BuildContext::open(dir->path(), all, index);
    REQUIRE(ctx);
    CHECK(hash_of(*ctx, "") != first);
    CHECK(ctx->index().files_read() == 1);
  }
}

TEST_CASE("context index treats a corrupt file as empty") {
  auto state = fs::TempDir::create();
  REQUIRE(state);
  write(state->path() + "/idx", "imgbuild-context-index 1\nnot\0numbers");
  auto index = ContextIndex::load(state->path() + "/idx");
  CHECK(index.files_read() == 0);
}

TEST_CASE("clean_relative refuses paths that leave the context") {
  CHECK(clean_relative("a/./b/../c").value() == "a/c");
  CHECK(clean_relative("./").value() == "");
  auto bad = clean_relative("../x");
  REQUIRE(!bad);
  CHECK(bad.error().message() == "path \"../x\" is outside of the build context");
}

TEST_CASE("context symlinks resolve inside the context") {
  auto dir = fs::TempDir::create();
  REQUIRE(dir);
  write(dir->path() + "/real/file", "x");
  REQUIRE(::symlink("real", (dir->path() + "/link").c_str()) == 0);
  REQUIRE(::symlink("../../etc/passwd", (dir->path() + "/evil").c_str()) == 0);
  IncludeAll all;
  auto ctx = BuildContext::open(dir->path(), all, "");
  REQUIRE(ctx);
  CHECK(ctx->resolve_symlinks("link").value() == "real");
  auto evil = ctx->resolve_symlinks("evil");
  REQUIRE(!evil);
  CHECK(evil.error().message() ==
        "symlink evil -> ../../etc/passwd points outside the build context");
}
