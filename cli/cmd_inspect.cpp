// imgbuild inspect [-f FORMAT] [--type image|container|volume] NAME...: prints a JSON array
// describing each image (Docker's fields plus the manifest, like `docker image inspect`),
// container (cli/container_inspect.h) or volume, or each object through a Go template (-f,
// format/template.h). Without --type, as Docker: a container by that name, else an image, else a
// volume.
// Names that cannot be found are reported on stderr after the output and make the exit status 1.
#include <cstdio>

#include "cli/command.h"
#include "cli/container_inspect.h"
#include "cli/image_common.h"
#include "cli/inspect_output.h"
#include "containers/volumes.h"
#include "format/list_format.h"

namespace imgbuild::cli {
namespace {

struct InspectArgs {
  std::vector<std::string> names;
  std::string format;
  std::string type;
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

Result<nlohmann::json> find_object(const image::Store& store, const std::string& name,
                                   const std::string& type) {
  if (type == "container") {
    ContainerRecord record = TRY(find_record(store, name));
    return describe_container(store, record);
  }
  if (type == "volume") return containers::inspect_json(TRY(containers::load_volume(store, name)));
  if (type == "image") return describe(TRY(store.resolve(name)));
  // Without --type, Docker tries a container, an image, then a volume by that name.
  auto record = find_record(store, name);
  if (record) return describe_container(store, *record);
  // A damaged record that matches is named, not hidden behind "No such object".
  if (record.error().kind() == ErrorKind::kCorrupt) return fail(record.error());
  auto img = store.resolve(name);
  if (img) return describe(*img);
  if (auto volume = containers::load_volume(store, name)) return containers::inspect_json(*volume);
  // What is wrong with the name itself (an invalid reference) says more than "not found".
  if (img.error().kind() != ErrorKind::kNotFound) return std::unexpected(img.error());
  return fail(ErrorKind::kNotFound, "No such object: " + name);
}

int run_inspect(const InspectArgs& args, const GlobalOptions& globals) {
  if (!args.type.empty() && args.type != "image" && args.type != "container" &&
      args.type != "volume") {
    return report_error(Error(ErrorKind::kInvalidArgument,
                              "\"" + args.type + "\" is not a valid value for --type"));
  }
  auto store = open_store(globals);
  if (!store) return report_error(store.error());
  return print_inspect(args.names, args.format, [&](const std::string& name) {
    return find_object(*store, name, args.type);
  });
}

}  // namespace

IMGBUILD_COMMAND(inspect,
                 Command{
                     .name = "inspect",
                     .description = "Show low-level information on images and containers",
                     .setup = [](CLI::App& sub, const GlobalOptions& globals) -> Runner {
                       auto args = std::make_shared<InspectArgs>();
                       sub.add_option("NAME", args->names,
                                      "Image references, IDs or digests; container names or IDs")
                           ->required();
                       sub.add_option("-f,--format", args->format,
                                      "Format the output using a Go template, or json");
                       sub.add_option(
                           "--type", args->type,
                           "Only inspect objects of this type: image, container or volume");
                       return [args, &globals] { return run_inspect(*args, globals); };
                     },
                 });

}  // namespace imgbuild::cli
