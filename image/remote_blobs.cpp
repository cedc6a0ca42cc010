#include "image/remote_blobs.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "image/store.h"

namespace imgbuild::image {
namespace {

constexpr size_t kMaxSources = 8;

std::string record_path(const Store& store, const Digest& digest) {
  return fs::join(remote_blobs_dir(store), std::string(digest.hex()) + ".json");
}

}  // namespace

std::string remote_blobs_dir(const Store& store) { return fs::join(store.root(), "remote/sha256"); }

Status forget_remote_blob(const Store& store, const Digest& digest) {
  std::string path = record_path(store, digest);
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) return fail_errno("unlink", path);
  return {};
}

std::optional<RemoteBlob> find_remote_blob(const Store& store, const Digest& digest) {
  auto text = fs::read_file(record_path(store, digest));
  if (!text) return std::nullopt;
  try {
    auto j = nlohmann::json::parse(*text);
    auto blob = Descriptor::from_json(j.at("blob"));
    auto diff_id = Digest::parse(j.at("diff_id").get<std::string>());
    if (!blob || !diff_id || blob->digest != digest) return std::nullopt;
    RemoteBlob r{*blob, *diff_id, {}};
    for (const auto& s : j.at("sources")) {
      r.sources.push_back(
          {s.at("registry").get<std::string>(), s.at("repository").get<std::string>()});
    }
    if (r.sources.empty()) return std::nullopt;
    return r;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

Status record_remote_blob(const Store& store, const Descriptor& blob, const Digest& diff_id,
                          const BlobSource& source) {
  std::vector<BlobSource> sources = {source};
  if (auto old = find_remote_blob(store, blob.digest); old && old->diff_id == diff_id) {
    for (const auto& s : old->sources) {
      if (s != source && sources.size() < kMaxSources) sources.push_back(s);
    }
  }
  nlohmann::json j;
  j["blob"] = blob.to_json();
  j["diff_id"] = diff_id.str();
  j["sources"] = nlohmann::json::array();
  for (const auto& s : sources) {
    j["sources"].push_back({{"registry", s.registry}, {"repository", s.repository}});
  }
  TRY(fs::make_dirs(remote_blobs_dir(store)));
  return fs::write_file_atomic(record_path(store, blob.digest), j.dump(), 0644,
                               fs::Durability::kHint);
}

}  // namespace imgbuild::image
