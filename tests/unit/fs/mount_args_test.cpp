#include "fs/mount_args.h"

#include <catch2/catch.hpp>

using imgbuild::fs::parse_imgfs_args;
using imgbuild::fs::WhiteoutStyle;

TEST_CASE("imgfs args: fuse-overlayfs syntax with source and generic options", "[unit][fs]") {
  auto a = parse_imgfs_args({"overlay", "/mnt/x", "-o",
                             "rw,lazytime,lowerdir=/l/top:/l/bottom,upperdir=/u,workdir=/w,"
                             "x-systemd.automount,nodev"});
  REQUIRE(a);
  CHECK(a->source == "overlay");
  CHECK(a->mountpoint == "/mnt/x");
  CHECK(a->options.lowers == std::vector<std::string>{"/l/top", "/l/bottom"});
  CHECK(a->options.upper == "/u");
  CHECK(a->workdir == "/w");
  CHECK(a->options.upper_whiteouts == WhiteoutStyle::kOci);
  CHECK(a->options.fsname == "overlay");
  CHECK_FALSE(a->foreground);
}

TEST_CASE("imgfs args: escapes, whiteout style, -f, several -o", "[unit][fs]") {
  auto a = parse_imgfs_args(
      {"-f", "-o", "lowerdir=/a\\:b:/c\\,d", "/m", "-owhiteout=overlay,threads=4,timeout=2.5"});
  REQUIRE(a);
  CHECK(a->foreground);
  CHECK(a->options.lowers == std::vector<std::string>{"/a:b", "/c,d"});
  CHECK(a->options.upper.empty());
  CHECK(a->options.upper_whiteouts == WhiteoutStyle::kOverlay);
  CHECK(a->options.max_threads == 4);
  CHECK(a->options.upper_timeout == 2.5);
  CHECK(a->options.passthrough);
  auto b = parse_imgfs_args({"/m", "-o", "lowerdir=/a,nopassthrough"});
  REQUIRE(b);
  CHECK_FALSE(b->options.passthrough);
}

TEST_CASE("imgfs args: POSIX ACLs on unless noacl", "[unit][fs]") {
  auto a = parse_imgfs_args({"/m", "-o", "lowerdir=/a"});
  REQUIRE(a);
  CHECK(a->options.posix_acl);
  auto b = parse_imgfs_args({"/m", "-o", "lowerdir=/a,noacl"});
  REQUIRE(b);
  CHECK_FALSE(b->options.posix_acl);
  auto c = parse_imgfs_args({"/m", "-o", "lowerdir=/a,noacl,acl"});
  REQUIRE(c);
  CHECK(c->options.posix_acl);
}

TEST_CASE("imgfs args: nokillpriv turns KILLPRIV_V2 off, debug_stats asks for request counts",
          "[unit][fs]") {
  auto plain = parse_imgfs_args({"/m", "-o", "lowerdir=/a"});
  auto set = parse_imgfs_args({"-f", "/m", "-o", "lowerdir=/a,nokillpriv,debug_stats"});
  REQUIRE((plain && set));
  CHECK((plain->options.handle_killpriv && !plain->debug_stats));
  CHECK((!set->options.handle_killpriv && set->debug_stats));
}

TEST_CASE("imgfs args: FUSE over io_uring where offered unless nouring", "[unit][fs]") {
  auto a = parse_imgfs_args({"/m", "-o", "lowerdir=/a"});
  auto b = parse_imgfs_args({"/m", "-o", "lowerdir=/a,nouring"});
  auto c = parse_imgfs_args({"/m", "-o", "lowerdir=/a,nouring,uring"});
  REQUIRE((a && b && c));
  CHECK(a->options.io_uring);
  CHECK_FALSE(b->options.io_uring);
  CHECK(c->options.io_uring);
}

TEST_CASE("imgfs args: errors name the problem", "[unit][fs]") {
  auto msg = [](std::vector<std::string> args) {
    auto a = parse_imgfs_args(args);
    REQUIRE_FALSE(a);
    return a.error().message();
  };
  CHECK(msg({"/m"}) == "missing -o lowerdir=...");
  CHECK(msg({"/m", "-o", "lowerdir=/a,bogus=1"}) == "unknown mount option \"bogus\"");
  CHECK(msg({"/m", "-o", "lowerdir=/a::/b"}) == "empty entry in lowerdir");
  CHECK(msg({"/m", "-o", "lowerdir=/a,whiteout=aufs"}) ==
        "whiteout=aufs: expected \"oci\" or \"overlay\"");
  CHECK(msg({"/m", "-o", "lowerdir=/a,workdir=/w"}) == "workdir given without upperdir");
  CHECK(msg({"-x", "/m"}) == "unknown flag -x");
  CHECK(msg({"a", "b", "c", "-o", "lowerdir=/a"}) ==
        "usage: imgfs [SOURCE] MOUNTPOINT -o lowerdir=A:B[,upperdir=U,workdir=W]");
  CHECK(msg({"/m", "-o"}) == "-o needs a value");
}
