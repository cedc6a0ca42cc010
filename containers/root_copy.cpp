#include "containers/root_copy.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>

#include "base/sys.h"

namespace imgbuild::containers {
namespace {

// Runs body in a child chrooted into root; body returns "" on success or the error message,
// which the child reports through a pipe. kNotFound when the message starts with "!".
Status in_chroot(const std::string& root, const std::function<std::string()>& body) {
  auto [err_r, err_w] = TRY(sys::pipe2(0, "copy"));
  pid_t pid = ::fork();
  if (pid < 0) return fail_errno("fork", "copy");
  if (pid == 0) {
    std::string message;
    if (::chroot(root.c_str()) < 0 || ::chdir("/") < 0) {
      message = std::string("chroot ") + root + ": " + std::strerror(errno);
    } else {
      message = body();
    }
    if (!message.empty()) (void)!::write(err_w.get(), message.data(), message.size());
    ::_exit(message.empty() ? 0 : 1);
  }
  err_w.reset();
  auto message = sys::read_all(err_r.get(), "copy error pipe");
  int status = TRY(sys::wait_pid(pid));
  if (message && !message->empty()) {
    if ((*message)[0] == '!') return fail(ErrorKind::kNotFound, message->substr(1));
    return fail(ErrorKind::kIo, *message);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return fail(ErrorKind::kIo, "copy process in " + root + " failed");
  }
  return {};
}

std::string archive_message(struct archive* a, const std::string& what) {
  const char* e = ::archive_error_string(a);
  return what + ": " + (e != nullptr ? e : "unknown error");
}

std::string copy_data(struct archive* in, struct archive* out, const std::string& name) {
  const void* buf;
  size_t size;
  la_int64_t offset;
  for (;;) {
    int r = ::archive_read_data_block(in, &buf, &size, &offset);
    if (r == ARCHIVE_EOF) return "";
    if (r != ARCHIVE_OK) return archive_message(in, "reading " + name);
    if (::archive_write_data_block(out, buf, size, offset) != ARCHIVE_OK) {
      return archive_message(out, "writing " + name);
    }
  }
}

std::string tar_body(const std::string& path, const std::string& as_name, FollowLink follow,
                     int out_fd) {
  struct stat st {};
  int stat_result =
      follow == FollowLink::kYes ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st);
  if (stat_result < 0) return "!Could not find the file " + path + " in container";
  struct archive* disk = ::archive_read_disk_new();
  struct archive* out = ::archive_write_new();
  std::string error;
  if (follow == FollowLink::kYes) {
    ::archive_read_disk_set_symlink_hybrid(disk);  // the named path only
  } else {
    ::archive_read_disk_set_symlink_physical(disk);
  }
  ::archive_write_set_format_pax_restricted(out);
  if (::archive_write_open_fd(out, out_fd) != ARCHIVE_OK) {
    error = archive_message(out, "writing the tar stream");
  } else if (::archive_read_disk_open(disk, path.c_str()) != ARCHIVE_OK) {
    error = archive_message(disk, "reading " + path);
  }
  while (error.empty()) {
    struct archive_entry* entry = ::archive_entry_new();
    int r = ::archive_read_next_header2(disk, entry);
    if (r == ARCHIVE_EOF) {
      ::archive_entry_free(entry);
      break;
    }
    if (r < ARCHIVE_WARN) {
      error = archive_message(disk, "reading " + path);
      ::archive_entry_free(entry);
      break;
    }
    std::string name = ::archive_entry_pathname(entry);
    std::string renamed = as_name + name.substr(std::min(name.size(), path.size()));
    ::archive_entry_set_pathname(entry, renamed.c_str());
    if (::archive_write_header(out, entry) < ARCHIVE_WARN) {
      error = archive_message(out, "writing " + renamed);
    } else if (::archive_entry_filetype(entry) == AE_IFREG && ::archive_entry_size(entry) > 0) {
      const void* buf;
      size_t size;
      la_int64_t offset;
      for (;;) {
        int d = ::archive_read_data_block(disk, &buf, &size, &offset);
        if (d == ARCHIVE_EOF) break;
        if (d != ARCHIVE_OK) {
          error = archive_message(disk, "reading " + name);
          break;
        }
        if (::archive_write_data(out, buf, size) < 0) {
          error = archive_message(out, "writing " + renamed);
          break;
        }
      }
    }
    ::archive_read_disk_descend(disk);
    ::archive_entry_free(entry);
  }
  if (::archive_write_close(out) != ARCHIVE_OK && error.empty()) {
    error = archive_message(out, "writing the tar stream");
  }
  ::archive_read_free(disk);
  ::archive_write_free(out);
  return error;
}

std::string untar_body(const std::string& dir, int in_fd) {
  struct archive* in = ::archive_read_new();
  struct archive* out = ::archive_write_disk_new();
  ::archive_read_support_format_tar(in);
  ::archive_read_support_format_gnutar(in);
  ::archive_read_support_filter_all(in);
  ::archive_write_disk_set_options(
      out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER |
               ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
               ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
  std::string error;
  if (::chdir(dir.c_str()) < 0) {
    error = "!Could not find the directory " + dir + " in container";
  } else if (::archive_read_open_fd(in, in_fd, 65536) != ARCHIVE_OK) {
    error = archive_message(in, "reading the tar stream");
  }
  while (error.empty()) {
    struct archive_entry* entry;
    int r = ::archive_read_next_header(in, &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      error = archive_message(in, "reading the tar stream");
      break;
    }
    std::string name = ::archive_entry_pathname(entry);
    if (::archive_write_header(out, entry) < ARCHIVE_WARN) {
      error = archive_message(out, "extracting " + name);
      break;
    }
    if (::archive_entry_size(entry) > 0) error = copy_data(in, out, name);
    if (error.empty() && ::archive_write_finish_entry(out) < ARCHIVE_WARN) {
      error = archive_message(out, "extracting " + name);
    }
  }
  if (::archive_write_close(out) != ARCHIVE_OK && error.empty()) {
    error = archive_message(out, "extracting");
  }
  ::archive_read_free(in);
  ::archive_write_free(out);
  return error;
}

}  // namespace

Status tar_from_root(const std::string& root, const std::string& path, const std::string& as_name,
                     FollowLink follow, int out_fd) {
  return in_chroot(root, [&] { return tar_body(path, as_name, follow, out_fd); });
}

Status untar_into_root(const std::string& root, const std::string& dir, int in_fd) {
  return in_chroot(root, [&] { return untar_body(dir, in_fd); });
}

}  // namespace imgbuild::containers
