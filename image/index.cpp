#include "image/index.h"

#include "image/json_util.h"
#include "image/media_types.h"

namespace imgbuild::image {
namespace {
constexpr std::string_view kWhat = "index";
}

Result<Index> Index::parse(std::string_view bytes, std::string_view declared_type) {
  nlohmann::json j = TRY(json_util::parse(bytes, kWhat));
  return from_json(j, declared_type);
}

Result<Index> Index::from_json(const nlohmann::json& j, std::string_view declared_type) {
  if (!j.is_object()) return json_util::corrupt(kWhat, "expected a JSON object");
  Index idx;
  TRY(json_util::get_int(j, "schemaVersion", idx.schema_version, kWhat));
  if (idx.schema_version != 2) {
    return json_util::corrupt(kWhat,
                              "unsupported schemaVersion " + std::to_string(idx.schema_version));
  }
  TRY(json_util::get_string(j, "mediaType", idx.media_type, kWhat));
  if (idx.media_type.empty()) {
    idx.media_type =
        declared_type.empty() ? std::string(media_types::kOciIndex) : std::string(declared_type);
  }
  if (!media_types::is_index(idx.media_type)) {
    return json_util::corrupt(kWhat, "unexpected mediaType \"" + idx.media_type + "\"");
  }
  TRY(json_util::get_string(j, "artifactType", idx.artifact_type, kWhat));
  if (!json_util::has(j, "manifests")) return json_util::corrupt(kWhat, "missing \"manifests\"");
  const auto& list = j.at("manifests");
  if (!list.is_array()) return json_util::corrupt(kWhat, "\"manifests\" must be an array");
  for (size_t i = 0; i < list.size(); ++i) {
    idx.manifests.push_back(
        TRY_CTX(Descriptor::from_json(list[i]), "index: manifests[" + std::to_string(i) + "]"));
  }
  TRY(json_util::get_string_map(j, "annotations", idx.annotations, kWhat));
  return idx;
}

nlohmann::json Index::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  j["schemaVersion"] = schema_version;
  j["mediaType"] = media_type.empty() ? std::string(media_types::kOciIndex) : media_type;
  if (!artifact_type.empty()) j["artifactType"] = artifact_type;
  nlohmann::json list = nlohmann::json::array();
  for (const auto& d : manifests) list.push_back(d.to_json());
  j["manifests"] = std::move(list);
  if (!annotations.empty()) j["annotations"] = annotations;
  return j;
}

std::string Index::serialize() const { return json_util::dump(to_json()); }

Result<Descriptor> Index::select(const Platform& wanted) const {
  std::string have;
  for (const auto& d : manifests) {
    if (!d.platform) continue;
    if (!media_types::is_manifest(d.media_type)) continue;
    if (d.platform->matches(wanted)) return d;
    if (!have.empty()) have += ", ";
    have += d.platform->str();
  }
  return fail(ErrorKind::kNotFound,
              "no manifest for platform " + wanted.str() +
                  (have.empty() ? " (index lists no platforms)" : " (index has " + have + ")"));
}

}  // namespace imgbuild::image
