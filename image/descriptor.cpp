#include "image/descriptor.h"

#include "image/json_util.h"
#include "image/media_types.h"

namespace imgbuild::image {

nlohmann::json Descriptor::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  j["mediaType"] = media_type;
  j["digest"] = digest.str();
  j["size"] = size;
  if (!annotations.empty()) j["annotations"] = annotations;
  if (platform) j["platform"] = platform->to_json();
  if (!urls.empty()) j["urls"] = urls;
  if (!artifact_type.empty()) j["artifactType"] = artifact_type;
  return j;
}

Result<Descriptor> Descriptor::from_json(const nlohmann::json& j) {
  constexpr std::string_view what = "descriptor";
  if (!j.is_object()) return json_util::corrupt(what, "must be an object");
  Descriptor d;
  TRY(json_util::get_string(j, "mediaType", d.media_type, what));
  d.media_type = media_types::to_oci(d.media_type);
  std::string digest;
  TRY(json_util::get_string(j, "digest", digest, what));
  if (digest.empty()) return json_util::corrupt(what, "missing \"digest\"");
  auto parsed = Digest::parse(digest);
  if (!parsed) return json_util::corrupt(what, parsed.error().message());
  d.digest = *parsed;
  if (!json_util::has(j, "size")) return json_util::corrupt(what, "missing \"size\"");
  TRY(json_util::get_int64(j, "size", d.size, what));
  if (d.size < 0) return json_util::corrupt(what, "negative \"size\"");
  TRY(json_util::get_string_map(j, "annotations", d.annotations, what));
  if (json_util::has(j, "platform")) d.platform = TRY(Platform::from_json(j["platform"]));
  TRY(json_util::get_string_list(j, "urls", d.urls, what));
  TRY(json_util::get_string(j, "artifactType", d.artifact_type, what));
  return d;
}

std::string Descriptor::annotation(std::string_view key) const {
  auto it = annotations.find(std::string(key));
  return it == annotations.end() ? std::string() : it->second;
}

}  // namespace imgbuild::image
