// The container lifecycle on a fake monitor: start (the ready reply), stop (the stop request the
// monitor answers by recording the exit), remove, kill, wait, and the log copy, without the CLI
// or a real container. The fake monitor is a forked process that behaves as the real one does
// towards the record.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "base/fs.h"
#include "containers/launch.h"
#include "containers/log_follow.h"
#include "containers/monitor_launcher.h"
#include "containers/record_store.h"
#include "containers/remove.h"
#include "containers/stop.h"

namespace imgbuild::containers {
namespace {

struct Fixture {
  fs::TempDir dir = *fs::TempDir::create("/tmp", "lifecycle-");
  image::Store store = *image::Store::open(fs::join(dir.path(), "root"));

  ContainerRecord make(const std::string& id, const std::string& name) {
    ContainerRecord r;
    r.id = id;
    r.name = name;
    r.created = "2026-01-01T00:00:00Z";
    REQUIRE(fs::make_dirs(container_dir(store, id)));
    REQUIRE(save_record(store, r));
    return r;
  }
};

// Replies as told, or runs a fake monitor: a child that records the container running (itself as
// the monitor) and, once a stop is requested, records it exited with code 143 and exits.
class FakeLauncher final : public MonitorLauncher {
 public:
  std::optional<Result<MonitorReady>> reply;  // set: returned without starting anything
  std::vector<std::string> launched;
  pid_t child = 0;

  ~FakeLauncher() override {
    if (child > 0) {
      ::kill(child, SIGKILL);
      ::waitpid(child, nullptr, 0);
    }
  }

  Result<MonitorReady> launch(const image::Store& store, const std::string& id) override {
    launched.push_back(id);
    if (reply) return *reply;
    ContainerRecord record = TRY(load_record(store, id));
    pid_t pid = ::fork();
    if (pid < 0) return fail_errno("fork", "fake monitor");
    if (pid == 0) {
      while (!stop_requested(store, id)) ::usleep(10'000);
      record.status = ContainerStatus::kExited;
      record.exit_code = 143;
      (void)save_record(store, record);
      ::_exit(0);
    }
    child = pid;
    record.status = ContainerStatus::kRunning;
    record.monitor_pid = pid;
    TRY(save_record(store, record));
    return MonitorReady{};
  }

  // Reaps the fake monitor once it has exited by itself.
  void reap() {
    REQUIRE(child > 0);
    REQUIRE(::waitpid(child, nullptr, 0) == child);
    child = 0;
  }
};

const std::string kId = std::string(64, 'a');
const std::string kOther = std::string(64, 'b');

TEST_CASE("claim_container_name refuses a name in use with Docker's conflict message", "[unit]") {
  Fixture f;
  f.make(kId, "web");
  auto taken = claim_container_name(f.store, "web");
  REQUIRE_FALSE(taken);
  CHECK(taken.error().kind() == ErrorKind::kAlreadyExists);
  CHECK(taken.error().message() ==
        "Conflict. The container name \"/web\" is already in use by container \"" + kId +
            "\". You have to remove (or rename) that container to be able to reuse that name.");
  CHECK(*claim_container_name(f.store, "db") == "db");
  auto generated = claim_container_name(f.store, "");
  REQUIRE(generated);
  CHECK(generated->find('_') != std::string::npos);
  CHECK(*generated != "web");
}

TEST_CASE("a generated name is never one a record has", "[unit]") {
  Fixture f;
  for (int i = 0; i < 30; ++i) {
    std::string name = new_container_name(f.store);
    auto all = *list_records(f.store);
    for (const auto& r : all.records) REQUIRE(r.name != name);
    f.make(std::string(63, 'c') + "0123456789abcdefghijklmnopqrstu"[i], name);
  }
  CHECK(list_records(f.store)->records.size() == 30);
}

TEST_CASE("parse_monitor_ready reads the ready line", "[unit]") {
  CHECK(parse_monitor_ready("0 ok")->code == 0);
  CHECK(parse_monitor_ready("0 ok")->message.empty());
  auto failed = *parse_monitor_ready("127 exec: \"nope\": executable file not found in $PATH");
  CHECK(failed.code == 127);
  CHECK(failed.message == "exec: \"nope\": executable file not found in $PATH");
  auto early = parse_monitor_ready("");
  REQUIRE_FALSE(early);
  CHECK(early.error().message() == "the container monitor exited early");
}

TEST_CASE("start_detached returns the monitor's failure and removes an --rm container", "[unit]") {
  Fixture f;
  ContainerRecord kept = f.make(kId, "kept");
  ContainerRecord gone = f.make(kOther, "gone");
  gone.auto_remove = true;
  FakeLauncher launcher;
  launcher.reply = MonitorReady{126, "permission denied"};
  auto started = start_detached(f.store, kept, launcher);
  REQUIRE_FALSE(started);
  CHECK(started.error().code == 126);
  CHECK(started.error().error.message() == "permission denied");
  CHECK(fs::exists(container_dir(f.store, kId)));
  REQUIRE_FALSE(start_detached(f.store, gone, launcher));
  CHECK_FALSE(fs::exists(container_dir(f.store, kOther)));
  CHECK(launcher.launched == std::vector<std::string>{kId, kOther});

  launcher.reply = Result<MonitorReady>(fail(ErrorKind::kRuntime, "no monitor"));
  auto broken = start_detached(f.store, kept, launcher);
  REQUIRE_FALSE(broken);
  CHECK(broken.error().code == 125);
  CHECK(broken.error().error.message() == "no monitor");
}

TEST_CASE("a running container is removed only after a stop or with force", "[unit]") {
  Fixture f;
  ContainerRecord r = f.make(kId, "web");
  FakeLauncher launcher;
  REQUIRE(start_detached(f.store, r, launcher));
  r = *load_record(f.store, kId);
  CHECK(is_running(r));
  CHECK(observed_status(r) == ContainerStatus::kRunning);

  auto refused = remove_container(f.store, "web", RemoveForce::kNo, RemoveVolumes::kKeep);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message() ==
        "cannot remove container \"web\": container is running: stop the container before "
        "removing or force remove");
  CHECK(fs::exists(container_dir(f.store, kId)));

