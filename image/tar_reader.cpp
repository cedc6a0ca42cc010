#include "image/tar_reader.h"

#include <archive_entry.h>
#include <locale.h>
#include <sys/stat.h>

#include <algorithm>

namespace imgbuild::image {
namespace {

// libarchive converts PAX names (UTF-8 by the standard) to the current locale's charset and
// fails in the C locale. Running its calls under a thread-local C.UTF-8 locale keeps names as
// the UTF-8 bytes they are, without touching the process's locale.
class Utf8LocaleScope {
 public:
  Utf8LocaleScope() {
    static locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
    if (utf8 != static_cast<locale_t>(nullptr)) old_ = uselocale(utf8);
  }
  ~Utf8LocaleScope() {
    if (old_ != static_cast<locale_t>(nullptr)) uselocale(old_);
  }
  Utf8LocaleScope(const Utf8LocaleScope&) = delete;
  Utf8LocaleScope& operator=(const Utf8LocaleScope&) = delete;

 private:
  locale_t old_ = static_cast<locale_t>(nullptr);
};

}  // namespace

TarReader::~TarReader() {
  if (a_ != nullptr) archive_read_free(a_);
}

la_ssize_t TarReader::read_cb(struct archive* a, void* self, const void** buf) {
  auto* reader = static_cast<TarReader*>(self);
  auto chunk = reader->input_->next();
  if (!chunk) {
    reader->input_error_ = chunk.error();
    archive_set_error(a, EIO, "%s", chunk.error().message().c_str());
    return -1;
  }
  reader->sha_.update(*chunk);
  *buf = chunk->data();
  return static_cast<la_ssize_t>(chunk->size());
}

Error TarReader::archive_error(std::string_view what) const {
  if (input_error_) return *input_error_;
  const char* msg = archive_error_string(a_);
  std::string text = msg != nullptr ? msg : "corrupt tar archive";
  if (!what.empty()) text = std::string(what) + ": " + text;
  return Error(ErrorKind::kCorrupt, text);
}

Result<std::unique_ptr<TarReader>> TarReader::open(int blob_fd) {
  Utf8LocaleScope locale;
  auto input = TRY(DecompressReader::open(blob_fd));
  std::unique_ptr<TarReader> reader(new TarReader(std::move(input)));
  reader->a_ = archive_read_new();
  if (reader->a_ == nullptr) return fail(ErrorKind::kInternal, "archive_read_new failed");
  archive_read_support_format_tar(reader->a_);
  archive_read_support_format_gnutar(reader->a_);
  if (archive_read_open(reader->a_, reader.get(), nullptr, read_cb, nullptr) != ARCHIVE_OK) {
    return fail(reader->archive_error("reading layer tar"));
  }
  return reader;
}

Result<std::optional<TarHeader>> TarReader::next() {
  if (at_end_) return std::nullopt;
  Utf8LocaleScope locale;
  struct archive_entry* e = nullptr;
  int rc = archive_read_next_header(a_, &e);
  if (rc == ARCHIVE_EOF) {
    at_end_ = true;
    return std::nullopt;
  }
  if (rc != ARCHIVE_OK) {
    // An empty stream is not a tar at all; libarchive says "Unrecognized archive format".
    std::string where = current_.empty() ? "reading layer tar"
                                         : "reading layer tar after entry \"" + current_ + "\"";
    return fail(archive_error(where));
  }
  TarHeader h;
  const char* path = archive_entry_pathname(e);
  h.path = path != nullptr ? path : "";
  current_ = h.path;
  h.mode = archive_entry_perm(e) & 07777;
  h.uid = archive_entry_uid(e);
  h.gid = archive_entry_gid(e);
  h.mtime = archive_entry_mtime(e);
  h.mtime_nsec = archive_entry_mtime_nsec(e);
  if (const char* hl = archive_entry_hardlink(e)) {
    h.type = TarEntry::Type::kHardLink;
    h.linkname = hl;
  } else {
    switch (archive_entry_filetype(e)) {
      case AE_IFREG:
        h.type = TarEntry::Type::kRegular;
        h.size = archive_entry_size(e);
        break;
      case AE_IFDIR: h.type = TarEntry::Type::kDirectory; break;
      case AE_IFLNK: {
        h.type = TarEntry::Type::kSymlink;
        const char* target = archive_entry_symlink(e);
        h.linkname = target != nullptr ? target : "";
        break;
      }
      case AE_IFCHR:
      case AE_IFBLK:
        h.type =
            archive_entry_filetype(e) == AE_IFCHR ? TarEntry::Type::kChar : TarEntry::Type::kBlock;
        h.devmajor = static_cast<uint32_t>(archive_entry_rdevmajor(e));
        h.devminor = static_cast<uint32_t>(archive_entry_rdevminor(e));
        break;
      case AE_IFIFO: h.type = TarEntry::Type::kFifo; break;
      default:
        return fail(ErrorKind::kUnsupported,
                    "entry \"" + h.path + "\": unsupported tar entry type");
    }
  }
  archive_entry_xattr_reset(e);
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    h.xattrs.emplace_back(name, std::string(static_cast<const char*>(value), size));
  }
  std::sort(h.xattrs.begin(), h.xattrs.end());
  return h;
}

Result<TarDataBlock> TarReader::read_block() {
  Utf8LocaleScope locale;
  const void* buf = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  int rc = archive_read_data_block(a_, &buf, &size, &offset);
  if (rc == ARCHIVE_EOF) return TarDataBlock{offset, {}};
  if (rc != ARCHIVE_OK) return fail(archive_error("entry \"" + current_ + "\""));
  return TarDataBlock{offset, std::string_view(static_cast<const char*>(buf), size)};
}

Result<Digest> TarReader::finish() {
  // libarchive stops at the end-of-archive marker; the diff_id covers every byte after it too.
  for (;;) {
    std::string_view chunk = TRY(input_->next());
    if (chunk.empty()) break;
    sha_.update(chunk);
  }
  return Digest::from_hex(sha_.finish_hex());
}

}  // namespace imgbuild::image
