// save_archive: an image layout (optionally Docker-flavoured) as a tar stream.
#include <archive.h>
#include <archive_entry.h>

#include <map>
#include <memory>
#include <set>

#include "base/sys.h"
#include "image/archive.h"
#include "image/json_util.h"
#include "image/media_types.h"

namespace imgbuild::image {
namespace {

struct ArchiveDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};
using WriteArchive = std::unique_ptr<struct archive, ArchiveDeleter>;

class TarOut {
 public:
  static Result<TarOut> open(int fd) {
    WriteArchive a(archive_write_new());
    if (!a) return fail(ErrorKind::kInternal, "archive_write_new failed");
    if (archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK ||
        archive_write_open_fd(a.get(), fd) != ARCHIVE_OK) {
      return fail(ErrorKind::kIo, std::string("writing archive: ") + archive_error_string(a.get()));
    }
    return TarOut(std::move(a));
  }

  Status dir(const std::string& name) { return header(name, AE_IFDIR, 0755, 0); }

  Status file(const std::string& name, std::string_view data) {
    TRY(header(name, AE_IFREG, 0644, static_cast<int64_t>(data.size())));
    return write(data);
  }

  Status file_from_fd(const std::string& name, int fd, int64_t size, const std::string& subject) {
    TRY(header(name, AE_IFREG, 0644, size));
    std::string buf(1 << 20, '\0');
    int64_t left = size;
    while (left > 0) {
      size_t n = TRY(sys::read_some(fd, std::span<char>(buf.data(), buf.size()), subject));
      if (n == 0) return fail(ErrorKind::kCorrupt, subject + ": shorter than its size");
      n = std::min<size_t>(n, static_cast<size_t>(left));
      TRY(write(std::string_view(buf.data(), n)));
      left -= static_cast<int64_t>(n);
    }
    return {};
  }

  Status close() {
    if (archive_write_close(a_.get()) != ARCHIVE_OK) return error();
    return {};
  }

 private:
  explicit TarOut(WriteArchive a) : a_(std::move(a)) {}

  std::unexpected<Error> error() {
    return fail(ErrorKind::kIo, std::string("writing archive: ") + archive_error_string(a_.get()));
  }

  Status header(const std::string& name, unsigned type, int perm, int64_t size) {
    std::unique_ptr<struct archive_entry, EntryDeleter> e(archive_entry_new());
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), type);
    archive_entry_set_perm(e.get(), static_cast<mode_t>(perm));
    archive_entry_set_size(e.get(), size);
    archive_entry_set_mtime(e.get(), 0, 0);
    archive_entry_set_uid(e.get(), 0);
    archive_entry_set_gid(e.get(), 0);
    if (archive_write_header(a_.get(), e.get()) != ARCHIVE_OK) return error();
    return {};
  }

  Status write(std::string_view data) {
    while (!data.empty()) {
      la_ssize_t n = archive_write_data(a_.get(), data.data(), data.size());
      if (n < 0) return error();
      data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
  }

  WriteArchive a_;
};

std::string blob_name(const Digest& d) { return "blobs/sha256/" + std::string(d.hex()); }

}  // namespace

std::string chain_id_hex(const std::vector<Digest>& diff_ids) {
  if (diff_ids.empty()) return {};
  std::string chain = diff_ids[0].str();
  for (size_t i = 1; i < diff_ids.size(); ++i) {
    chain = Digest::of(chain + " " + diff_ids[i].str()).str();
  }
  return chain.substr(7);
}

Status save_archive(const Store& store, const std::vector<SaveRequest>& images,
                    ArchiveFormat format, int out_fd) {
  std::set<Digest> blobs;
  Index index;
  index.media_type = std::string(media_types::kOciIndex);
  nlohmann::json docker_manifest = nlohmann::json::array();
  nlohmann::json repositories = nlohmann::json::object();
  for (const auto& req : images) {
    const Image& img = req.image;
    blobs.insert(img.manifest_digest);
    blobs.insert(img.config_digest);
    for (const auto& l : img.manifest.layers) {
      if (!store.has_blob(l.digest)) {
        return fail(ErrorKind::kNotFound, "saving " + img.manifest_digest.str() +
                                              ": layer blob not found: " + l.digest.str());
      }
      blobs.insert(l.digest);
    }
    Descriptor d{.media_type = img.manifest_media_type.empty()
                                   ? std::string(media_types::kOciManifest)
                                   : img.manifest_media_type,
                 .digest = img.manifest_digest,
                 .size = img.manifest_size};
    if (req.refs.empty()) index.manifests.push_back(d);
    nlohmann::json tags = nlohmann::json::array();
    for (const auto& ref : req.refs) {
      Descriptor named = d;
      named.annotations[std::string(media_types::kAnnotationRefName)] = ref.str();
      named.annotations[std::string(media_types::kAnnotationContainerdName)] = ref.str();
      index.manifests.push_back(std::move(named));
      tags.push_back(ref.familiar());
      if (!img.config.diff_ids.empty()) {
        repositories[ref.familiar_name()][ref.tag] = chain_id_hex(img.config.diff_ids);
      }
    }
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : img.manifest.layers) layers.push_back(blob_name(l.digest));
    docker_manifest.push_back(nlohmann::json{{"Config", blob_name(img.config_digest)},
                                             {"RepoTags", tags.empty() ? nlohmann::json() : tags},
                                             {"Layers", std::move(layers)}});
  }

  TarOut tar = TRY(TarOut::open(out_fd));
  TRY(tar.dir("blobs/"));
  TRY(tar.dir("blobs/sha256/"));
  for (const auto& d : blobs) {
    UniqueFd fd = TRY(store.open_blob(d));
    int64_t size = TRY(store.blob_size(d));
    TRY(tar.file_from_fd(blob_name(d), fd.get(), size, store.blob_path(d)));
  }
  TRY(tar.file("index.json", index.serialize()));
  if (format == ArchiveFormat::kDocker) {
    TRY(tar.file("manifest.json", json_util::dump(docker_manifest)));
  }
  TRY(tar.file("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}"));
  if (format == ArchiveFormat::kDocker && !repositories.empty()) {
    TRY(tar.file("repositories", json_util::dump(repositories)));
  }
  return tar.close();
}

}  // namespace imgbuild::image
