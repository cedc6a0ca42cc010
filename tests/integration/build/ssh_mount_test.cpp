// `build --ssh` and RUN --mount=type=ssh for real: an ssh-agent holding a generated key, a RUN
// step that asks it for its identities through the forwarded socket (tests/helpers/agent_probe),
// key files loaded into imgbuild's private agent, and nothing of it left in the image. Also
// `build --ulimit`. Needs root, /dev/fuse and openssh-client.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <string>
#include <vector>

#include "base/fs.h"
#include "base/subprocess.h"
#include "tests/support/busybox_image.h"
#include "tests/support/skip.h"

extern char** environ;

using namespace imgbuild;

namespace {

bool can_run() {
  if (::geteuid() != 0 || !fs::exists("/dev/fuse")) {
    return ::imgbuild::testing::skip("build --ssh tests need root and /dev/fuse");
  }
  if (find_system_program("ssh-agent").empty() || find_system_program("ssh-keygen").empty()) {
    return ::imgbuild::testing::skip("build --ssh tests need openssh-client");
  }
  return true;
}

// The environment of this process, without SSH_AUTH_SOCK, plus `extra`.
std::vector<std::string> environment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!std::string_view(*e).starts_with("SSH_AUTH_SOCK=")) env.emplace_back(*e);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

struct Env {
  fs::TempDir dir = fs::TempDir::create("/tmp", "imgbuild-ssh-it-").value();
  std::string store = dir.path() + "/store";
  std::string context = dir.path() + "/ctx";
  std::string agent_socket = dir.path() + "/agent.sock";

  Env() {
    testing::import_busybox(store, "busybox:latest", dir.path() + "/busybox.tar");
    std::filesystem::create_directories(context);
    std::filesystem::copy_file(AGENT_PROBE_BINARY, context + "/agent_probe");
  }

  ProcessResult imgbuild(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
    std::vector<std::string> argv{IMGBUILD_BINARY, "--root", store};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions options;
    options.env = environment(env);
    auto r = run_process(argv, options);
    REQUIRE(r);
    return *r;
  }

  std::string make_key(const std::string& name) {
    std::string path = dir.path() + "/" + name;
    auto r = run_process({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path});
    REQUIRE(r);
    INFO(r->err);
    REQUIRE(r->exit_code == 0);
    return path;
  }

  // The user's agent, holding `key` (ssh-agent daemonizes; the destructor stops it).
  void start_agent(const std::string& key) {
    auto spawned =
        run_process({"sh", "-c",
                     "ssh-agent -a '" + agent_socket + "' >/dev/null && SSH_AUTH_SOCK='" +
                         agent_socket + "' ssh-add -q '" + key + "'"});
    REQUIRE(spawned);
    INFO(spawned->err);
    REQUIRE(spawned->exit_code == 0);
  }

  ~Env() {
    // ssh-agent daemonized itself: find it by its socket and stop it.
    (void)run_process({"pkill", "-f", "ssh-agent -a " + agent_socket});
  }

  void dockerfile(const std::string& text) {
    REQUIRE(fs::write_file_atomic(context + "/Dockerfile", text, 0644));
  }
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("RUN --mount=type=ssh reaches the agent and key files, and leaves no trace") {
  if (!can_run()) return;
  Env env;
  env.start_agent(env.make_key("user_key"));
  std::string key1 = env.make_key("key1");
  std::string key2 = env.make_key("key2");
  env.dockerfile(
      "FROM busybox\n"
      "COPY agent_probe /agent_probe\n"
      "RUN --mount=type=ssh echo \"sock=$SSH_AUTH_SOCK\" && /agent_probe\n"
      "RUN --mount=type=ssh,id=deploy,target=/tmp/deploy.sock,uid=1000,mode=0640 "
      "ls -ln /tmp/deploy.sock && SSH_AUTH_SOCK=/tmp/deploy.sock /agent_probe\n");
  auto built = env.imgbuild({"build", "--progress", "plain", "--ssh", "default", "--ssh",
                             "deploy=" + key1 + "," + key2, "-t", "ssh-test", env.context},
                            {"SSH_AUTH_SOCK=" + env.agent_socket});
  INFO(built.err);
  REQUIRE(built.exit_code == 0);
  CHECK(contains(built.err, "sock=/run/buildkit/ssh_agent.0"));
  CHECK(contains(built.err, "identities 1"));  // the user's agent
  CHECK(contains(built.err, "srw-r-----    1 1000     0"));
  CHECK(contains(built.err, "identities 2"));  // the private agent with both key files

  // Neither the sockets nor their mount points are in the image.
  auto ran = env.imgbuild({"run", "--rm", "ssh-test", "sh", "-c",
                           "test ! -e /run/buildkit && test ! -e /tmp/deploy.sock && echo clean"});
  INFO(ran.err);
  CHECK(ran.out == "clean\n");
  // The private agent stopped with the build.
  auto agents = run_process({"pgrep", "-f", "ssh-agent -D -a /tmp/imgbuild-ssh-agent-"});
  REQUIRE(agents);
  CHECK(agents->out.empty());
}

TEST_CASE("ssh mounts that were not forwarded: optional ones are skipped, required ones fail") {
  if (!can_run()) return;
  Env env;
  env.dockerfile(
      "FROM busybox\n"
      "RUN --mount=type=ssh echo \"optional:${SSH_AUTH_SOCK:-unset}\"\n"
      "RUN --mount=type=ssh,id=deploy,required ls /\n");
  auto built = env.imgbuild({"build", "--progress", "plain", "-t", "ssh-missing", env.context});
  CHECK(built.exit_code != 0);
  CHECK(contains(built.err, "optional:unset"));
  CHECK(contains(built.err, "Dockerfile:3"));
  CHECK(contains(built.err, "no SSH key \"deploy\" forwarded from the client"));

  // --ssh default with no agent in the environment names the variable.
  auto no_agent = env.imgbuild({"build", "--ssh", "default", "-t", "x", env.context});
  CHECK(no_agent.exit_code != 0);
  CHECK(contains(no_agent.err, "make sure SSH_AUTH_SOCK is set"));
  auto bad_key = env.imgbuild(
      {"build", "--ssh", "deploy=" + env.dir.path() + "/missing_key", "-t", "x", env.context});
  CHECK(bad_key.exit_code != 0);
  CHECK(contains(bad_key.err, "--ssh deploy"));
  CHECK(contains(bad_key.err, "missing_key"));
}

TEST_CASE("build --ulimit sets RUN steps' limits, with run --ulimit's errors") {
  if (!can_run()) return;
  Env env;
  env.dockerfile("FROM busybox\nRUN echo \"nofile=$(ulimit -n) hard=$(ulimit -Hn)\"\n");
  auto built = env.imgbuild({"build", "--progress", "plain", "--no-cache", "--ulimit",
                             "nofile=123:456", "-t", "ulimit-test", env.context});
  INFO(built.err);
  REQUIRE(built.exit_code == 0);
  CHECK(contains(built.err, "nofile=123 hard=456"));
  auto bad = env.imgbuild({"build", "--ulimit", "bogus=1", "-t", "x", env.context});
  CHECK(bad.exit_code != 0);
  CHECK(contains(bad.err, "invalid ulimit type: bogus"));
}
