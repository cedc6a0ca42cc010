#include "fs/mount_record.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/dir_reader.h"
#include "base/fs.h"
#include "base/sha256.h"

namespace imgbuild::fs {

namespace {

std::string record_id(const std::string& mountpoint) {
  return Sha256::hex_of(mountpoint).substr(0, 24);
}

Result<MountRecord> parse_record(const std::string& path) {
  std::string text = TRY(read_file(path));
  try {
    auto j = nlohmann::json::parse(text);
    MountRecord r;
    r.mountpoint = j.at("mountpoint").get<std::string>();
    r.image = j.at("image").get<std::string>();
    auto manifests = j.at("manifests");
    if (!manifests.is_array() || manifests.size() != 1) throw std::runtime_error("manifests");
    auto digest = image::Digest::parse(manifests[0].get<std::string>());
    if (!digest) return fail(digest.error().with_context(path));
    r.manifest = *digest;
    r.pid = j.at("pid").get<pid_t>();
    r.upper = j.at("upper").get<std::string>();
    r.owned_upper = j.at("owned_upper").get<bool>();
    return r;
  } catch (const std::exception& e) {
    return fail(ErrorKind::kCorrupt, "mount record " + path + ": " + e.what());
  }
}

}  // namespace

std::string mount_record_path(const image::Store& store, const std::string& mountpoint) {
  return join(store.mounts_dir(), record_id(mountpoint) + ".json");
}

std::string mount_log_path(const image::Store& store, const std::string& mountpoint) {
  return join(store.mounts_dir(), record_id(mountpoint) + ".log");
}

std::string owned_upper_path(const image::Store& store, const std::string& mountpoint) {
  return join(store.mounts_dir(), record_id(mountpoint) + ".upper");
}

Status write_mount_record(const image::Store& store, const MountRecord& record) {
  TRY(make_dirs(store.mounts_dir()));
  nlohmann::json j = {{"manifests", nlohmann::json::array({record.manifest.str()})},
                      {"mountpoint", record.mountpoint},
                      {"image", record.image},
                      {"pid", record.pid},
                      {"upper", record.upper},
                      {"owned_upper", record.owned_upper}};
  return write_file_atomic(mount_record_path(store, record.mountpoint), j.dump(2) + "\n");
}

Result<MountRecord> read_mount_record(const image::Store& store, const std::string& mountpoint) {
  std::string path = mount_record_path(store, mountpoint);
  if (!exists(path)) return fail(ErrorKind::kNotFound, "no imgbuild mount at " + mountpoint);
  return parse_record(path);
}

Result<MountRecordList> list_mount_records(const image::Store& store) {
  MountRecordList out;
  for (const std::string& n : TRY(list_dir(store.mounts_dir(), MissingDir::kIsEmpty))) {
    if (!n.ends_with(".json")) continue;
    std::string path = join(store.mounts_dir(), n);
    auto r = parse_record(path);
    if (r) {
      out.records.push_back(std::move(*r));
    } else if (r.error().errno_value() != ENOENT) {  // ENOENT: removed meanwhile
      out.unreadable.push_back({path, std::move(r).error()});
    }
  }
  std::sort(out.records.begin(), out.records.end(),
            [](const MountRecord& a, const MountRecord& b) { return a.mountpoint < b.mountpoint; });
  std::sort(out.unreadable.begin(), out.unreadable.end(),
            [](const UnreadableMountRecord& a, const UnreadableMountRecord& b) {
              return a.path < b.path;
            });
  return out;
}

Status remove_mount_record(const image::Store& store, const std::string& mountpoint) {
  std::string log = mount_log_path(store, mountpoint);
  if (::unlink(log.c_str()) < 0 && errno != ENOENT) return fail_errno("unlink", log);
  std::string path = mount_record_path(store, mountpoint);
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) return fail_errno("unlink", path);
  return {};
}

}  // namespace imgbuild::fs
