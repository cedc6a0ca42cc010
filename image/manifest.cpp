#include "image/manifest.h"

#include "image/json_util.h"
#include "image/media_types.h"

namespace imgbuild::image {
namespace {
constexpr std::string_view kWhat = "manifest";
}

Result<Manifest> Manifest::parse(std::string_view bytes, std::string_view declared_type) {
  nlohmann::json j = TRY(json_util::parse(bytes, kWhat));
  return from_json(j, declared_type);
}

Result<Manifest> Manifest::from_json(const nlohmann::json& j, std::string_view declared_type) {
  if (!j.is_object()) return json_util::corrupt(kWhat, "expected a JSON object");
  Manifest m;
  TRY(json_util::get_int(j, "schemaVersion", m.schema_version, kWhat));
  if (m.schema_version == 1) {
    return fail(ErrorKind::kUnsupported,
                "manifest: Docker schema 1 manifests are not supported (re-push the image with a "
                "current client)");
  }
  if (m.schema_version != 2) {
    return json_util::corrupt(kWhat,
                              "unsupported schemaVersion " + std::to_string(m.schema_version));
  }
  TRY(json_util::get_string(j, "mediaType", m.media_type, kWhat));
  if (m.media_type.empty()) {
    m.media_type =
        declared_type.empty() ? std::string(media_types::kOciManifest) : std::string(declared_type);
  }
  if (media_types::is_index(m.media_type) || json_util::has(j, "manifests")) {
    return fail(ErrorKind::kUnsupported,
                "manifest: is an image index (" + m.media_type + "), not an image manifest");
  }
  if (!media_types::is_manifest(m.media_type)) {
    return json_util::corrupt(kWhat, "unexpected mediaType \"" + m.media_type + "\"");
  }
  TRY(json_util::get_string(j, "artifactType", m.artifact_type, kWhat));
  if (!json_util::has(j, "config")) return json_util::corrupt(kWhat, "missing \"config\"");
  m.config = TRY_CTX(Descriptor::from_json(j.at("config")), "manifest: config");
  if (json_util::has(j, "layers")) {
    const auto& layers = j.at("layers");
    if (!layers.is_array()) return json_util::corrupt(kWhat, "\"layers\" must be an array");
    for (size_t i = 0; i < layers.size(); ++i) {
      m.layers.push_back(
          TRY_CTX(Descriptor::from_json(layers[i]), "manifest: layers[" + std::to_string(i) + "]"));
    }
  }
  TRY(json_util::get_string_map(j, "annotations", m.annotations, kWhat));
  if (json_util::has(j, "subject")) {
    m.subject = TRY_CTX(Descriptor::from_json(j.at("subject")), "manifest: subject");
  }
  return m;
}

nlohmann::json Manifest::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  j["schemaVersion"] = schema_version;
  j["mediaType"] = media_type.empty() ? std::string(media_types::kOciManifest) : media_type;
  if (!artifact_type.empty()) j["artifactType"] = artifact_type;
  j["config"] = config.to_json();
  nlohmann::json layers_json = nlohmann::json::array();
  for (const auto& l : layers) layers_json.push_back(l.to_json());
  j["layers"] = std::move(layers_json);
  if (!annotations.empty()) j["annotations"] = annotations;
  if (subject) j["subject"] = subject->to_json();
  return j;
}

std::string Manifest::serialize() const { return json_util::dump(to_json()); }

int64_t total_layer_size(const Manifest& manifest) {
  int64_t total = 0;
  for (const auto& l : manifest.layers) total += l.size;
  return total;
}

}  // namespace imgbuild::image
