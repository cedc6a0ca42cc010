#include "registry-client/blob_sources.h"

#include <sys/file.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/log.h"
#include "base/sys.h"

namespace imgbuild::registry {
namespace {

std::string file_name_for(std::string registry) {
  for (char& c : registry) {
    if (c == ':' || c == '/' || c == '[' || c == ']') c = '_';
  }
  return registry + ".json";
}

nlohmann::json load(const std::string& path) {
  auto text = fs::read_file(path);
  if (!text) return nlohmann::json::object();
  try {
    auto j = nlohmann::json::parse(*text);
    if (j.is_object()) return j;
  } catch (const nlohmann::json::exception&) {
  }
  // A damaged hint file only costs uploads; start over rather than fail the pull or push.
  log::warn(path + ": ignoring unreadable blob source records");
  return nlohmann::json::object();
}

}  // namespace

BlobSources::BlobSources(std::string store_root, std::string registry)
    : dir_(fs::join(store_root, "registry")), path_(fs::join(dir_, file_name_for(registry))) {}

std::vector<std::string> BlobSources::repositories_with(const image::Digest& digest,
                                                        const std::string& except) const {
  std::vector<std::string> out;
  nlohmann::json j = load(path_);
  auto it = j.find(digest.str());
  if (it == j.end() || !it->is_array()) return out;
  for (auto r = it->rbegin(); r != it->rend(); ++r) {
    if (r->is_string() && r->get<std::string>() != except) out.push_back(r->get<std::string>());
  }
  return out;
}

Status BlobSources::record(const std::string& repository,
                           const std::vector<image::Digest>& digests) const {
  TRY(fs::make_dirs(dir_));
  UniqueFd lock = TRY(sys::open(path_ + ".lock", O_RDWR | O_CREAT, 0644));
  TRY(sys::flock(lock.get(), LOCK_EX, path_ + ".lock"));
  nlohmann::json j = load(path_);
  for (const auto& d : digests) {
    auto& list = j[d.str()];
    if (!list.is_array()) list = nlohmann::json::array();
    auto found = std::find(list.begin(), list.end(), repository);
    if (found != list.end()) list.erase(found);
    list.push_back(repository);
    while (list.size() > 8) list.erase(list.begin());
  }
  return fs::write_file_atomic(path_, j.dump() + "\n", 0644, fs::Durability::kHint);  // a hint
}

}  // namespace imgbuild::registry
