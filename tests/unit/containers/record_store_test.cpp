#include "containers/record_store.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <utility>

#include "base/fs.h"

namespace imgbuild::containers {
namespace {

const std::string kGood = std::string(64, 'a');
const std::string kBad = "b" + std::string(63, '0');

struct Fixture {
  fs::TempDir dir = *fs::TempDir::create("/tmp", "container-state-");
  image::Store store = *image::Store::open(fs::join(dir.path(), "root"));

  Fixture() {
    ContainerRecord r;
    r.id = kGood;
    r.name = "good";
    r.created = "2026-01-01T00:00:00Z";
    REQUIRE(fs::make_dirs(container_dir(store, r.id)));
    REQUIRE(save_record(store, r));
    REQUIRE(fs::make_dirs(container_dir(store, kBad)));
    REQUIRE(
        fs::write_file_atomic(fs::join(container_dir(store, kBad), "state.json"), "{\"id\": \"b0"));
    // Being created: no state.json yet. Neither a record nor an unreadable one.
    REQUIRE(fs::make_dirs(container_dir(store, std::string(64, 'c'))));
  }
};

TEST_CASE("list_records reports a corrupt state.json instead of skipping it", "[unit]") {
  Fixture f;
  auto list = list_records(f.store);
  REQUIRE(list);
  REQUIRE(list->records.size() == 1);
  CHECK(list->records[0].name == "good");
  REQUIRE(list->unreadable.size() == 1);
  CHECK(list->unreadable[0].id == kBad);
  CHECK(list->unreadable[0].cause.kind() == ErrorKind::kCorrupt);
  CHECK(list->unreadable[0].cause.message().find("parse error") != std::string::npos);
}

TEST_CASE("find_record names a corrupt record matched by id or prefix", "[unit]") {
  Fixture f;
  std::string path = fs::join(container_dir(f.store, kBad), "state.json");
  for (const std::string& key : {kBad, std::string("b0")}) {
    auto r = find_record(f.store, key);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind() == ErrorKind::kCorrupt);
    CHECK(r.error().message().starts_with("container " + kBad + ": unreadable record " + path +
                                          ": [json.exception.parse_error"));
    auto any = find_any_record(f.store, key);
    REQUIRE(any);
    REQUIRE(std::holds_alternative<UnreadableRecord>(*any));
    CHECK(std::get<UnreadableRecord>(*any).id == kBad);
  }
  CHECK(find_record(f.store, "good")->id == kGood);
  CHECK(find_record(f.store, "aaa")->id == kGood);
}

TEST_CASE("find_record's not-found error mentions unreadable records", "[unit]") {
  Fixture f;
  auto r = find_record(f.store, "missing");
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == ErrorKind::kNotFound);
  CHECK(r.error().message() ==
        "No such container: missing (1 unreadable container record(s) not searched, see "
        "imgbuild ps -a)");
}

TEST_CASE("a record whose id differs from its directory is unreadable", "[unit]") {
  Fixture f;
  REQUIRE(fs::make_dirs(container_dir(f.store, std::string(64, 'd'))));
  std::string text = *fs::read_file(fs::join(container_dir(f.store, kGood), "state.json"));
  REQUIRE(fs::write_file_atomic(
      fs::join(container_dir(f.store, std::string(64, 'd')), "state.json"), text));
  auto r = find_record(f.store, std::string(64, 'd'));
  REQUIRE_FALSE(r);
  CHECK(r.error().message().ends_with(": records the id " + kGood));
}

TEST_CASE("container status is stored as Docker's words and read back", "[unit]") {
  Fixture f;
  std::string path = fs::join(container_dir(f.store, kGood), "state.json");
  for (auto [status, word] : {std::pair{ContainerStatus::kCreated, "created"},
                              std::pair{ContainerStatus::kRunning, "running"},
                              std::pair{ContainerStatus::kRestarting, "restarting"},
                              std::pair{ContainerStatus::kExited, "exited"}}) {
    CHECK(to_string(status) == word);
    CHECK(parse_container_status(word) == status);
    auto r = *load_record(f.store, kGood);
    r.status = status;
    REQUIRE(save_record(f.store, r));
    CHECK(fs::read_file(path)->find("\"status\": \"" + std::string(word) + "\"") !=
          std::string::npos);
    CHECK(load_record(f.store, kGood)->status == status);
  }
  CHECK_FALSE(parse_container_status("Running"));
  CHECK_FALSE(parse_container_status(""));
}

TEST_CASE("a record with an unknown status is unreadable, not guessed at", "[unit]") {
  Fixture f;
  std::string path = fs::join(container_dir(f.store, kGood), "state.json");
  std::string text = *fs::read_file(path);
  size_t at = text.find("\"created\"", text.find("\"status\""));
  REQUIRE(at != std::string::npos);
  text.replace(at, 9, "\"paused\"");
  REQUIRE(fs::write_file_atomic(path, text));
  auto r = load_record(f.store, kGood);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == ErrorKind::kCorrupt);
  CHECK(r.error().message() == "unknown status \"paused\"");
}

TEST_CASE("a record that says running without its monitor is observed as exited", "[unit]") {
  ContainerRecord r;
  CHECK(observed_status(r) == ContainerStatus::kCreated);
  r.status = ContainerStatus::kRunning;
  r.monitor_pid = 0;
  CHECK(observed_status(r) == ContainerStatus::kExited);
  r.monitor_pid = ::getpid();
  CHECK(observed_status(r) == ContainerStatus::kRunning);
  r.status = ContainerStatus::kExited;
  CHECK(observed_status(r) == ContainerStatus::kExited);
  r.status = ContainerStatus::kRestarting;
  CHECK(observed_status(r) == ContainerStatus::kRestarting);
  CHECK(is_active(r));
  CHECK_FALSE(is_running(r));
  r.monitor_pid = 0;
  CHECK(observed_status(r) == ContainerStatus::kExited);
}

TEST_CASE("the restart policy, count, start time and --init are kept in the record", "[unit]") {
  Fixture f;
  auto r = *load_record(f.store, kGood);
  CHECK(r.restart_policy == RestartPolicy{});
  CHECK(r.restart_count == 0);
  CHECK(r.started.empty());
  CHECK_FALSE(r.spec.init);
  r.restart_policy = {RestartMode::kOnFailure, 3};
  r.restart_count = 2;
  r.started = "2024-01-02T03:04:05Z";
  r.spec.init = true;
  REQUIRE(save_record(f.store, r));
  auto back = *load_record(f.store, kGood);
  CHECK(back.restart_policy == RestartPolicy{RestartMode::kOnFailure, 3});
  CHECK(back.restart_count == 2);
  CHECK(back.started == "2024-01-02T03:04:05Z");
  CHECK(back.spec.init);
}

TEST_CASE("a stop request is a marker the next start clears", "[unit]") {
  Fixture f;
  CHECK_FALSE(stop_requested(f.store, kGood));
  REQUIRE(request_stop(f.store, kGood));
  CHECK(stop_requested(f.store, kGood));
  REQUIRE(clear_stop_request(f.store, kGood));
  CHECK_FALSE(stop_requested(f.store, kGood));
  CHECK(clear_stop_request(f.store, kGood));
}

}  // namespace
}  // namespace imgbuild::containers
