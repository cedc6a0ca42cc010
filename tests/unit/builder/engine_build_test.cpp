// The build engine end to end on a real store in a temp dir, with a fake StepRunner standing in
// for imgfs + the runtime (RUN writes /ran-<n> containing its command into the upper directory).
// Covers the cache rules, miss explanations, bad-input errors and SOURCE_DATE_EPOCH
// reproducibility.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <mutex>

#include "base/fs.h"
#include "builder/build_engine.h"
#include "builder/layer_commit.h"
#include "image/store.h"

using namespace imgbuild;
using namespace imgbuild::builder;

namespace {

void write(const std::string& path, const std::string& data) {
  REQUIRE(fs::make_dirs(path.substr(0, path.rfind('/'))));
  REQUIRE(fs::write_file_atomic(path, data, 0644));
}

class FakeRunner final : public StepRunner {
 public:
  Result<int> run(const RunRequest& req) override {
    std::lock_guard lock(mu_);
    std::string cmd = req.args.back();
    commands.push_back(cmd);
    if (cmd.find("exit 3") != std::string::npos) {
      if (req.output) req.output("about to fail\n");
      return 3;
    }
    std::string content = cmd + "\n";
    for (const auto& e : req.env) content += e + "\n";
    auto st =
        fs::write_file_atomic(req.upper + "/ran-" + std::to_string(commands.size()), content, 0644);
    if (!st) return std::unexpected(st.error());
    if (req.output) req.output("ran " + cmd + "\n");
    return 0;
  }
  std::vector<std::string> commands;

 private:
  std::mutex mu_;
};

// Records what the engine reports, in plain words.
class RecordingProgress final : public Progress {
 public:
  int begin(std::string_view title) override {
    std::lock_guard lock(mu_);
    titles.emplace_back(title);
    return static_cast<int>(titles.size());
  }
  void cached(int step, std::string_view) override { add(step, "CACHED"); }
  void miss_reason(int step, std::string_view reason) override {
    add(step, "MISS " + std::string(reason));
  }
  void output(int, std::string_view) override {}
  void done(int step) override { add(step, "DONE"); }
  void failed(int step, std::string_view) override { add(step, "FAILED"); }
  void note(std::string_view) override {}
  void add(int step, const std::string& what) {
    std::lock_guard lock(mu_);
    events.push_back(titles[static_cast<size_t>(step - 1)] + " " + what);
  }
  bool has(const std::string& e) const {
    return std::find(events.begin(), events.end(), e) != events.end();
  }
  std::vector<std::string> titles;
  std::vector<std::string> events;

 private:
  std::mutex mu_;
};

struct Env {
  fs::TempDir dir = fs::TempDir::create().value();
  std::string root = dir.path() + "/store";
  std::string ctx = dir.path() + "/ctx";
  image::Store store = image::Store::open(root).value();
  FakeRunner runner;

  Env() {
    write(ctx + "/app/main.txt", "main");
    write(ctx + "/app/other.txt", "other");
    write(ctx + "/README", "readme");
  }

  Result<BuildResult> build(const std::string& dockerfile, RecordingProgress& progress,
                            std::map<std::string, std::string> args = {},
                            std::vector<std::string> tags = {"app"},
                            std::optional<int64_t> sde = std::nullopt) {
    BuildOptions o;
    o.context_dir = ctx;
    o.dockerfile_text = dockerfile;
    o.tags = std::move(tags);
    o.build_args = std::move(args);
    o.source_date_epoch = sde;
    return build_image(store, o, runner, progress);
  }
};

const char* kDockerfile =
    "FROM scratch\n"
    "ARG USED=1\n"
    "COPY README /README\n"
    "RUN build $USED\n"
    "COPY app/main.txt /main.txt\n"
    "RUN after\n"
    "ENV X=1\n"
    "CMD [\"/run\"]\n";

}  // namespace

TEST_CASE("engine builds, then a no-op rebuild is entirely cached with the same image") {
  Env env;
  RecordingProgress p1;
  auto first = env.build(kDockerfile, p1);
  REQUIRE(first);
  CHECK(first->steps_executed == 4);
  CHECK(first->steps_cached == 0);
  CHECK(env.runner.commands.size() == 2);

  auto img = env.store.resolve("app");
  REQUIRE(img);
  CHECK(img->config.diff_ids.size() == 4);
  CHECK(img->config.config.cmd == std::vector<std::string>{"/run"});
  CHECK(img->config.config.env_value("X") == "1");
  CHECK(img->config.config.env_value("PATH").has_value());

  RecordingProgress p2;
  auto second = env.build(kDockerfile, p2);
  REQUIRE(second);
  CHECK(second->steps_executed == 0);
  CHECK(second->steps_cached == 4);
  CHECK(env.runner.commands.size() == 2);
  CHECK(second->image_id == first->image_id);
}

