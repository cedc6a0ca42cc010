#include "builder/build_cache.h"

#include <map>

#include "base/fs.h"
#include "base/sha256.h"
#include "image/remote_blobs.h"

namespace imgbuild::builder {

std::string KeyInputs::key() const {
  Sha256 h;
  auto field = [&h](std::string_view tag, std::string_view value) {
    h.update(tag);
    h.update(std::to_string(value.size()));
    h.update(":");
    h.update(value);
  };
  field("parent", parent);
  field("instruction", instruction);
  for (const auto& [k, v] : env) {
    field("env", k);
    field("=", v);
  }
  for (const auto& f : files) {
    field("file", f.path);
    field("digest", f.digest);
  }
  field("extra", extra);
  return h.finish_hex();
}

nlohmann::json KeyInputs::to_json() const {
  nlohmann::json j;
  j["parent"] = parent;
  j["instruction"] = instruction;
  j["env"] = nlohmann::json::array();
  for (const auto& [k, v] : env) j["env"].push_back({k, v});
  j["files"] = nlohmann::json::array();
  for (const auto& f : files) j["files"].push_back({f.path, f.digest});
  j["extra"] = extra;
  return j;
}

std::optional<KeyInputs> KeyInputs::from_json(const nlohmann::json& j) {
  try {
    KeyInputs in;
    in.parent = j.at("parent").get<std::string>();
    in.instruction = j.at("instruction").get<std::string>();
    for (const auto& e : j.at("env"))
      in.env.emplace_back(e.at(0).get<std::string>(), e.at(1).get<std::string>());
    for (const auto& f : j.at("files")) {
      in.files.push_back(EntryDigest{f.at(0).get<std::string>(), f.at(1).get<std::string>()});
    }
    in.extra = j.at("extra").get<std::string>();
    return in;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

std::string explain_miss(const KeyInputs& now, const std::optional<KeyInputs>& before) {
  if (!before) return "no earlier build of this step";
  if (before->instruction != now.instruction) {
    return "instruction changed (was: " + before->instruction + ")";
  }
  std::map<std::string, std::string> old_env(before->env.begin(), before->env.end());
  std::map<std::string, std::string> new_env(now.env.begin(), now.env.end());
  for (const auto& [k, v] : new_env) {
    auto it = old_env.find(k);
    if (it == old_env.end()) return "arg/env " + k + " is new (" + k + "=" + v + ")";
    if (it->second != v) return "arg/env " + k + " changed (" + it->second + " -> " + v + ")";
  }
  for (const auto& [k, v] : old_env) {
    if (!new_env.contains(k)) return "arg/env " + k + " was removed";
  }
  std::map<std::string, std::string> old_files;
  for (const auto& f : before->files) old_files[f.path] = f.digest;
  std::vector<std::string> changed;
  std::map<std::string, std::string> new_files;
  for (const auto& f : now.files) {
    new_files[f.path] = f.digest;
    auto it = old_files.find(f.path);
    if (it == old_files.end())
      changed.push_back("file " + f.path + " added");
    else if (it->second != f.digest)
      changed.push_back("file " + f.path + " changed");
  }
  for (const auto& f : before->files) {
    if (!new_files.contains(f.path)) changed.push_back("file " + f.path + " removed");
  }
  if (!changed.empty()) {
    std::string out;
    for (size_t i = 0; i < changed.size() && i < 3; ++i) out += (i ? ", " : "") + changed[i];
    if (changed.size() > 3) out += " and " + std::to_string(changed.size() - 3) + " more";
    return out;
  }
  if (before->extra != now.extra) return "source stage or image changed";
  if (before->parent != now.parent) return "previous step changed";
  return "cache record missing (pruned?)";
}

std::optional<CacheRecord> BuildCache::lookup(const std::string& key) const {
  auto text = fs::read_file(fs::join(store_.cache_records_dir(), key + ".json"));
  if (!text) return std::nullopt;
  try {
    auto j = nlohmann::json::parse(*text);
    CacheRecord r;
    r.key = j.at("key").get<std::string>();
    if (r.key != key) return std::nullopt;
    r.empty_layer = j.value("empty_layer", false);
    r.created = j.value("created", std::string());
    if (!r.empty_layer) {
      auto diff = image::Digest::parse(j.at("layers").at(0).get<std::string>());
      auto blob = image::Digest::parse(j.at("blobs").at(0).get<std::string>());
      if (!diff || !blob) return std::nullopt;
      r.diff_id = *diff;
      r.blob.digest = *blob;
      r.blob.media_type = j.at("media_type").get<std::string>();
      r.blob.size = j.at("size").get<int64_t>();
      // A record imported from a registry cache may name a layer left on the registry
      // (image/remote_blobs.h): a hit, fetched only when a later step or the image needs it.
      bool local = store_.has_blob(r.blob.digest) && store_.has_layer(r.diff_id);
      if (!local && !image::find_remote_blob(store_, r.blob.digest)) return std::nullopt;
    }
    r.source = j.value("source", std::string());
    return r;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

Status BuildCache::save(const CacheRecord& record) const {
  nlohmann::json j;
  j["key"] = record.key;
  j["manifests"] = nlohmann::json::array();
  j["blobs"] = nlohmann::json::array();
  j["layers"] = nlohmann::json::array();
  j["empty_layer"] = record.empty_layer;
  j["created"] = record.created;
  if (!record.source.empty()) j["source"] = record.source;
  if (!record.empty_layer) {
    j["blobs"].push_back(record.blob.digest.str());
    j["layers"].push_back(record.diff_id.str());
    j["media_type"] = record.blob.media_type;
    j["size"] = record.blob.size;
  }
  TRY(fs::make_dirs(store_.cache_records_dir()));
  // A lost record is a miss (the step runs again), a torn one cannot happen (rename): no fsync.
  return fs::write_file_atomic(fs::join(store_.cache_records_dir(), record.key + ".json"), j.dump(),
                               0644, fs::Durability::kHint);
}

std::string BuildCache::steps_dir() const { return fs::join(store_.root(), "cache/steps"); }

std::optional<KeyInputs> BuildCache::previous_inputs(const std::string& step_id) const {
  auto text = fs::read_file(fs::join(steps_dir(), step_id + ".json"));
  if (!text) return std::nullopt;
  try {
    return KeyInputs::from_json(nlohmann::json::parse(*text));
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

Status BuildCache::save_inputs(const std::string& step_id, const KeyInputs& inputs) const {
  TRY(fs::make_dirs(steps_dir()));
  return fs::write_file_atomic(fs::join(steps_dir(), step_id + ".json"), inputs.to_json().dump(),
                               0644, fs::Durability::kHint);
}

std::string BuildCache::context_index_path(const std::string& context_dir) const {
  return fs::join(store_.root(), "cache/context/" + Sha256::hex_of(context_dir) + ".index");
}

}  // namespace imgbuild::builder
