// The Docker CLI habits of issue 17, used exactly as Docker's docs show them, against the real
// binary on a private store with a busybox image made locally: command dispatch, --format Go
// templates on images/ps/inspect/history/port/version, `history`, and the `docker build` flags
// CI scripts pass (--pull against a real registry, --shm-size, --rm, `build -`).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "base/fs.h"
#include "base/subprocess.h"
#include "tests/support/busybox_image.h"
#include "tests/support/registry_server.h"
#include "tests/support/skip.h"

namespace imgbuild {
namespace {

bool can_run() {
  if (::geteuid() != 0) return testing::skip("the Docker-habit CLI tests need root");
  return true;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

struct Cli {
  fs::TempDir dir;
  std::string root;

  Cli() : dir(*fs::TempDir::create("/var/tmp", "imgbuild-habits-")) {
    root = dir.path() + "/store";
    testing::import_busybox(root, "busybox:test", dir.path() + "/busybox.tar");
  }
  Cli(const Cli&) = delete;
  Cli& operator=(const Cli&) = delete;
  ~Cli() {
    auto ids = run({"ps", "-aq", "--no-trunc"});
    std::string id;
    for (char c : ids.out) {
      if (c != '\n') {
        id += c;
        continue;
      }
      run({"rm", "-f", id});
      id.clear();
    }
  }
  ProcessResult run(std::vector<std::string> args, std::optional<std::string> input = {},
                    const std::string& cwd = "") const {
    args.insert(args.begin(), {IMGBUILD_BINARY, "--root", root});
    ProcessOptions options;
    options.stdin_data = std::move(input);
    options.cwd = cwd;
    auto r = run_process(args, options);
    REQUIRE(r);
    return *r;
  }
  ProcessResult ok(std::vector<std::string> args, std::optional<std::string> input = {}) const {
    auto r = run(args, std::move(input));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r;
  }
};

TEST_CASE("an unknown word is not a build context but Docker's 'not a command'") {
  if (!can_run()) return;
  fs::TempDir dir = *fs::TempDir::create("/var/tmp", "imgbuild-habits-");
  std::string root = dir.path() + "/store";
  auto r = run_process({IMGBUILD_BINARY, "--root", root, "nosuchcommand", "web"});
  REQUIRE(r);
  CHECK(r->exit_code == 1);
  CHECK(r->out.empty());
  CHECK(r->err == "imgbuild: 'nosuchcommand' is not an imgbuild command.\nSee 'imgbuild --help'\n");
  auto near = run_process({IMGBUILD_BINARY, "--root", root, "histroy", "busybox"});
  REQUIRE(near);
  CHECK(near->exit_code == 1);
  CHECK(near->err ==
        "imgbuild: 'histroy' is not an imgbuild command.\nSee 'imgbuild --help'\n\n"
        "Did you mean this?\n\thistory\n");
}

TEST_CASE("docker habits: images, inspect, history, ps, port, version with --format") {
  if (!can_run()) return;
  Cli cli;
  // `docker build -t app - < Dockerfile`, with the flags CI scripts pass.
  cli.ok({"build", "--rm", "--force-rm", "--isolation", "default", "--shm-size", "32m",
          "--add-host", "db.internal:10.1.2.3", "--progress", "plain", "-t", "app:1", "-"},
         "FROM busybox:test\nRUN df -k /dev/shm | tail -n 1 > /shm\n"
         "RUN grep db.internal /etc/hosts > /hosts\n"
         "ENV A=1 B=2\nEXPOSE 80\nCMD [\"sh\"]\n");
  // /dev/shm in the RUN step was 32 MiB, not the default 64; --add-host reached /etc/hosts.
  CHECK(cli.ok({"run", "--rm", "app:1", "cat", "/shm"}).out.find(" 32768 ") != std::string::npos);
  CHECK(cli.ok({"run", "--rm", "app:1", "cat", "/hosts"}).out == "10.1.2.3\tdb.internal\n");

  // images
  CHECK(cli.ok({"images", "--format", "{{.Repository}}:{{.Tag}}", "app"}).out == "app:1\n");
  std::string id = trim(cli.ok({"images", "-q", "app"}).out);
  CHECK(cli.ok({"images", "--format", "{{.ID}}", "app"}).out == id + "\n");
  auto table = cli.ok({"images", "--format", "table {{.Repository}}\\t{{.Tag}}", "app"}).out;
  CHECK(table == "REPOSITORY   TAG\napp          1\n");
  auto json_lines = cli.ok({"images", "--format", "json"}).out;
  size_t lines = 0;
  for (size_t at = 0; (at = json_lines.find('\n', at)) != std::string::npos; ++at) ++lines;
  CHECK(lines == 2);
  auto first = nlohmann::json::parse(json_lines.substr(0, json_lines.find('\n')));
  CHECK(first.contains("Repository"));
  CHECK(first.contains("CreatedSince"));
  auto bad = cli.run({"images", "--format", "{{.ID}"});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err == "imgbuild: template parsing error: template: :1: unexpected \"}\" in operand\n");

  // inspect
  auto env = cli.ok({"inspect", "--format", "{{.Config.Env}}", "app:1"}).out;
  CHECK(std::regex_match(env, std::regex("\\[PATH=[^ ]+ A=1 B=2\\]\n")));
  CHECK(cli.ok({"inspect", "-f", "{{.Config.ExposedPorts}}", "app:1"}).out == "map[80/tcp:{}]\n");
  CHECK(cli.ok({"inspect", "--format", "{{json .Config.Cmd}}", "app:1"}).out == "[\"sh\"]\n");
  CHECK(cli.ok({"inspect", "--type", "image", "-f", "{{index .RepoTags 0}}", "app:1"}).out ==
        "app:1\n");

  // history, as `docker history`
  auto hist = cli.ok({"history", "app:1"}).out;
  INFO(hist);
  CHECK(std::regex_search(hist,
                          std::regex("^IMAGE +CREATED +CREATED BY +SIZE +COMMENT\n" + id + " +")));
  CHECK(hist.find("<missing>") != std::string::npos);
  CHECK(hist.find("CMD [\"sh\"]") != std::string::npos);
  auto quiet = cli.ok({"history", "-q", "app:1"}).out;
  CHECK(quiet.starts_with(id + "\n<missing>\n"));
  auto created_by = cli.ok({"history", "--no-trunc", "--format", "{{.CreatedBy}}", "app:1"}).out;
  CHECK(created_by.find("RUN /bin/sh -c df -k /dev/shm | tail -n 1 > /shm # buildkit") !=
        std::string::npos);
  auto raw = cli.ok({"history", "--human=false", "--format", "{{.Size}}", "app:1"}).out;
  CHECK(std::regex_search(raw, std::regex("^[0-9]+\n")));

  // ps and container inspect
  cli.ok({"run", "-d", "--name", "web", "busybox:test", "sleep", "60"});
  std::string status;
  for (int i = 0; i < 300; ++i) {
    status = cli.ok({"ps", "--format", "{{.Names}} {{.Status}}"}).out;
    if (status.starts_with("web Up")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(status.starts_with("web Up "));
  CHECK(cli.ok({"ps", "--format", "table {{.Names}}\\t{{.Image}}"}).out ==
        "NAMES     IMAGE\nweb       busybox:test\n");
  auto ps_json = nlohmann::json::parse(cli.ok({"ps", "--format", "json"}).out);
  CHECK(ps_json["Names"] == "web");
  CHECK(ps_json["State"] == "running");
  CHECK(cli.ok({"inspect", "--format", "{{.State.Status}} {{.Name}}", "web"}).out ==
        "running /web\n");
  CHECK(cli.ok({"inspect", "--type", "container", "-f", "{{json .Config.Cmd}}", "web"}).out ==
        "[\"sleep\",\"60\"]\n");
  auto wrong_type = cli.run({"inspect", "--type", "container", "app:1"});
  CHECK(wrong_type.exit_code == 1);
  CHECK(wrong_type.err == "imgbuild: No such container: app:1\n");
  CHECK(cli.ok({"port", "web", "--format", "{{.HostPort}}"}).out.empty());
  cli.ok({"rm", "-f", "web"});

  // version
  CHECK(cli.ok({"version", "--format", "{{.Client.Version}}"}).out == "0.1.0\n");
  CHECK(nlohmann::json::parse(cli.ok({"version", "--format", "json"}).out)["Client"]["Os"] ==
        "linux");
}

TEST_CASE("docker habits: build flags refused by name, build - with a tar context") {
  if (!can_run()) return;
  Cli cli;
  auto squash = cli.run({"build", "--squash", "-"}, "FROM busybox:test\n");
  CHECK(squash.exit_code == 1);
  CHECK(squash.err.starts_with("imgbuild build: --squash is not supported: "));
  auto iso = cli.run({"build", "--isolation", "hyperv", "-"}, "FROM busybox:test\n");
  CHECK(iso.exit_code == 1);
  CHECK(iso.err.starts_with("imgbuild build: --isolation is not supported: \"hyperv\""));
  auto memory = cli.run({"build", "-m", "1g", "-"}, "FROM busybox:test\n");
  CHECK(memory.err.starts_with("imgbuild build: --memory is not supported: "));

  // `docker build - < context.tar`: a tar on stdin is the context, decided by content.
  std::string ctx = cli.dir.path() + "/ctx";
  REQUIRE(fs::make_dirs(ctx, 0755));
  REQUIRE(
      fs::write_file_atomic(ctx + "/Dockerfile", "FROM busybox:test\nCOPY hello /hello\n", 0644));
  REQUIRE(fs::write_file_atomic(ctx + "/hello", "from the tar\n", 0644));
  auto tar = run_process({"tar", "-C", ctx, "-cf", "-", "."});
  REQUIRE(tar);
  REQUIRE(tar->exit_code == 0);
  cli.ok({"build", "-q", "-t", "fromtar", "-"}, tar->out);
  CHECK(cli.ok({"run", "--rm", "fromtar", "cat", "/hello"}).out == "from the tar\n");
  // A directory as the first word still means build, as always.
  auto by_dir = cli.run({"-q", "-t", "bydir", ctx});
  INFO(by_dir.err);
  CHECK(by_dir.exit_code == 0);
}

TEST_CASE("docker habits: build --pull sees a tag that moved in the registry") {
  if (!can_run()) return;
  if (!testing::RegistryServer::available()) {
    testing::skip("build --pull needs docker-registry");
    return;
  }
  auto& reg = testing::RegistryServer::shared(testing::RegistryServer::Auth::kNone);
  Cli cli;
  std::string ref = reg.host() + "/habits/base:1";
  cli.ok({"tag", "busybox:test", ref});
  cli.ok({"push", ref});
  // The registry's tag moves to an image with /v2; the local tag stays on the old one.
  cli.ok({"build", "-q", "-t", ref, "-"}, "FROM busybox:test\nRUN echo v2 > /v2\n");
  cli.ok({"push", ref});
  cli.ok({"tag", "busybox:test", ref});
  std::string dockerfile = "FROM " + ref + "\nRUN cat /v2\n";
  auto stale = cli.run({"build", "-q", "--no-cache", "-"}, dockerfile);
  CHECK(stale.exit_code != 0);
  auto pulled = cli.run({"build", "-q", "--pull", "-t", "pulled", "-"}, dockerfile);
  INFO(pulled.err);
  CHECK(pulled.exit_code == 0);
}

}  // namespace
TEST_CASE("docker habits: inspect finds volumes, volume ls --filter") {
  if (!can_run()) return;
  Cli cli;
  cli.ok({"volume", "create", "--label", "tier=db", "data"});
  cli.ok({"volume", "create", "cache"});
  cli.ok({"run", "--name", "user", "-v", "data:/data", "busybox:test", "true"});
  // `docker inspect NAME` finds a volume too, and --type volume asks for one.
  CHECK(
      trim(cli.ok({"inspect", "--format", "{{.Name}} {{.Driver}} {{.Labels.tier}}", "data"}).out) ==
      "data local db");
  CHECK(trim(cli.ok({"inspect", "--type", "volume", "--format", "{{.Scope}}", "cache"}).out) ==
        "local");
  auto missing = cli.run({"inspect", "nothing-by-this-name"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err == "imgbuild: No such object: nothing-by-this-name\n");
  // Docker's volume filters.
  CHECK(cli.ok({"volume", "ls", "-q", "--filter", "dangling=true"}).out == "cache\n");
  CHECK(cli.ok({"volume", "ls", "-q", "--filter", "dangling=false"}).out == "data\n");
  CHECK(cli.ok({"volume", "ls", "-q", "-f", "label=tier=db"}).out == "data\n");
  CHECK(cli.ok({"volume", "ls", "-q", "-f", "label=tier"}).out == "data\n");
  CHECK(cli.ok({"volume", "ls", "-q", "-f", "name=ach"}).out == "cache\n");
  CHECK(cli.ok({"volume", "ls", "-q", "-f", "name=cache", "-f", "name=data"}).out ==
        "cache\ndata\n");
  auto bad = cli.run({"volume", "ls", "-f", "colour=red"});
  CHECK(bad.exit_code != 0);
  CHECK(bad.err.find("invalid filter 'colour=red'") != std::string::npos);
  cli.ok({"rm", "user"});
}

}  // namespace imgbuild
