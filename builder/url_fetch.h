// ADD <url>: downloads one URL (http, https) into a directory with libcurl, as Docker's ADD does:
// the file is named after the last path component of the URL (or "download"), mode 0600, its
// mtime taken from Last-Modified when the server sends one. With an expected checksum
// ("sha256:<hex>") the content must match (kCorrupt otherwise). Errors name the URL and the HTTP
// status (kNotFound for 404/410, kPermission for 401/403, kNetwork otherwise) or keep the failed
// write's errno (ENOSPC). Thread-safe (one curl handle per call).
#pragma once

#include <string>

#include "base/error.h"

namespace imgbuild::builder {

struct FetchedFile {
  std::string name;  // file name inside dir
  std::string sha256_hex;
};

Result<FetchedFile> fetch_url(const std::string& url, const std::string& dir,
                              const std::string& checksum);

bool is_url(std::string_view source);

}  // namespace imgbuild::builder
