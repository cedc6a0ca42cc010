#include "cli/build_cache_io.h"

#include <string>

#include "builder/cache_layout.h"
#include "cli/command.h"
#include "image/reference.h"

namespace imgbuild::cli {
namespace {

std::string describe(const builder::CacheSpec& c) {
  if (c.type == "local") return "type=local,src=" + c.path;
  return c.ref;
}

void report_import(const builder::CacheSpec& c, const Result<builder::CacheImportReport>& imported,
                   builder::Progress& progress) {
  if (!imported) {
    print_warning("[Warning] --cache-from " + describe(c) + ": " + imported.error().message() +
                  "; building without it");
    return;
  }
  for (const auto& p : imported->problems) {
    print_warning("[Warning] --cache-from " + describe(c) + ": " + p);
  }
  progress.note("imported " + std::to_string(imported->records) + " cache records from " +
                (c.type == "local" ? c.path : c.ref));
}

}  // namespace

bool import_build_caches(const image::Store& store, const std::vector<builder::CacheSpec>& specs,
                         const builder::RegistryCacheOptions& options,
                         builder::Progress& progress) {
  bool registry = false;
  for (const auto& c : specs) {
    if (c.type == "local") {
      report_import(c, builder::import_cache_layout(store, c.path), progress);
    } else if (c.type == "registry") {
      auto ref = image::Reference::parse(c.ref);
      if (!ref) {
        report_import(c, std::unexpected(ref.error()), progress);
        continue;
      }
      auto imported = builder::import_cache_registry(store, *ref, options);
      registry = registry || imported.has_value();
      report_import(c, imported, progress);
    } else {
      print_warning("[Warning] --cache-from type=" + c.type +
                    ": not implemented (type=local and type=registry are); ignored");
    }
  }
  return registry;
}

Status export_build_caches(const image::Store& store, const std::vector<builder::CacheSpec>& specs,
                           const builder::BuildResult& result,
                           const builder::RegistryCacheOptions& options,
                           builder::Progress& progress) {
  for (const auto& c : specs) {
    const auto& keys = c.max ? result.all_record_keys : result.target_record_keys;
    if (c.type == "inline") continue;  // in the image config already (builder/cache_inline.h)
    if (c.type == "local") {
      auto exported = TRY_CTX(builder::export_cache_layout(store, keys, c.path),
                              "--cache-to type=local,dest=" + c.path);
      progress.note("exported " + std::to_string(exported.records) + " cache records to " + c.path);
    } else {
      std::string flag = "--cache-to type=registry,ref=" + c.ref;
      auto ref = TRY_CTX(image::Reference::parse(c.ref), flag);
      builder::RegistryCacheOptions o = options;
      if (c.compression) o.compression = *c.compression;
      auto exported = TRY_CTX(builder::export_cache_registry(store, keys, ref, o), flag);
      progress.note("exported " + std::to_string(exported.records) + " cache records to " +
                    ref.familiar() + " (" + std::to_string(exported.blobs_written) +
                    " blobs uploaded)");
    }
  }
  return {};
}

}  // namespace imgbuild::cli