TEST_CASE("engine: changing one context file re-runs only the steps after its COPY") {
  Env env;
  RecordingProgress p1;
  REQUIRE(env.build(kDockerfile, p1));
  write(env.ctx + "/app/main.txt", "changed");
  RecordingProgress p2;
  auto r = env.build(kDockerfile, p2);
  REQUIRE(r);
  CHECK(r->steps_cached == 2);
  CHECK(r->steps_executed == 2);
  CHECK(p2.has("[3/8] COPY README /README CACHED"));
  CHECK(p2.has("[4/8] RUN build $USED CACHED"));
  CHECK(p2.has("[5/8] COPY app/main.txt /main.txt MISS file app/main.txt changed"));
  CHECK(p2.has("[6/8] RUN after MISS previous step changed"));
}

TEST_CASE("engine: changing an unused build arg re-runs nothing, a used one re-runs its RUN") {
  Env env;
  RecordingProgress p1;
  REQUIRE(env.build(kDockerfile, p1, {{"UNUSED", "a"}}));
  RecordingProgress p2;
  auto r = env.build(kDockerfile, p2, {{"UNUSED", "b"}});
  REQUIRE(r);
  CHECK(r->steps_executed == 0);
  RecordingProgress p3;
  auto r3 = env.build(kDockerfile, p3, {{"USED", "2"}});
  REQUIRE(r3);
  CHECK(r3->steps_executed == 3);  // the RUN that sees USED, and everything after it
  CHECK(p3.has("[4/8] RUN build $USED MISS arg/env USED changed (1 -> 2)"));
}

TEST_CASE("engine: a failing RUN names the Dockerfile line and leaves the tag in place") {
  Env env;
  RecordingProgress p1;
  auto good = env.build("FROM scratch\nCOPY README /\n", p1);
  REQUIRE(good);
  RecordingProgress p2;
  auto bad = env.build("FROM scratch\nCOPY README /\nRUN exit 3\n", p2);
  REQUIRE(!bad);
  CHECK(bad.error().message() ==
        "Dockerfile:3: RUN exit 3: process \"/bin/sh -c exit 3\" did not complete successfully: "
        "exit code: 3\n--- last output ---\nabout to fail");
  auto img = env.store.resolve("app");
  REQUIRE(img);
  CHECK(img->id() == good->image_id);
}

TEST_CASE("engine: bad inputs are errors naming the line") {
  Env env;
  RecordingProgress p;
  auto missing = env.build("FROM scratch\nCOPY nope.txt /\n", p);
  REQUIRE(!missing);
  CHECK(missing.error().message() ==
        "Dockerfile:2: COPY nope.txt /: \"nope.txt\": not found in build context");
  auto outside = env.build("FROM scratch\nCOPY ../x /\n", p);
  REQUIRE(!outside);
  CHECK(outside.error().message() ==
        "Dockerfile:2: COPY ../x /: forbidden path outside the build context: ../x");
  auto base = env.build("FROM nosuchimage\nRUN true\n", p);
  REQUIRE(!base);
  CHECK(base.error().message() ==
        "Dockerfile:1: FROM nosuchimage: image not found: nosuchimage:latest");
  CHECK(env.store.list_images().value().empty());
}

TEST_CASE("engine: multi-stage builds only needed stages and copies between them") {
  Env env;
  RecordingProgress p;
  auto r = env.build(
      "FROM scratch AS unused\nRUN exit 3\n"
      "FROM scratch AS build\nCOPY app /src\nRUN compile\n"
      "FROM scratch\nCOPY --from=build /src/main.txt /out/\n",
      p);
  REQUIRE(r);
  auto img = env.store.resolve("app");
  REQUIRE(img);
  REQUIRE(img->config.diff_ids.size() == 1);
  auto dirs = env.store.prepare_layers(*img);
  REQUIRE(dirs);
  CHECK(fs::read_file(dirs->back() + "/out/main.txt").value() == "main");
}

TEST_CASE("engine: SOURCE_DATE_EPOCH gives the same image in two fresh stores") {
  Env a;
  Env b;
  RecordingProgress pa, pb;
  auto ra = a.build(kDockerfile, pa, {}, {"app"}, 1700000000);
  auto rb = b.build(kDockerfile, pb, {}, {"app"}, 1700000000);
  REQUIRE(ra);
  REQUIRE(rb);
  CHECK(ra->image_id == rb->image_id);
  CHECK(ra->manifest_digest == rb->manifest_digest);
  auto img = a.store.resolve("app");
  REQUIRE(img);
  CHECK(img->config.created == "2023-11-14T22:13:20Z");
}
