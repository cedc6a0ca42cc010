#include "containers/extras.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "base/fs.h"
#include "base/scope_guard.h"
#include "containers/launch.h"
#include "containers/record_store.h"
#include "containers/volumes.h"

namespace imgbuild::containers {
namespace {

std::string clean_target(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// A volume at /etc hides the root's /etc, where the runtime made the stubs it binds hosts,
// resolv.conf and hostname onto: the volume needs them too (Docker's runtime creates them there
// as well). Created with O_EXCL | O_NOFOLLOW, so a symlink the image put there is never followed.
Status add_etc_stubs(const VolumeInfo& volume, const std::string& target) {
  if (clean_target(target) != "/etc") return {};
  for (const char* name : {"hosts", "resolv.conf", "hostname"}) {
    std::string path = fs::join(volume.mountpoint, name);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) return fail_errno("open", path);
    if (fd >= 0) ::close(fd);
  }
  return {};
}

}  // namespace

Status add_container_extras(const image::Store& store, ContainerRecord& record,
                            const ContainerExtras& extras, fs::Mount* mounted) {
  auto digest = TRY(image::Digest::parse(record.manifest_digest));
  image::Image img = TRY(store.load_image(digest));
  record.labels = img.config.config.labels;
  for (const auto& [k, v] : extras.labels) record.labels[k] = v;

  std::vector<ContainerExtras::Volume> volumes = extras.volumes;
  std::set<std::string> covered;
  for (const auto& m : record.spec.mounts) covered.insert(clean_target(m.target));
  for (const auto& m : record.spec.tmpfs_mounts) covered.insert(clean_target(m.target));
  for (const auto& v : volumes) covered.insert(clean_target(v.target));
  for (const auto& path : img.config.config.volumes) {
    if (!covered.contains(clean_target(path))) volumes.push_back({"", clean_target(path)});
  }
  if (volumes.empty()) return save_record(store, record);

  std::unique_ptr<fs::Mount> own_mount;
  if (mounted == nullptr) own_mount = TRY(mount_container(store, record));
  std::vector<std::string> created_anonymous;
  ScopeGuard drop_anonymous([&] {
    for (const auto& name : created_anonymous) (void)remove_volume(store, name);
  });
  std::string rootfs = container_rootfs(store, record.id);
  for (const auto& v : volumes) {
    auto kind = v.name.empty() ? VolumeKind::kAnonymous : VolumeKind::kNamed;
    auto info = TRY(create_volume(store, v.name, kind));
    if (v.name.empty()) created_anonymous.push_back(info.name);
    if (!v.no_copy) TRY(populate_volume(store, info, rootfs, v.target));
    TRY(add_etc_stubs(info, v.target));
    record.spec.mounts.push_back({info.mountpoint, v.target, v.read_only});
    record.volumes.push_back(info.name);
  }
  if (own_mount) TRY(own_mount->unmount());
  TRY(save_record(store, record));
  drop_anonymous.dismiss();
  return {};
}

Status remove_anonymous_volumes(const image::Store& store, const ContainerRecord& record) {
  ContainerList others = TRY(list_records(store));
  for (const auto& name : record.volumes) {
    auto info = load_volume(store, name);
    if (!info || info->kind != VolumeKind::kAnonymous) continue;
    bool shared = std::any_of(others.records.begin(), others.records.end(), [&](const auto& r) {
      return r.id != record.id &&
             std::find(r.volumes.begin(), r.volumes.end(), name) != r.volumes.end();
    });
    if (!shared) TRY(remove_volume(store, name));
  }
  return {};
}

}  // namespace imgbuild::containers
