// Store: index.json (tags and dangling images), committing, resolving and listing images.
#include <algorithm>
#include <map>
#include <set>

#include "base/fs.h"
#include "base/log.h"
#include "image/json_util.h"
#include "image/media_types.h"
#include "image/remote_blobs.h"
#include "image/store.h"
#include "image/store_state.h"

namespace imgbuild::image {
namespace {

bool same_ref(const IndexEntry& e, const Reference& ref) {
  return e.ref && e.ref->str() == ref.str();
}

std::optional<Reference> ref_of(const Descriptor& d) {
  for (auto key : {media_types::kAnnotationRefName, media_types::kAnnotationContainerdName}) {
    std::string name = d.annotation(key);
    if (name.empty()) continue;
    auto ref = Reference::parse(name);
    if (ref && !ref->tag.empty()) return ref->with_tag(ref->tag);
  }
  return std::nullopt;
}

bool is_dangling(const IndexEntry& e) {
  return !e.ref && e.descriptor.annotation(media_types::kAnnotationRefName).empty();
}

// "abc" is an image ID prefix candidate: lowercase hex, optionally "sha256:"-prefixed.
std::optional<std::string> id_prefix(std::string_view text) {
  if (text.starts_with("sha256:")) text.remove_prefix(7);
  if (text.empty() || text.size() > 64) return std::nullopt;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  return std::string(text);
}

}  // namespace

void annotate_ref(Descriptor& d, const Reference& ref) {
  d.annotations[std::string(media_types::kAnnotationRefName)] = ref.str();
  d.annotations[std::string(media_types::kAnnotationContainerdName)] = ref.str();
}

Result<std::vector<IndexEntry>> read_index_entries(const StorePaths& paths) {
  std::string text = TRY(fs::read_file(paths.index_json));
  Index index = TRY_CTX(Index::parse(text), paths.index_json);
  std::vector<IndexEntry> entries;
  for (auto& d : index.manifests) {
    IndexEntry e;
    e.ref = ref_of(d);
    e.descriptor = std::move(d);
    entries.push_back(std::move(e));
  }
  return entries;
}

Status write_index_entries(const StorePaths& paths, std::vector<IndexEntry> entries) {
  std::stable_sort(entries.begin(), entries.end(), [](const IndexEntry& a, const IndexEntry& b) {
    if (a.ref.has_value() != b.ref.has_value()) return a.ref.has_value();
    if (a.ref && b.ref) return a.ref->str() < b.ref->str();
    return a.descriptor.digest < b.descriptor.digest;
  });
  Index index;
  index.media_type = std::string(media_types::kOciIndex);
  for (auto& e : entries) index.manifests.push_back(std::move(e.descriptor));
  return fs::write_file_atomic(paths.index_json, index.serialize());
}

Result<std::vector<IndexEntry>> Store::index_entries() const {
  return read_index_entries(state_->paths);
}

Result<CommittedImage> Store::commit_image(
    const ImageConfig& config, const std::vector<Descriptor>& layers,
    const std::map<std::string, std::string>& annotations) const {
  if (config.diff_ids.size() != layers.size()) {
    return fail(ErrorKind::kInvalidArgument,
                "commit image: config lists " + std::to_string(config.diff_ids.size()) +
                    " diff IDs but " + std::to_string(layers.size()) + " layers were given");
  }
  Lease l = TRY(lease());
  for (const auto& layer : layers) {
    // A layer left on a registry (image/remote_blobs.h) is fetched when its bytes are needed.
    if (!has_blob(layer.digest) && !find_remote_blob(*this, layer.digest)) {
      return fail(ErrorKind::kNotFound,
                  "commit image: layer blob not found: " + layer.digest.str());
    }
  }
  std::string config_bytes = config.serialize();
  Digest config_digest = TRY(put_blob(config_bytes));
  Manifest m;
  m.media_type = std::string(media_types::kOciManifest);
  m.config.media_type = std::string(media_types::kOciConfig);
  m.config.digest = config_digest;
  m.config.size = static_cast<int64_t>(config_bytes.size());
  m.layers = layers;
  m.annotations = annotations;
  std::string manifest_bytes = m.serialize();
  Digest manifest_digest = TRY(put_blob(manifest_bytes));
  CommittedImage out{manifest_digest, static_cast<int64_t>(manifest_bytes.size()), config_digest};

  FileLock lock = TRY(FileLock::acquire(state_->paths.index_lock, LockMode::kExclusive));
  auto entries = TRY(read_index_entries(state_->paths));
  for (const auto& e : entries) {
    if (e.descriptor.digest == manifest_digest) return out;
  }
  IndexEntry e;
  e.descriptor.media_type = std::string(media_types::kOciManifest);
  e.descriptor.digest = manifest_digest;
  e.descriptor.size = out.manifest_size;
  entries.push_back(std::move(e));
  TRY(write_index_entries(state_->paths, std::move(entries)));
  return out;
}

Status Store::tag(const Reference& ref_in, const Digest& manifest_digest, int64_t manifest_size,
                  std::string_view media_type) const {
  if (ref_in.tag.empty()) {
    return fail(ErrorKind::kInvalidArgument, "cannot tag " + ref_in.str() + ": no tag given");
  }
  Reference ref = ref_in.with_tag(ref_in.tag);
  Descriptor d;
  d.digest = manifest_digest;
  d.size = manifest_size;
  d.media_type = std::string(media_type);
  if (d.size < 0 || d.media_type.empty()) {
    std::string bytes = TRY_CTX(read_blob(manifest_digest), "tagging " + ref.familiar());
    d.size = static_cast<int64_t>(bytes.size());
    if (d.media_type.empty()) {
      auto j = json_util::parse(bytes, "manifest " + manifest_digest.str());
      if (!j) return fail(j.error().with_context("tagging " + ref.familiar()));
      std::string mt;
      TRY(json_util::get_string(*j, "mediaType", mt, "manifest"));
      if (mt.empty()) {
        mt = j->contains("manifests") ? media_types::kOciIndex : media_types::kOciManifest;
      }
      d.media_type = mt;
    }
  } else if (!has_blob(manifest_digest)) {
    return fail(ErrorKind::kNotFound,
                "tagging " + ref.familiar() + ": blob not found: " + manifest_digest.str());
  }
  annotate_ref(d, ref);

  FileLock lock = TRY(FileLock::acquire(state_->paths.index_lock, LockMode::kExclusive));
  auto entries = TRY(read_index_entries(state_->paths));
  std::optional<Digest> previous;
  std::vector<IndexEntry> kept;
  for (auto& e : entries) {
    if (same_ref(e, ref)) {
      previous = e.descriptor.digest;
      continue;
    }
    // The image is tagged now; its dangling entry goes.
    if (is_dangling(e) && e.descriptor.digest == manifest_digest) continue;
    kept.push_back(std::move(e));
  }
  if (previous && *previous != manifest_digest) {
    // Docker keeps an image that lost its last tag as <none>:<none>.
    bool still_listed = std::any_of(kept.begin(), kept.end(), [&](const IndexEntry& e) {
      return e.descriptor.digest == *previous;
    });
    if (!still_listed) {
      for (const auto& e : entries) {
        if (same_ref(e, ref)) {
          IndexEntry dangling;
          dangling.descriptor = e.descriptor;
          dangling.descriptor.annotations.clear();
          kept.push_back(std::move(dangling));
        }
      }
    }
  }
  IndexEntry added;
  added.descriptor = std::move(d);
  added.ref = ref;
  kept.push_back(std::move(added));
  return write_index_entries(state_->paths, std::move(kept));
}

Result<Digest> Store::untag(const Reference& ref_in, bool keep_dangling) const {
  Reference ref = ref_in.with_tag(ref_in.tag.empty() ? std::string(kDefaultTag) : ref_in.tag);
  FileLock lock = TRY(FileLock::acquire(state_->paths.index_lock, LockMode::kExclusive));
  auto entries = TRY(read_index_entries(state_->paths));
  std::optional<IndexEntry> removed;
  std::vector<IndexEntry> kept;
  for (auto& e : entries) {
    if (!removed && same_ref(e, ref)) {
      removed = std::move(e);
    } else {
      kept.push_back(std::move(e));
    }
  }
  if (!removed) return fail(ErrorKind::kNotFound, "no such tag: " + ref.familiar());
  Digest digest = removed->descriptor.digest;
  bool still_listed = std::any_of(
      kept.begin(), kept.end(), [&](const IndexEntry& e) { return e.descriptor.digest == digest; });
  if (!still_listed && keep_dangling) {
    IndexEntry dangling;
    dangling.descriptor = removed->descriptor;
    dangling.descriptor.annotations.clear();
    kept.push_back(std::move(dangling));
  }
  TRY(write_index_entries(state_->paths, std::move(kept)));
  return digest;
}

Status Store::record_image(const Digest& manifest_digest) const {
  std::string bytes = TRY(read_blob(manifest_digest));
  auto j = json_util::parse(bytes, "manifest " + manifest_digest.str());
  if (!j) return fail(j.error());
  std::string mt;
  TRY(json_util::get_string(*j, "mediaType", mt, "manifest " + manifest_digest.str()));
  if (mt.empty())
    mt = j->contains("manifests") ? media_types::kOciIndex : media_types::kOciManifest;
  FileLock lock = TRY(FileLock::acquire(state_->paths.index_lock, LockMode::kExclusive));
  auto entries = TRY(read_index_entries(state_->paths));
  for (const auto& e : entries) {
    if (e.descriptor.digest == manifest_digest) return {};
  }
  IndexEntry e;
  e.descriptor.media_type = mt;
  e.descriptor.digest = manifest_digest;
  e.descriptor.size = static_cast<int64_t>(bytes.size());
  entries.push_back(std::move(e));
  return write_index_entries(state_->paths, std::move(entries));
}

Status Store::remove_image(const Digest& manifest_digest) const {
  FileLock lock = TRY(FileLock::acquire(state_->paths.index_lock, LockMode::kExclusive));
  auto entries = TRY(read_index_entries(state_->paths));
  size_t before = entries.size();
  std::erase_if(entries,
                [&](const IndexEntry& e) { return e.descriptor.digest == manifest_digest; });
  if (entries.size() == before) {
    return fail(ErrorKind::kNotFound, "image not found: " + manifest_digest.str());
  }
  return write_index_entries(state_->paths, std::move(entries));
}

Result<Image> Store::load_image(const Digest& digest) const {
  Image image;
  std::string bytes = TRY(read_blob(digest));
  auto j = json_util::parse(bytes, "manifest " + digest.str());
  if (!j) return fail(j.error());
  std::string mt;
  TRY(json_util::get_string(*j, "mediaType", mt, "manifest " + digest.str()));
  Digest manifest_digest = digest;
  if (media_types::is_index(mt) || (mt.empty() && j->contains("manifests"))) {
    Index index = TRY_CTX(Index::from_json(*j), "index " + digest.str());
    Descriptor d = TRY_CTX(index.select(Platform::host()), "index " + digest.str());
    image.index_digest = digest;
    manifest_digest = d.digest;
    bytes = TRY_CTX(read_blob(d.digest), "index " + digest.str());
    j = json_util::parse(bytes, "manifest " + d.digest.str());
    if (!j) return fail(j.error());
  }
  image.manifest = TRY_CTX(Manifest::from_json(*j), manifest_digest.str());
  image.manifest_digest = manifest_digest;
  image.manifest_size = static_cast<int64_t>(bytes.size());
  image.manifest_media_type = image.manifest.media_type;
  image.config_digest = image.manifest.config.digest;
  std::string config_bytes =
      TRY_CTX(read_blob(image.config_digest), "config of " + manifest_digest.str());
  image.config = TRY_CTX(ImageConfig::parse(config_bytes), "config " + image.config_digest.str());
  auto entries = TRY(read_index_entries(state_->paths));
  for (const auto& e : entries) {
    if (e.ref && e.descriptor.digest == digest) image.tags.push_back(*e.ref);
  }
  std::sort(image.tags.begin(), image.tags.end());
  return image;
}

Result<std::vector<Image>> Store::list_images() const {
  auto entries = TRY(read_index_entries(state_->paths));
  std::vector<Image> images;
  std::set<Digest> seen;
  for (const auto& e : entries) {
    if (!seen.insert(e.descriptor.digest).second) continue;
    auto image = load_image(e.descriptor.digest);
    if (!image) {
      log::warn("skipping image " + e.descriptor.digest.str() + ": " + image.error().message());
      continue;
    }
    images.push_back(std::move(*image));
  }
  std::stable_sort(images.begin(), images.end(), [](const Image& a, const Image& b) {
    auto ta = parse_rfc3339(a.config.created).value_or(0);
    auto tb = parse_rfc3339(b.config.created).value_or(0);
    if (ta != tb) return ta > tb;
    return a.manifest_digest < b.manifest_digest;
  });
  return images;
}

Result<Image> Store::resolve(std::string_view name) const {
  auto entries = TRY(read_index_entries(state_->paths));
  // Full digests first: a manifest digest, or an image ID (config digest).
  if (auto digest = Digest::parse(name.starts_with("sha256:") ? name : ""); digest) {
    for (const auto& e : entries) {
      if (e.descriptor.digest == *digest) return load_image(*digest);
    }
  }
  std::optional<std::string> prefix = id_prefix(name);
  auto by_id = [&]() -> Result<std::optional<Image>> {
    if (!prefix) return std::optional<Image>();
    std::optional<Image> found;
    std::set<Digest> seen;
    for (const auto& e : entries) {
      if (!seen.insert(e.descriptor.digest).second) continue;
      auto image = load_image(e.descriptor.digest);
      if (!image) continue;
      if (!image->config_digest.hex().starts_with(*prefix)) continue;
      if (found && found->config_digest != image->config_digest) {
        return fail(ErrorKind::kInvalidArgument,
                    "image ID prefix \"" + std::string(name) + "\" is ambiguous");
      }
      if (!found) found = std::move(*image);
    }
    return found;
  };
  // Docker's order: a 64-hex string is always an ID; otherwise a reference, then an ID prefix.
  if (prefix && (prefix->size() == 64 || name.starts_with("sha256:"))) {
    if (auto found = TRY(by_id())) return std::move(*found);
    return fail(ErrorKind::kNotFound, "image not found: " + std::string(name));
  }
  auto ref = Reference::parse(name);
  if (ref) {
    if (ref->digest) {
      if (has_blob(*ref->digest)) {
        Image image = TRY(load_image(*ref->digest));
        return image;
      }
    } else {
      for (const auto& e : entries) {
        if (same_ref(e, *ref)) return load_image(e.descriptor.digest);
      }
    }
  }
  if (auto found = TRY(by_id())) return std::move(*found);
  if (!ref) return fail(ref.error());
  return fail(ErrorKind::kNotFound, "image not found: " + ref->familiar());
}

}  // namespace imgbuild::image
