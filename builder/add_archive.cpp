#include "builder/add_archive.h"

#include <archive.h>
#include <archive_entry.h>

#include <memory>

#include "base/path_clean.h"

namespace imgbuild::builder {
namespace {

using ReadPtr = std::unique_ptr<struct archive, int (*)(struct archive*)>;

ReadPtr open_reader(const std::string& path) {
  ReadPtr a(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) a.reset();
  return a;
}

}  // namespace

bool looks_like_archive(const std::string& path) {
  ReadPtr a = open_reader(path);
  if (!a) return false;
  struct archive_entry* entry = nullptr;
  int r = archive_read_next_header(a.get(), &entry);
  return r == ARCHIVE_OK || r == ARCHIVE_WARN;
}

Status extract_archive(const std::string& archive, const std::string& dir) {
  ReadPtr a = open_reader(archive);
  if (!a) return fail(ErrorKind::kCorrupt, "ADD " + archive + ": not a readable archive");
  std::unique_ptr<struct archive, int (*)(struct archive*)> disk(archive_write_disk_new(),
                                                                 archive_write_free);
  archive_write_disk_set_options(
      disk.get(), ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER |
                      ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                      ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_UNLINK);
  archive_write_disk_set_standard_lookup(disk.get());
  while (true) {
    struct archive_entry* entry = nullptr;
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return fail(ErrorKind::kCorrupt,
                  "ADD " + archive + ": " + std::string(archive_error_string(a.get())));
    }
    std::string name = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
    auto cleaned = clean_path(name, DotDot::kReject);  // "": the destination itself
    if (!cleaned) {
      return fail(ErrorKind::kInvalidArgument,
                  "ADD " + archive + ": entry \"" + name + "\" leaves the destination");
    }
    archive_entry_copy_pathname(entry, (dir + "/" + *cleaned).c_str());
    if (const char* hl = archive_entry_hardlink(entry)) {
      auto target = clean_path(hl, DotDot::kReject);
      if (!target) {
        return fail(ErrorKind::kInvalidArgument,
                    "ADD " + archive + ": hard link \"" + name + "\" leaves the destination");
      }
      archive_entry_copy_hardlink(entry, (dir + "/" + *target).c_str());
    }
    if (archive_write_header(disk.get(), entry) != ARCHIVE_OK) {
      return fail(ErrorKind::kInvalidArgument, "ADD " + archive + ": entry \"" + name +
                                                   "\": " + archive_error_string(disk.get()));
    }
    const void* buf = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    while ((r = archive_read_data_block(a.get(), &buf, &size, &offset)) == ARCHIVE_OK) {
      if (archive_write_data_block(disk.get(), buf, size, offset) != ARCHIVE_OK) {
        return fail(ErrorKind::kIo, "ADD " + archive + ": writing \"" + name +
                                        "\": " + archive_error_string(disk.get()));
      }
    }
    if (r != ARCHIVE_EOF) {
      return fail(ErrorKind::kCorrupt,
                  "ADD " + archive + ": " + std::string(archive_error_string(a.get())));
    }
    if (archive_write_finish_entry(disk.get()) != ARCHIVE_OK) {
      return fail(ErrorKind::kIo, "ADD " + archive + ": finishing \"" + name +
                                      "\": " + archive_error_string(disk.get()));
    }
  }
  return {};
}

}  // namespace imgbuild::builder
