#include "runtime_fixture.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <memory>
#include <mutex>

#include "base/fs.h"
#include "base/subprocess.h"
#include "base/sys.h"
#include "tests/support/skip.h"

namespace imgbuild::runtime::testing {
namespace {

std::vector<std::unique_ptr<fs::TempDir>>& dirs() {
  static std::vector<std::unique_ptr<fs::TempDir>> d;
  return d;
}

std::string read_back(int fd) {
  ::lseek(fd, 0, SEEK_SET);
  auto text = sys::read_all(fd);
  return text ? *text : "";
}

}  // namespace

std::string busybox_rootfs(bool fresh) {
  static std::mutex mu;
  static std::string shared;
  std::lock_guard lock(mu);
  if (!fresh && !shared.empty()) return shared;
  auto dir = fs::TempDir::create("/tmp", "imgbuild-rt-");
  REQUIRE(dir);
  std::string root = dir->path() + "/rootfs";
  auto r = run_process({std::string(IMGBUILD_TESTDATA_DIR) + "/make-busybox-rootfs.sh", root});
  REQUIRE(r);
  REQUIRE(r->exit_code == 0);
  dirs().push_back(std::make_unique<fs::TempDir>(std::move(*dir)));
  if (!fresh) shared = root;
  return root;
}

ProcessSpec spec_for(std::vector<std::string> args) {
  ProcessSpec spec;
  spec.args = std::move(args);
  spec.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  return spec;
}

Output run(const std::string& rootfs, ProcessSpec spec) {
  Output o;
  char out_name[] = "/tmp/imgbuild-rt-out-XXXXXX";
  char err_name[] = "/tmp/imgbuild-rt-err-XXXXXX";
  UniqueFd out(::mkstemp(out_name)), err(::mkstemp(err_name));
  ::unlink(out_name);
  ::unlink(err_name);
  spec.stdout_fd = out.get();
  spec.stderr_fd = err.get();
  auto c = Container::start(rootfs, spec);
  if (!c) {
    o.error = c.error().message();
    o.code = exit_code_for_start_error(c.error());
    return o;
  }
  auto code = c->wait();
  REQUIRE(code);
  o.code = *code;
  o.out = read_back(out.get());
  o.err = read_back(err.get());
  return o;
}

Output sh(const std::string& rootfs, const std::string& script, ProcessSpec spec) {
  if (spec.env.empty()) spec.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  spec.args = {"/bin/sh", "-c", script};
  return run(rootfs, std::move(spec));
}

bool cannot_run() {
  if (::geteuid() != 0) {
    return !::imgbuild::testing::skip("runtime integration tests need root");
  }
  return false;
}

}  // namespace imgbuild::runtime::testing
