// imgbuild system df [-v] [--format F]: disk usage of images, containers, local volumes and the
// build cache, as `docker system df`. Image sizes are the layer blobs of their manifests, each
// blob counted once however many images share it; an image is active while a container (running
// or not) was created from it, and the reclaimable part is what no active image uses. Container
// sizes are their writable layers; volumes their _data trees; the build cache the blobs its
// records keep that no image uses.
#include <cstdio>
#include <map>
#include <set>

#include "base/dir_reader.h"
#include "base/fs.h"
#include "cli/command.h"
#include "cli/container_state.h"
#include "cli/image_common.h"
#include "containers/disk_usage.h"
#include "containers/volumes.h"
#include "format/list_format.h"
#include "image/manifest.h"

namespace imgbuild::cli {
namespace {

struct Usage {
  std::string type;
  size_t total = 0, active = 0;
  uint64_t size = 0, reclaimable = 0;
};

// "11.63MB (70%)", Docker's RECLAIMABLE column.
std::string reclaimable_text(const Usage& u) {
  std::string out = human_size(u.reclaimable);
  if (u.size > 0) out += " (" + std::to_string(u.reclaimable * 100 / u.size) + "%)";
  return out;
}

struct Report {
  Usage images{"Images"}, containers{"Containers"}, volumes{"Local Volumes"}, cache{"Build Cache"};
  std::vector<nlohmann::json> image_rows, container_rows, volume_rows;
};

Result<Report> measure(const image::Store& store) {
  Report r;
  ContainerList records = TRY(list_records(store));
  std::map<std::string, size_t> users_of_manifest, users_of_volume;
  for (const auto& c : records.records) {
    ++users_of_manifest[c.manifest_digest];
    for (const auto& v : c.volumes) ++users_of_volume[v];
  }

  auto images = TRY(store.list_images());
  std::map<std::string, uint64_t> layer_size;  // blob digest -> size, each blob once
  std::map<std::string, size_t> layer_users;   // blob digest -> images using it
  std::set<std::string> active_layers;
  for (const auto& img : images) {
    bool active = users_of_manifest.contains(img.manifest_digest.str());
    r.images.active += active ? 1 : 0;
    for (const auto& l : img.manifest.layers) {
      layer_size[l.digest.str()] = static_cast<uint64_t>(l.size);
      ++layer_users[l.digest.str()];
      if (active) active_layers.insert(l.digest.str());
    }
  }
  r.images.total = images.size();
  for (const auto& [digest, size] : layer_size) {
    r.images.size += size;
    if (!active_layers.contains(digest)) r.images.reclaimable += size;
  }
  for (const auto& img : images) {
    uint64_t shared = 0, unique = 0;
    for (const auto& l : img.manifest.layers) {
      (layer_users[l.digest.str()] > 1 ? shared : unique) += static_cast<uint64_t>(l.size);
    }
    std::string containers = std::to_string(users_of_manifest[img.manifest_digest.str()]);
    auto row = [&](const std::string& repo, const std::string& tag) {
      r.image_rows.push_back({{"Repository", repo},
                              {"Tag", tag},
                              {"ID", img.config_digest.short_hex()},
                              {"CreatedSince", created_since(img.config)},
                              {"Size", human_size(shared + unique)},
                              {"SharedSize", human_size(shared)},
                              {"UniqueSize", human_size(unique)},
                              {"Containers", containers}});
    };
    if (img.tags.empty()) row("<none>", "<none>");
    for (const auto& t : img.tags) row(t.familiar_name(), t.tag.empty() ? "<none>" : t.tag);
  }

  for (const auto& c : records.records) {
    uint64_t size = containers::tree_bytes(fs::join(container_dir(store, c.id), "upper"));
    bool running = is_running(c);
    ++r.containers.total;
    r.containers.active += running ? 1 : 0;
    r.containers.size += size;
    if (!running) r.containers.reclaimable += size;
    r.container_rows.push_back(
        {{"ID", c.id.substr(0, 12)},
         {"Image", c.image},
         {"Command", c.spec.args.empty() ? "" : "\"" + c.spec.args[0] + "\""},
         {"LocalVolumes", std::to_string(c.volumes.size())},
         {"Size", human_size(size)},
         {"Status", std::string(to_string(observed_status(c)))},
         {"Names", c.name}});
  }

  for (const auto& v : TRY(containers::list_volumes(store))) {
    uint64_t size = containers::tree_bytes(v.mountpoint);
    size_t links = users_of_volume[v.name];
    ++r.volumes.total;
    r.volumes.active += links > 0 ? 1 : 0;
    r.volumes.size += size;
    if (links == 0) r.volumes.reclaimable += size;
    r.volume_rows.push_back(
        {{"Name", v.name}, {"Links", std::to_string(links)}, {"Size", human_size(size)}});
  }

  std::set<std::string> cache_blobs;
  auto record_files = TRY(fs::list_dir(store.cache_records_dir(), fs::MissingDir::kIsEmpty));
  for (const auto& name : record_files) {
    auto text = fs::read_file(fs::join(store.cache_records_dir(), name));
    if (!text) continue;
    auto json = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) continue;
    auto record = image::GcRecord::from_json(json);
    if (!record) continue;
    ++r.cache.total;
    for (const auto& b : record->blobs) {
      if (!layer_size.contains(b.str())) cache_blobs.insert(b.str());
    }
  }
  for (const auto& b : cache_blobs) {
    auto digest = image::Digest::parse(b);
    auto size = digest ? store.blob_size(*digest) : Result<int64_t>(0);
    if (size) r.cache.size += static_cast<uint64_t>(*size);
  }
  r.cache.reclaimable = r.cache.size;
  return r;
}

Status print_section(const std::string& title, const std::string& columns,
                     const nlohmann::json& headers, const std::vector<nlohmann::json>& rows) {
  auto format = TRY(format::ListFormat::parse("", columns, headers));
  std::printf("%s\n\n%s\n", title.c_str(), TRY(format.render(rows)).c_str());
  return {};
}

Status print_verbose(const Report& r) {
  TRY(print_section("Images space usage:",
                    "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t"
                    "{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}",
                    {{"Repository", "REPOSITORY"},
                     {"Tag", "TAG"},
                     {"ID", "IMAGE ID"},
                     {"CreatedSince", "CREATED"},
                     {"Size", "SIZE"},
                     {"SharedSize", "SHARED SIZE"},
                     {"UniqueSize", "UNIQUE SIZE"},
                     {"Containers", "CONTAINERS"}},
                    r.image_rows));
  TRY(print_section("Containers space usage:",
                    "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.Status}}"
                    "\t{{.Names}}",
                    {{"ID", "CONTAINER ID"},
                     {"Image", "IMAGE"},
                     {"Command", "COMMAND"},
                     {"LocalVolumes", "LOCAL VOLUMES"},
                     {"Size", "SIZE"},
                     {"Status", "STATUS"},
                     {"Names", "NAMES"}},
                    r.container_rows));
  TRY(print_section("Local Volumes space usage:", "{{.Name}}\t{{.Links}}\t{{.Size}}",
                    {{"Name", "VOLUME NAME"}, {"Links", "LINKS"}, {"Size", "SIZE"}},
                    r.volume_rows));
  std::printf("Build cache usage: %s\n", human_size(r.cache.size).c_str());
  return {};
}

Result<int> run_df(const GlobalOptions& globals, bool verbose, const std::string& format_flag) {
  static const nlohmann::json kHeaders = {{"Type", "TYPE"},
                                          {"TotalCount", "TOTAL"},
                                          {"Active", "ACTIVE"},
                                          {"Size", "SIZE"},
                                          {"Reclaimable", "RECLAIMABLE"}};
  auto format = TRY(format::ListFormat::parse(
      format_flag, "{{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
      kHeaders));
  image::Store store = TRY(open_store(globals));
  Report report = TRY(measure(store));
  if (verbose && format_flag.empty()) {
    TRY(print_verbose(report));
    return 0;
  }
  std::vector<nlohmann::json> rows;
  for (const Usage* u : {&report.images, &report.containers, &report.volumes, &report.cache}) {
    rows.push_back({{"Type", u->type},
                    {"TotalCount", std::to_string(u->total)},
                    {"Active", std::to_string(u->active)},
                    {"Size", human_size(u->size)},
                    {"Reclaimable", reclaimable_text(*u)}});
  }
  std::fputs(TRY(format.render(rows)).c_str(), stdout);
  return 0;
}

Runner setup(CLI::App& sub, const GlobalOptions& globals) {
  auto verbose = std::make_shared<bool>(false);
  auto format_flag = std::make_shared<std::string>();
  auto* df = sub.add_subcommand("df", "Show disk usage");
  df->add_flag("-v,--verbose", *verbose, "Show detailed information on space usage");
  df->add_option("--format", *format_flag, "table, table TEMPLATE, json or a Go template");
  sub.require_subcommand(1);
  return [=, &globals]() -> int {
    auto rc = run_df(globals, *verbose, *format_flag);
    if (!rc) return report_error(rc.error());
    return *rc;
  };
}

}  // namespace

IMGBUILD_COMMAND(system, Command{
                             .name = "system",
                             .description = "Manage imgbuild (system df)",
                             .setup = setup,
                         });

}  // namespace imgbuild::cli
