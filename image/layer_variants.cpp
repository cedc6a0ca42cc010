#include "image/layer_variants.h"

#include <unistd.h>

#include "base/dir_reader.h"
#include "base/fs.h"
#include "base/log.h"
#include "image/estargz_toc.h"
#include "image/json_util.h"
#include "image/store_state.h"

namespace imgbuild::image {
namespace {

std::string variant_path(const Store& store, const Digest& diff_id, Compression c) {
  return fs::join(StorePaths(store.root()).variants,
                  std::string(diff_id.hex()) + "." + std::string(compression_name(c)));
}

Result<Descriptor> read_variant(const std::string& path) {
  std::string text = TRY(fs::read_file(path));
  nlohmann::json j = TRY(json_util::parse(text, path));
  return with_context(Descriptor::from_json(j), path);
}

}  // namespace

std::optional<Descriptor> find_layer_variant(const Store& store, const Digest& diff_id,
                                             Compression compression) {
  if (compression == Compression::kNone) return std::nullopt;
  auto d = read_variant(variant_path(store, diff_id, compression));
  if (!d) return std::nullopt;  // none recorded, or a torn record: compress again
  auto c = compression_for_media_type(d->media_type);
  if (!c || *c != compression || !store.has_blob(d->digest)) return std::nullopt;
  return *d;
}

Status record_layer_variant(const Store& store, const Digest& diff_id, Compression compression,
                            const Descriptor& blob) {
  if (compression == Compression::kNone) {
    return fail(ErrorKind::kInvalidArgument, "recording a layer variant: compression is none");
  }
  return fs::write_file_atomic(variant_path(store, diff_id, compression),
                               json_util::dump(blob.to_json()));
}

std::optional<EstargzVariant> find_estargz_variant(const Store& store, const Digest& diff_id) {
  std::string path = variant_path(store, diff_id, Compression::kEstargz);
  auto text = fs::read_file(path);
  if (!text) return std::nullopt;
  auto j = json_util::parse(*text, path);
  if (!j) return std::nullopt;
  auto d = Descriptor::from_json(*j);
  std::string diff;
  if (!d || !json_util::get_string(*j, "diffID", diff, path)) return std::nullopt;
  auto parsed = Digest::parse(diff);
  if (!parsed || d->annotation(estargz::kTocDigestAnnotation).empty() ||
      !store.has_blob(d->digest)) {
    return std::nullopt;
  }
  return EstargzVariant{*d, *parsed};
}

Status record_estargz_variant(const Store& store, const Digest& diff_id,
                              const EstargzVariant& variant) {
  nlohmann::json j = variant.blob.to_json();
  j["diffID"] = variant.diff_id.str();
  return fs::write_file_atomic(variant_path(store, diff_id, Compression::kEstargz),
                               json_util::dump(j));
}

Status sweep_layer_variants(const StorePaths& paths, const std::set<Digest>& live_layers,
                            std::set<Digest>& live_blobs) {
  std::vector<std::string> names = TRY(fs::list_dir(paths.variants, fs::MissingDir::kIsEmpty));
  // Writers hold a lease while they record, so prune (holding gc.lock) never races one: a
  // leftover "*.tmp-*" from write_file_atomic is from a crash and goes like any dead record.
  for (const auto& name : names) {
    std::string path = fs::join(paths.variants, name);
    std::string hex = name.substr(0, name.find('.'));
    bool record = name.find(".tmp-") == std::string::npos && is_sha256_hex(hex);
    if (record && live_layers.contains(Digest::from_hex(hex))) {
      auto d = read_variant(path);
      if (d) {
        live_blobs.insert(d->digest);
        continue;
      }
      log::warn("prune: dropping unreadable layer variant record: " + d.error().message());
    }
    if (::unlink(path.c_str()) < 0 && errno != ENOENT) return fail_errno("unlink", path);
  }
  return {};
}

}  // namespace imgbuild::image
