#include "builder/url_fetch.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <memory>
#include <optional>

#include "base/fs.h"
#include "base/sha256.h"
#include "base/sys.h"

namespace imgbuild::builder {
namespace {

struct Sink {
  int fd;
  const std::string& file;
  Sha256* hash;
  std::optional<Error> error = std::nullopt;  // the failed write, errno and all
};

size_t write_cb(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t len = size * n;
  if (auto written = sys::write_all(sink->fd, std::string_view(data, len), sink->file); !written) {
    sink->error = written.error();
    return 0;
  }
  sink->hash->update(data, len);
  return len;
}

}  // namespace

bool is_url(std::string_view source) {
  return source.starts_with("http://") || source.starts_with("https://");
}

Result<FetchedFile> fetch_url(const std::string& url, const std::string& dir,
                              const std::string& checksum) {
  std::string path = url.substr(0, url.find_first_of("?#"));
  auto scheme = path.find("://");
  path = path.substr(scheme + 3);
  auto slash = path.find('/');
  std::string name = slash == std::string::npos ? "" : path.substr(path.rfind('/') + 1);
  if (name.empty()) name = "download";
  std::string file = fs::join(dir, name);
  UniqueFd fd = TRY(sys::open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600));
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return fail(ErrorKind::kNetwork, "ADD " + url + ": curl_easy_init failed");
  Sha256 hash;
  Sink sink{fd.get(), file, &hash};
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl.get(), CURLOPT_FILETIME, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  CURLcode rc = curl_easy_perform(curl.get());
  if (sink.error) return fail(std::move(*sink.error).with_context("ADD " + url));
  if (rc != CURLE_OK) {
    return fail(ErrorKind::kNetwork, "ADD " + url + ": " + curl_easy_strerror(rc));
  }
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  if (status >= 400) {
    // An arbitrary web server, not a registry: say what it answered.
    ErrorKind kind = status == 404 || status == 410   ? ErrorKind::kNotFound
                     : status == 401 || status == 403 ? ErrorKind::kPermission
                                                      : ErrorKind::kNetwork;
    return fail(kind, "ADD " + url + ": invalid response status: the server answered HTTP " +
                          std::to_string(status));
  }
  FetchedFile out{name, hash.finish_hex()};
  if (!checksum.empty() && checksum != "sha256:" + out.sha256_hex) {
    return fail(ErrorKind::kCorrupt,
                "ADD " + url + ": digest mismatch " + checksum + ": got sha256:" + out.sha256_hex);
  }
  curl_off_t filetime = -1;
  curl_easy_getinfo(curl.get(), CURLINFO_FILETIME_T, &filetime);
  if (filetime >= 0) {
    struct timespec times[2] = {{static_cast<time_t>(filetime), 0},
                                {static_cast<time_t>(filetime), 0}};
    (void)::futimens(fd.get(), times);
  }
  return out;
}

}  // namespace imgbuild::builder
