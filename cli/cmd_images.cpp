// imgbuild images [REPOSITORY[:TAG]]: lists images as `docker images` does (one row per tag,
// <none> for untagged images), or as JSON lines with --format json, or IDs only with -q.
#include <cstdio>
#include <ctime>
#include <set>

#include "cli/command.h"
#include "cli/image_common.h"
#include "image/json_util.h"

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
  if (!args.format.empty() && args.format != "json" && args.format != "table") {
    return fail(ErrorKind::kInvalidArgument,
                "images: unknown --format \"" + args.format + "\" (use table or json)");
  }
  if (!args.filter.empty()) TRY(image::Reference::parse(args.filter));
  image::Store store = TRY(open_store(globals));
  std::vector<image::Image> images = TRY(store.list_images());
  std::vector<Row> rows;
  for (const auto& img : images) {
    Row base;
    base.id = args.no_trunc ? img.config_digest.str() : img.config_digest.short_hex();
    base.created = created_since(img.config);
    base.created_at = img.config.created;
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
  if (args.format == "json") {
    for (const auto& r : rows) {
      nlohmann::json j{{"Repository", r.repository},
                       {"Tag", r.tag},
                       {"ID", r.id},
                       {"Digest", r.digest},
                       {"CreatedAt", r.created_at},
                       {"CreatedSince", r.created},
                       {"Size", r.size}};
      std::printf("%s\n", image::json_util::dump(j).c_str());
    }
    return 0;
  }
  std::vector<std::vector<std::string>> table;
  if (args.digests) {
    table.push_back({"REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"});
  } else {
    table.push_back({"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"});
  }
  for (const auto& r : rows) {
    if (args.digests) {
      table.push_back({r.repository, r.tag, r.digest, r.id, r.created, r.size});
    } else {
      table.push_back({r.repository, r.tag, r.id, r.created, r.size});
    }
  }
  std::vector<size_t> widths(table[0].size(), 0);
  for (const auto& row : table) {
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  for (const auto& row : table) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(widths[c] - row[c].size() + 3, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
  return 0;
}

}  // namespace

IMGBUILD_COMMAND(images, Command{
                             .name = "images",
                             .description = "List images in the store",
                             .setup = [](CLI::App& sub, const GlobalOptions& globals) -> Runner {
                               auto args = std::make_shared<ImagesArgs>();
                               sub.add_option("REPOSITORY", args->filter,
                                              "Show only this repository (REPOSITORY[:TAG])");
                               sub.add_option("--format", args->format,
                                              "table (default) or json (one object per line)");
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
