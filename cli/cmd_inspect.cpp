// imgbuild inspect IMAGE...: prints a JSON array describing each image (Docker's fields plus the
// manifest), like `docker image inspect`. Images that cannot be found are reported on stderr
// after the array and make the exit status 1.
#include <cstdio>

#include "cli/command.h"
#include "cli/image_common.h"

namespace imgbuild::cli {
namespace {

struct InspectArgs {
  std::vector<std::string> names;
};

nlohmann::json describe(const image::Image& img) {
  nlohmann::json tags = nlohmann::json::array();
  nlohmann::json digests = nlohmann::json::array();
  for (const auto& ref : img.tags) {
    tags.push_back(ref.familiar());
    std::string d = ref.familiar_name() + "@" +
                    (img.index_digest ? *img.index_digest : img.manifest_digest).str();
    if (std::find(digests.begin(), digests.end(), d) == digests.end()) digests.push_back(d);
  }
  nlohmann::json config = img.config.to_json();
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& d : img.config.diff_ids) layers.push_back(d.str());
  nlohmann::json j = nlohmann::json::object();
  j["Id"] = img.config_digest.str();
  j["RepoTags"] = tags;
  j["RepoDigests"] = digests;
  j["Created"] = img.config.created;
  j["Author"] = img.config.author;
  j["Architecture"] = img.config.architecture;
  if (!img.config.variant.empty()) j["Variant"] = img.config.variant;
  j["Os"] = img.config.os;
  j["Config"] = config.contains("config") ? config["config"] : nlohmann::json::object();
  j["RootFS"] = nlohmann::json{{"Type", img.config.rootfs_type}, {"Layers", layers}};
  j["Size"] = image::total_layer_size(img.manifest);
  j["History"] = config.contains("history") ? config["history"] : nlohmann::json::array();
  j["ManifestDigest"] = img.manifest_digest.str();
  if (img.index_digest) j["IndexDigest"] = img.index_digest->str();
  j["ManifestMediaType"] = img.manifest_media_type;
  j["Manifest"] = img.manifest.to_json();
  return j;
}

int run_inspect(const InspectArgs& args, const GlobalOptions& globals) {
  auto store = open_store(globals);
  if (!store) return report_error(store.error());
  nlohmann::json out = nlohmann::json::array();
  std::vector<Error> errors;
  for (const auto& name : args.names) {
    auto img = store->resolve(name);
    if (!img) {
      errors.push_back(img.error());
      continue;
    }
    out.push_back(describe(*img));
  }
  std::printf("%s\n", out.dump(4, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  for (const auto& e : errors) report_error(e);
  return errors.empty() ? 0 : 1;
}

}  // namespace

IMGBUILD_COMMAND(
    inspect,
    Command{
        .name = "inspect",
        .description = "Show the configuration and manifest of images",
        .setup = [](CLI::App& sub, const GlobalOptions& globals) -> Runner {
          auto args = std::make_shared<InspectArgs>();
          sub.add_option("IMAGE", args->names, "Image references, IDs or digests")->required();
          return [args, &globals] { return run_inspect(*args, globals); };
        },
    });

}  // namespace imgbuild::cli
