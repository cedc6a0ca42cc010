#include "containers/volumes.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "base/dir_reader.h"
#include "base/fs.h"
#include "base/random_id.h"
#include "base/sys.h"
#include "containers/root_copy.h"
#include "image/blob_writer.h"
#include "image/image_config.h"

namespace imgbuild::containers {
namespace {

using nlohmann::json;

constexpr const char* kAnonymousLabel = "com.docker.volume.anonymous";

bool valid_name_char(char c, bool first) {
  bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  return alnum || (!first && (c == '_' || c == '.' || c == '-'));
}

std::string volume_path(const image::Store& store, const std::string& name) {
  return fs::join(volumes_dir(store), name);
}

VolumeInfo info_from(const image::Store& store, const std::string& name, const json& j) {
  VolumeInfo v;
  v.name = name;
  v.created = j.value("created", "");
  v.mountpoint = fs::join(volume_path(store, name), "_data");
  v.labels = j.value("labels", std::map<std::string, std::string>{});
  v.kind = v.labels.contains(kAnonymousLabel) ? VolumeKind::kAnonymous : VolumeKind::kNamed;
  return v;
}

}  // namespace

Status check_volume_name(std::string_view name) {
  bool ok = name.size() >= 2;
  for (size_t i = 0; ok && i < name.size(); ++i) ok = valid_name_char(name[i], i == 0);
  if (ok) return {};
  std::string n(name);
  return fail(ErrorKind::kInvalidArgument,
              "create " + n + ": \"" + n +
                  "\" includes invalid characters for a local volume name, only "
                  "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host "
                  "directory, use absolute path");
}

std::string volumes_dir(const image::Store& store) { return fs::join(store.root(), "volumes"); }

Result<VolumeInfo> load_volume(const image::Store& store, const std::string& name) {
  if (!check_volume_name(name) || !fs::is_dir(fs::join(volume_path(store, name), "_data"))) {
    return fail(ErrorKind::kNotFound, "get " + name + ": no such volume");
  }
  auto text = fs::read_file(fs::join(volume_path(store, name), "volume.json"));
  json j = json::object();
  if (text) {
    try {
      j = json::parse(*text);
    } catch (const json::exception&) {
      j = json::object();  // listed as a named volume without labels
    }
  }
  return info_from(store, name, j);
}

Result<VolumeInfo> create_volume(const image::Store& store, const std::string& name,
                                 VolumeKind kind,
                                 const std::map<std::string, std::string>& labels) {
  std::string n = name.empty() ? TRY(random_hex(32)) : name;
  TRY(check_volume_name(n));
  if (auto existing = load_volume(store, n)) return existing;
  TRY(fs::make_dirs(volumes_dir(store), 0700));
  // Made complete under tmp/, then renamed into place: a concurrent create of the same name
  // finds either nothing or the whole volume, and the first rename wins.
  fs::TempDir staged = TRY(store.make_staging_dir("volume"));
  TRY(sys::mkdir_at(AT_FDCWD, fs::join(staged.path(), "_data"), 0755));
  json j = {{"name", n}, {"created", image::rfc3339_now()}, {"labels", labels}};
  if (kind == VolumeKind::kAnonymous) j["labels"][kAnonymousLabel] = "";
  TRY(fs::write_file_atomic(fs::join(staged.path(), "volume.json"), j.dump(2) + "\n"));
  if (::chmod(staged.path().c_str(), 0755) < 0) return fail_errno("chmod", staged.path());
  if (auto st = sys::rename_at(AT_FDCWD, staged.path(), AT_FDCWD, volume_path(store, n)); st) {
    staged.release();
  } else if (!fs::is_dir(volume_path(store, n))) {
    return std::unexpected(st.error().with_context("creating volume " + n));
  }
  return load_volume(store, n);
}

Result<std::vector<VolumeInfo>> list_volumes(const image::Store& store) {
  auto names = TRY(fs::list_dir(volumes_dir(store), fs::MissingDir::kIsEmpty));
  std::sort(names.begin(), names.end());
  std::vector<VolumeInfo> out;
  for (const auto& n : names) {
    if (auto v = load_volume(store, n)) out.push_back(std::move(*v));
  }
  return out;
}

Status remove_volume(const image::Store& store, const std::string& name) {
  TRY(load_volume(store, name));
  // Out of volumes/ first, so no reader sees a half-deleted volume.
  fs::TempDir doomed = TRY(store.make_staging_dir("volume-rm"));
  std::string target = fs::join(doomed.path(), "v");
  TRY(sys::rename_at(AT_FDCWD, volume_path(store, name), AT_FDCWD, target));
  return fs::remove_tree(doomed.release());
}

Result<bool> populate_volume(const image::Store& store, const VolumeInfo& volume,
                             const std::string& root, const std::string& target) {
  auto entries = TRY(fs::list_dir(volume.mountpoint, fs::MissingDir::kIsError));
  if (!entries.empty()) return false;
  auto staged = TRY(image::StagedFile::create(store.tmp_dir(), "volume-copy"));
  auto tarred = tar_from_root(root, target, ".", FollowLink::kNo, staged.fd());
  if (!tarred) {
    if (tarred.error().kind() == ErrorKind::kNotFound) return false;  // nothing to copy
    return std::unexpected(
        tarred.error().with_context("copying " + target + " into volume " + volume.name));
  }
  if (::lseek(staged.fd(), 0, SEEK_SET) < 0) return fail_errno("lseek", staged.path());
  TRY_CTX(untar_into_root(volume.mountpoint, "/", staged.fd()),
          "copying " + target + " into volume " + volume.name);
  return true;
}

nlohmann::json inspect_json(const VolumeInfo& v) {
  return {{"CreatedAt", v.created}, {"Driver", "local"},
          {"Labels", v.labels},     {"Mountpoint", v.mountpoint},
          {"Name", v.name},         {"Options", nlohmann::json::object()},
          {"Scope", "local"}};
}

}  // namespace imgbuild::containers
