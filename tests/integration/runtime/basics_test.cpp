// The container process: pid 1, hostname, user and groups, env, workdir, stdio, exit statuses.
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cstring>

#include <catch2/catch.hpp>

#include "base/fs.h"
#include "runtime/process_config.h"
#include "runtime_fixture.h"

namespace imgbuild::runtime {
using testing::busybox_rootfs;
using testing::cannot_run;
using testing::sh;

TEST_CASE("container process is pid 1 with its own hostname", "[integration]") {
  if (cannot_run()) return;
  ProcessSpec spec;
  spec.hostname = "box1";
  auto o = sh(busybox_rootfs(), "echo $$; hostname; cat /etc/hostname", spec);
  CHECK(o.error == "");
  CHECK(o.out == "1\nbox1\nbox1\n");
  CHECK(o.code == 0);
}

TEST_CASE("default hostname is the first 12 characters of the id", "[integration]") {
  if (cannot_run()) return;
  ProcessSpec spec;
  spec.id = "0123456789abcdef0123";
  auto o = sh(busybox_rootfs(), "hostname", spec);
  CHECK(o.out == "0123456789ab\n");
}

TEST_CASE("user and groups come from the image's passwd and group", "[integration]") {
  if (cannot_run()) return;
  std::string root = busybox_rootfs();
  image::ContainerConfig config;
  config.cmd = std::vector<std::string>{"id"};
  ProcessOverrides overrides;
  overrides.user = "app";
  ProcessSpec spec;
  REQUIRE(apply_image_config(root, config, overrides, spec));
  auto o = testing::run(root, spec);
  CHECK(o.out == "uid=1000(app) gid=1000(app) groups=10(wheel),1000(app)\n");

  overrides.user = "1000:10";
  REQUIRE(apply_image_config(root, config, overrides, spec));
  o = testing::run(root, spec);
  CHECK(o.out == "uid=1000(app) gid=10(wheel) groups=10(wheel)\n");

  overrides.user = "4242";
  REQUIRE(apply_image_config(root, config, overrides, spec));
  o = testing::run(root, spec);
  CHECK(o.out == "uid=4242 gid=0(root) groups=0(root)\n");

  overrides.user = "ghost";
  auto bad = apply_image_config(root, config, overrides, spec);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message() == "unable to find user ghost: no matching entries in passwd file");
}

TEST_CASE("env, workdir and entrypoint/cmd follow Docker's rules", "[integration]") {
  if (cannot_run()) return;
  std::string root = busybox_rootfs(true);
  image::ContainerConfig config;
  config.entrypoint = std::vector<std::string>{"/bin/sh", "-c"};
  config.cmd = std::vector<std::string>{"echo image cmd"};
  config.env = {"A=1", "B=2"};
  config.working_dir = "/srv/app";
  ProcessOverrides overrides;
  overrides.env = {"B=3", "C=4"};
  ProcessSpec spec;
  spec.hostname = "h";
  REQUIRE(apply_image_config(root, config, overrides, spec));
  CHECK(spec.args == std::vector<std::string>{"/bin/sh", "-c", "echo image cmd"});
  CHECK(spec.env == std::vector<std::string>{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                                             "/usr/bin:/sbin:/bin",
                                             "HOSTNAME=h", "A=1", "B=3", "C=4", "HOME=/root"});
  overrides.cmd = {"pwd; echo $A$B$C"};
  REQUIRE(apply_image_config(root, config, overrides, spec));
  auto o = testing::run(root, spec);
  CHECK(o.out == "/srv/app\n134\n");
  CHECK(fs::is_dir(root + "/srv/app"));  // created, and kept as Docker does

  overrides.entrypoint = std::vector<std::string>{"echo"};
  overrides.cmd = {};
  REQUIRE(apply_image_config(root, config, overrides, spec));
  CHECK(spec.args == std::vector<std::string>{"echo"});  // --entrypoint drops the image's Cmd
  overrides.entrypoint = std::vector<std::string>{};
  config.cmd.reset();
  auto none = apply_image_config(root, config, overrides, spec);
  REQUIRE_FALSE(none);
  CHECK(none.error().message() == "no command specified");
}

TEST_CASE("exit statuses are Docker's", "[integration]") {
  if (cannot_run()) return;
  std::string root = busybox_rootfs();
  CHECK(sh(root, "exit 3").code == 3);
  CHECK(sh(root, "true").code == 0);

  auto missing = testing::run(root, testing::spec_for({"nosuch"}));
  CHECK(missing.code == 127);
  CHECK(missing.error == "exec: \"nosuch\": executable file not found in $PATH");
  auto missing_path = testing::run(root, testing::spec_for({"/bin/nosuch"}));
  CHECK(missing_path.code == 127);
  CHECK(missing_path.error == "exec: \"/bin/nosuch\": no such file or directory");
  auto not_exec = testing::run(root, testing::spec_for({"/etc/passwd"}));
  CHECK(not_exec.code == 126);
  CHECK(not_exec.error == "exec: \"/etc/passwd\": permission denied");

  ProcessSpec spec;
  spec.hostname = std::string(80, 'h');
  auto setup = sh(root, "true", spec);
  CHECK(setup.code == 125);
  CHECK(setup.error == "sethostname " + spec.hostname + ": EINVAL (Invalid argument)");

  auto c = Container::start(root, testing::spec_for({"sleep", "30"}));
  REQUIRE(c);
  REQUIRE(c->kill(SIGKILL));
  CHECK(*c->wait() == 137);
}

TEST_CASE("stdin is /dev/null unless kept open; umask 0022; only stdio fds are inherited",
          "[integration]") {
  if (cannot_run()) return;
  auto o = sh(busybox_rootfs(), "cat; umask; ls /proc/self/fd");
  CHECK(o.out == "0022\n0\n1\n2\n3\n");
}

TEST_CASE("once waited, a container holds nothing in its rootfs: it unmounts at once",
          "[integration]") {
  if (cannot_run()) return;
  // The build engine unmounts a RUN step's rootfs right after wait(), with the Container still
  // in scope; an fd kept on the rootfs made that EBUSY (and a lazy detach) on every step.
  std::string root = busybox_rootfs(true);
  REQUIRE(::mount(root.c_str(), root.c_str(), nullptr, MS_BIND, nullptr) == 0);
  ProcessSpec spec = testing::spec_for({"/bin/true"});
  auto c = Container::start(root, spec);
  REQUIRE(c);
  auto code = c->wait();
  REQUIRE(code);
  CHECK(*code == 0);
  int rc = ::umount2(root.c_str(), 0);
  int err = errno;
  if (rc != 0) ::umount2(root.c_str(), MNT_DETACH);
  INFO("umount: " << std::strerror(err));
  CHECK(rc == 0);
}

}  // namespace imgbuild::runtime
