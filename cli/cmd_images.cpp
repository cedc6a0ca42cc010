// imgbuild images [REPOSITORY[:TAG]]: lists images as `docker images` does (one row per tag,
// <none> for untagged images), or with --format as Docker (table, json, a Go template; see
// format/list_format.h), or IDs only with -q.
#include <cstdio>
#include <ctime>
#include <set>

#include "cli/command.h"
#include "cli/image_common.h"
#include "format/list_format.h"

namespace imgbuild::cli {
namespace {

struct ImagesArgs {
  std::string filter;
  std::string format;
  bool quiet = false;
  bool no_trunc = false;
  bool digests = false;
};

struct Row {
  std::string repository, tag, digest, id, created, created_at, size;
};

bool matches(const std::string& filter, const image::Reference* ref) {
  if (filter.empty()) return true;
  if (ref == nullptr) return false;
  auto wanted = image::Reference::parse(filter);
  if (!wanted) return false;
  size_t slash = filter.rfind('/');
  bool tag_given = filter.find(':', slash == std::string::npos ? 0 : slash) != std::string::npos;
  return wanted->name() == ref->name() && (!tag_given || wanted->tag == ref->tag);
}

Result<int> run_images(const ImagesArgs& args, const GlobalOptions& globals) {
  if (!args.filter.empty()) TRY(image::Reference::parse(args.filter));
  image::Store store = TRY(open_store(globals));
  std::vector<image::Image> images = TRY(store.list_images());
  std::vector<Row> rows;
  for (const auto& img : images) {
    Row base;
    base.id = args.no_trunc ? img.config_digest.str() : img.config_digest.short_hex();
    base.created = created_since(img.config);
    base.created_at = go_time_string(img.config.created);
    uint64_t size = static_cast<uint64_t>(image::total_layer_size(img.manifest));
    base.size = human_size(size);
    base.digest = img.manifest_digest.str();
    if (img.tags.empty()) {
      if (!args.filter.empty()) continue;
      Row r = base;
      r.repository = "<none>";
      r.tag = "<none>";
      rows.push_back(std::move(r));
    }
    for (const auto& ref : img.tags) {
      if (!matches(args.filter, &ref)) continue;
      Row r = base;
      r.repository = ref.familiar_name();
      r.tag = ref.tag;
      rows.push_back(std::move(r));
    }
  }
  if (args.quiet) {
    std::set<std::string> printed;
    for (const auto& r : rows) {
      if (printed.insert(r.id).second) std::printf("%s\n", r.id.c_str());
    }
    return 0;
  }
  // Docker's image table and the fields its templates see (cli/command/formatter/image.go).
  static const nlohmann::json kHeaders = {{"ID", "IMAGE ID"},
                                          {"Repository", "REPOSITORY"},
                                          {"Tag", "TAG"},
                                          {"Digest", "DIGEST"},
                                          {"CreatedSince", "CREATED"},
                                          {"CreatedAt", "CREATED AT"},
                                          {"Size", "SIZE"},
                                          {"Containers", "CONTAINERS"},
                                          {"SharedSize", "SHARED SIZE"},
                                          {"UniqueSize", "UNIQUE SIZE"},
                                          {"VirtualSize", "VIRTUAL SIZE"}};
  std::string table =
      args.digests ? "{{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
                   : "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
  auto format = TRY(format::ListFormat::parse(args.format, table, kHeaders));
  std::vector<nlohmann::json> data;
  for (const auto& r : rows) {
    data.push_back({{"Repository", r.repository},
                    {"Tag", r.tag},
                    {"ID", r.id},
                    {"Digest", r.digest},
                    {"CreatedAt", r.created_at},
                    {"CreatedSince", r.created},
                    {"Size", r.size},
                    {"Containers", "N/A"},
                    {"SharedSize", "N/A"},
                    {"UniqueSize", "N/A"},
                    {"VirtualSize", r.size}});
  }
  std::string out = TRY(format.render(data));
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace

IMGBUILD_COMMAND(images,
                 Command{
                     .name = "images",
                     .description = "List images in the store",
                     .setup = [](CLI::App& sub, const GlobalOptions& globals) -> Runner {
                       auto args = std::make_shared<ImagesArgs>();
                       sub.add_option("REPOSITORY", args->filter,
                                      "Show only this repository (REPOSITORY[:TAG])");
                       sub.add_option(
                           "--format", args->format,
                           "table, table TEMPLATE, json (one object per line) or a Go template");
                       sub.add_flag("-q,--quiet", args->quiet, "Only show image IDs");
                       sub.add_flag("--no-trunc", args->no_trunc, "Show full image IDs");
                       sub.add_flag("--digests", args->digests, "Show manifest digests");
                       return [args, &globals] {
                         auto r = run_images(*args, globals);
                         if (!r) return report_error(r.error());
                         return *r;
                       };
                     },
                 });

}  // namespace imgbuild::cli
