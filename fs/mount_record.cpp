#include "fs/mount_record.h"

#include <dirent.h>

#include <algorithm>
#include <nlohmann/json.hpp>

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

Result<std::vector<MountRecord>> list_mount_records(const image::Store& store) {
  std::vector<MountRecord> out;
  DIR* d = ::opendir(store.mounts_dir().c_str());
  if (!d) return out;
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.ends_with(".json")) names.push_back(n);
  }
  ::closedir(d);
  for (const std::string& n : names) {
    auto r = parse_record(join(store.mounts_dir(), n));
    if (r) out.push_back(std::move(*r));
  }
  std::sort(out.begin(), out.end(),
            [](const MountRecord& a, const MountRecord& b) { return a.mountpoint < b.mountpoint; });
  return out;
}

Status remove_mount_record(const image::Store& store, const std::string& mountpoint) {
  std::string path = mount_record_path(store, mountpoint);
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) return fail_errno("unlink", path);
  return {};
}

}  // namespace imgbuild::fs
