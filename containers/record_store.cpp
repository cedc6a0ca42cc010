#include "containers/record_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

#include "base/dir_reader.h"
#include "base/fs.h"
#include "base/random_id.h"
#include "base/sys.h"
#include "containers/record_json.h"
#include "fs/mount.h"
#include "runtime/cgroup.h"

namespace imgbuild::containers {

using nlohmann::json;

std::string container_dir(const image::Store& store, const std::string& id) {
  return fs::join(store.containers_dir(), id);
}

std::string container_rootfs(const image::Store& store, const std::string& id) {
  return fs::join(container_dir(store, id), "rootfs");
}

namespace {
std::string stop_marker(const image::Store& store, const std::string& id) {
  return fs::join(container_dir(store, id), "stop-requested");
}
}  // namespace

Status save_record(const image::Store& store, const ContainerRecord& r) {
  std::string text = record_to_json(r).dump(2) + "\n";
  // Replaced by rename so readers never see half a record; not fsynced: a container's state
  // does not outlive a machine crash anyway (its processes and mount are gone).
  std::string path = fs::join(container_dir(store, r.id), "state.json");
  std::string tmp = path + ".tmp";
  {
    UniqueFd fd = TRY(sys::open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    TRY(sys::write_all(fd.get(), text, tmp));
  }
  return sys::rename_at(AT_FDCWD, tmp, AT_FDCWD, path);
}

Error UnreadableRecord::error(const image::Store& store) const {
  return cause.with_context("container " + id + ": unreadable record " +
                            fs::join(container_dir(store, id), "state.json"));
}

Result<ContainerRecord> load_record(const image::Store& store, const std::string& id) {
  std::string text = TRY(fs::read_file(fs::join(container_dir(store, id), "state.json")));
  ContainerRecord r = TRY(record_from_json(text));
  if (r.id != id) return fail(ErrorKind::kCorrupt, "records the id " + r.id);
  return r;
}

Result<ContainerList> list_records(const image::Store& store) {
  ContainerList out;
  for (const auto& id : TRY(fs::list_dir(store.containers_dir(), fs::MissingDir::kIsEmpty))) {
    if (id[0] == '.') continue;
    auto r = load_record(store, id);
    if (r) {
      out.records.push_back(std::move(*r));
    } else if (r.error().errno_value() != ENOENT) {
      out.unreadable.push_back({id, std::move(r).error()});
    }
  }
  std::sort(
      out.records.begin(), out.records.end(),
      [](const ContainerRecord& a, const ContainerRecord& b) { return a.created < b.created; });
  std::sort(out.unreadable.begin(), out.unreadable.end(),
            [](const UnreadableRecord& a, const UnreadableRecord& b) { return a.id < b.id; });
  return out;
}

Result<std::variant<ContainerRecord, UnreadableRecord>> find_any_record(
    const image::Store& store, const std::string& name_or_id) {
  auto all = TRY(list_records(store));
  for (auto& r : all.records) {
    if (r.name == name_or_id || r.id == name_or_id) return std::move(r);
  }
  for (auto& u : all.unreadable) {
    if (u.id == name_or_id) return std::move(u);
  }
  std::optional<std::variant<ContainerRecord, UnreadableRecord>> match;
  auto consider = [&](const std::string& id, auto&& candidate) -> Status {
    if (name_or_id.empty() || id.compare(0, name_or_id.size(), name_or_id) != 0) return {};
    if (match) {
      return fail(ErrorKind::kInvalidArgument,
                  "multiple containers match the prefix " + name_or_id);
    }
    match = std::move(candidate);
    return {};
  };
  for (auto& r : all.records) TRY(consider(r.id, r));
  for (auto& u : all.unreadable) TRY(consider(u.id, u));
  if (match) return std::move(*match);
  std::string message = "No such container: " + name_or_id;
  if (!all.unreadable.empty()) {
    message += " (" + std::to_string(all.unreadable.size()) +
               " unreadable container record(s) not searched, see imgbuild ps -a)";
  }
  return fail(ErrorKind::kNotFound, message);
}

Result<ContainerRecord> find_record(const image::Store& store, const std::string& name_or_id) {
  auto found = TRY(find_any_record(store, name_or_id));
  if (auto* u = std::get_if<UnreadableRecord>(&found)) return fail(u->error(store));
  return std::get<ContainerRecord>(std::move(found));
}

Status save_health(const image::Store& store, const std::string& id, const HealthState& state) {
  return fs::write_file_atomic(fs::join(container_dir(store, id), "health.json"),
                               to_json(state).dump() + "\n");
}

std::optional<HealthState> load_health(const image::Store& store, const std::string& id) {
  auto text = fs::read_file(fs::join(container_dir(store, id), "health.json"));
  if (!text) return std::nullopt;
  try {
    auto state = health_state_from_json(json::parse(*text));
    if (state) return std::move(*state);
  } catch (const json::exception&) {
  }
  return std::nullopt;
}

Status request_stop(const image::Store& store, const std::string& id) {
  TRY(sys::open(stop_marker(store, id), O_WRONLY | O_CREAT, 0644));
  return {};
}

bool stop_requested(const image::Store& store, const std::string& id) {
  return fs::exists(stop_marker(store, id));
}

Status clear_stop_request(const image::Store& store, const std::string& id) {
  if (::unlink(stop_marker(store, id).c_str()) < 0 && errno != ENOENT) {
    return fail_errno("unlink", stop_marker(store, id));
  }
  return {};
}

Result<std::string> new_container_id() { return random_hex(32); }

std::string new_container_name(const image::Store& store) {
  static const char* kAdjectives[] = {"brave", "calm", "eager", "fervent", "gentle", "happy",
                                      "jolly", "keen", "lucid", "nifty",   "quirky", "sharp"};
  static const char* kNames[] = {"babbage",  "curie",   "dijkstra", "euler",    "hopper", "knuth",
                                 "lovelace", "noether", "ritchie",  "thompson", "turing", "wirth"};
  auto all = list_records(store).value_or(ContainerList{}).records;
  for (int attempt = 0;; ++attempt) {
    auto id = new_container_id();
    std::string seed = id ? *id : std::to_string(::getpid() + attempt);
    unsigned a = static_cast<unsigned>(seed[0]) % 12, n = static_cast<unsigned>(seed[1]) % 12;
    std::string name = std::string(kAdjectives[a]) + "_" + kNames[n];
    if (attempt > 20) name += "_" + seed.substr(0, 4);
    bool taken = std::any_of(all.begin(), all.end(),
                             [&](const ContainerRecord& r) { return r.name == name; });
    if (!taken) return name;
  }
}

Result<std::string> claim_container_name(const image::Store& store, const std::string& requested) {
  if (requested.empty()) return new_container_name(store);
  ContainerList all = TRY(list_records(store));
  for (const auto& r : all.records) {
    if (r.name == requested) {
      return fail(ErrorKind::kAlreadyExists, "Conflict. The container name \"/" + requested +
                                                 "\" is already in use by container \"" + r.id +
                                                 "\". You have to remove (or rename) that "
                                                 "container to be able to reuse that name.");
    }
  }
  return requested;
}

Status remove_container_files(const image::Store& store, const std::string& id) {
  std::string rootfs = container_rootfs(store, id);
  auto unmounted = fs::force_unmount(rootfs);
  if (!unmounted && unmounted.error().kind() != ErrorKind::kNotFound) return unmounted;
  runtime::Cgroup::remove_stale("imgbuild-" + id);
  return fs::remove_tree(container_dir(store, id));
}

}  // namespace imgbuild::containers