  REQUIRE(stop_container(f.store, r, SIGTERM, std::chrono::seconds(30)));
  CHECK(stop_requested(f.store, kId));
  launcher.reap();
  auto stopped = *load_record(f.store, kId);
  CHECK(observed_status(stopped) == ContainerStatus::kExited);
  CHECK(wait_for_exit(f.store, stopped) == 143);

  REQUIRE(remove_container(f.store, "web", RemoveForce::kNo, RemoveVolumes::kKeep));
  CHECK_FALSE(fs::exists(container_dir(f.store, kId)));
  auto missing = remove_container(f.store, "web", RemoveForce::kNo, RemoveVolumes::kKeep);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message() == "No such container: web");
}

TEST_CASE("a forced remove stops a running container first", "[unit]") {
  Fixture f;
  ContainerRecord r = f.make(kId, "web");
  FakeLauncher launcher;
  REQUIRE(start_detached(f.store, r, launcher));
  REQUIRE(remove_container(f.store, kId.substr(0, 6), RemoveForce::kYes, RemoveVolumes::kKeep));
  CHECK_FALSE(fs::exists(container_dir(f.store, kId)));
  launcher.reap();
}

TEST_CASE("an unreadable record is removed only with force", "[unit]") {
  Fixture f;
  REQUIRE(fs::make_dirs(container_dir(f.store, kId)));
  REQUIRE(fs::write_file_atomic(fs::join(container_dir(f.store, kId), "state.json"), "{"));
  auto refused = remove_container(f.store, kId, RemoveForce::kNo, RemoveVolumes::kKeep);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind() == ErrorKind::kCorrupt);
  CHECK(refused.error().message().starts_with(
      "cannot remove container \"" + kId + "\": its record " +
      fs::join(container_dir(f.store, kId), "state.json") + " is unreadable ("));
  REQUIRE(remove_container(f.store, kId, RemoveForce::kYes, RemoveVolumes::kKeep));
  CHECK_FALSE(fs::exists(container_dir(f.store, kId)));
}

TEST_CASE("kill marks a restarting container stopped and refuses a stopped one", "[unit]") {
  Fixture f;
  ContainerRecord r = f.make(kId, "web");
  auto refused = kill_container(f.store, "web", r, SIGKILL);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message() ==
        "cannot kill container: web: container " + kId + " is not running");
  CHECK_FALSE(stop_requested(f.store, kId));
  r.status = ContainerStatus::kRestarting;
  r.monitor_pid = ::getpid();  // a live monitor waiting to restart it
  REQUIRE(kill_container(f.store, "web", r, SIGKILL));
  CHECK(stop_requested(f.store, kId));
}

TEST_CASE("record_exit records the code, or removes an --rm container", "[unit]") {
  Fixture f;
  ContainerRecord r = f.make(kId, "web");
  r.status = ContainerStatus::kRunning;
  r.container_pid = 42;
  REQUIRE(record_exit(f.store, r, 3));
  auto back = *load_record(f.store, kId);
  CHECK(back.status == ContainerStatus::kExited);
  CHECK(back.exit_code == 3);
  CHECK(back.container_pid == 0);
  CHECK_FALSE(back.finished.empty());
  back.auto_remove = true;
  REQUIRE(record_exit(f.store, back, 0));
  CHECK_FALSE(fs::exists(container_dir(f.store, kId)));
}

TEST_CASE("copy_log copies the log, and nothing when there is none", "[unit]") {
  Fixture f;
  ContainerRecord r = f.make(kId, "web");
  std::string out;
  auto sink = [&out](std::string_view bytes) -> Status {
    out += bytes;
    return {};
  };
  REQUIRE(copy_log(f.store, r, LogFollow::kYes, sink));
  CHECK(out.empty());
  REQUIRE(
      fs::write_file_atomic(fs::join(container_dir(f.store, kId), "container.log"), "one\ntwo\n"));
  // Following a container that is not running ends at the end of its log.
  REQUIRE(copy_log(f.store, r, LogFollow::kYes, sink));
  CHECK(out == "one\ntwo\n");
  auto failing = copy_log(f.store, r, LogFollow::kNo, [](std::string_view) -> Status {
    return fail(ErrorKind::kIo, "write(stdout): EPIPE");
  });
  REQUIRE_FALSE(failing);
  CHECK(failing.error().message() == "write(stdout): EPIPE");
}

}  // namespace
}  // namespace imgbuild::containers
