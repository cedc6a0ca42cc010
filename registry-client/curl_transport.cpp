// HttpTransport over libcurl's easy interface. Each call borrows an easy handle from a pool (so
// keep-alive connections are reused) and runs it on the calling thread; parallel transfers are
// parallel calls from worker threads.
#include <curl/curl.h>
#include <strings.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <vector>

#include "base/sys.h"
#include "registry-client/http.h"

namespace imgbuild::registry {
namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;

struct SlistDeleter {
  void operator()(curl_slist* s) const { curl_slist_free_all(s); }
};
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

// State shared with the libcurl callbacks of one transfer.
struct Transfer {
  const HttpRequest* request = nullptr;
  CURL* curl = nullptr;
  HttpResponse response;
  std::optional<Error> sink_error;
  bool body_too_large = false;
  bool error_body_cut = false;
  uint64_t upload_pos = 0;
  int upload_errno = 0;
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    // A new status line (after 100 Continue, say) starts a new header block.
    t->response.headers.clear();
    size_t sp = line.find(' ');
    if (sp != std::string_view::npos) t->response.status = std::atoi(line.data() + sp + 1);
    return size * count;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  std::string_view name = line.substr(0, colon);
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  t->response.headers.emplace_back(std::string(name), std::string(value));
  return size * count;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  int status = t->response.status;
  bool success = status >= 200 && status < 300;
  if (t->request->sink && success) {
    auto st = t->request->sink(status, std::string_view(data, n));
    if (!st) {
      t->sink_error = st.error();
      return 0;  // aborts the transfer with CURLE_WRITE_ERROR
    }
  } else if (!success && t->response.body.size() + n > kMaxErrorBodyBytes) {
    // An error body is read only for its message: keep what fits and stop reading, so an endless
    // one costs nothing and the caller still sees the status.
    t->response.body.append(data, kMaxErrorBodyBytes - t->response.body.size());
    t->error_body_cut = true;
    return 0;
  } else {
    if (t->response.body.size() + n > t->request->max_body) {
      t->body_too_large = true;
      return 0;
    }
    t->response.body.append(data, n);
  }
  t->response.body_bytes += n;
  return n;
}

size_t on_upload(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t want = size * count;
  if (t->request->file_body) {
    const FileBody& fb = *t->request->file_body;
    uint64_t left = fb.length - t->upload_pos;
    if (want > left) want = static_cast<size_t>(left);
    if (want == 0) return 0;
    auto got = sys::pread_some(fb.fd, {buffer, want}, static_cast<off_t>(fb.offset + t->upload_pos),
                               "upload body");
    if (!got || *got == 0) {
      t->upload_errno = got ? EIO : got.error().errno_value();
      return CURL_READFUNC_ABORT;
    }
    t->upload_pos += *got;
    return *got;
  }
  const std::string& body = t->request->body;
  size_t left = body.size() - static_cast<size_t>(t->upload_pos);
  if (want > left) want = left;
  body.copy(buffer, want, static_cast<size_t>(t->upload_pos));
  t->upload_pos += want;
  return want;
}

class CurlTransport final : public HttpTransport {
 public:
  Result<HttpResponse> perform(const HttpRequest& request, TransferProgress* progress) override {
    CurlPtr handle = acquire();
    if (!handle) return fail(ErrorKind::kInternal, "curl_easy_init failed");
    CURL* c = handle.get();
    Transfer t;
    t.request = &request;
    t.curl = c;
    char errbuf[CURL_ERROR_SIZE] = {0};

    curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, request.connect_timeout);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, request.low_speed_timeout);
    curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L * 1024);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    long verify = request.tls_verify == TlsVerify::kOn ? 1L : 0L;
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, verify);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, verify * 2);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "imgbuild/0.1.0");

    bool has_body =
        request.method == "PUT" || request.method == "POST" || request.method == "PATCH";
    if (request.method == "HEAD") {
      curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (has_body) {
      uint64_t length = request.file_body ? request.file_body->length : request.body.size();
      curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(length));
      curl_easy_setopt(c, CURLOPT_READFUNCTION, on_upload);
      curl_easy_setopt(c, CURLOPT_READDATA, &t);
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    } else if (request.method != "GET") {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }

    curl_slist* raw = nullptr;
    for (const auto& [name, value] : request.headers) {
      raw = curl_slist_append(raw, (name + ": " + value).c_str());
    }
    // A 100-continue round trip per upload costs a full RTT (or a 1 s stall on servers that
    // ignore Expect); registries accept the body directly.
    raw = curl_slist_append(raw, "Expect:");
    SlistPtr header_list(raw);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, header_list.get());

    CURLcode rc = curl_easy_perform(c);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
    if (progress != nullptr) {
      progress->delivered = t.response.body_bytes;
      progress->status = t.response.status;
    }
    if (t.sink_error) {
      release(std::move(handle));
      return fail(*t.sink_error);
    }
    std::string subject = request.method + " " + redact_url(request.url);
    if (t.body_too_large) {
      release(std::move(handle));
      return fail(ErrorKind::kLimit,
                  subject + ": response body larger than " + limit_text(request.max_body));
    }
    if (t.error_body_cut) return std::move(t.response);  // the handle's connection was dropped
    if (rc != CURLE_OK) {
      std::string what = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
      if (t.upload_errno != 0) {
        return fail(Error::from_errno("read", "upload body", t.upload_errno).with_context(subject));
      }
      // A broken handle may hold a dead connection; do not return it to the pool.
      return fail(ErrorKind::kNetwork, subject + ": " + what);
    }
    release(std::move(handle));
    return std::move(t.response);
  }

 private:
  CurlPtr acquire() {
    {
      std::lock_guard lock(mu_);
      if (!pool_.empty()) {
        CurlPtr h = std::move(pool_.back());
        pool_.pop_back();
        curl_easy_reset(h.get());
        return h;
      }
    }
    return CurlPtr(curl_easy_init());
  }
  void release(CurlPtr handle) {
    std::lock_guard lock(mu_);
    if (pool_.size() < 16) pool_.push_back(std::move(handle));
  }

  std::mutex mu_;
  std::vector<CurlPtr> pool_;
};

}  // namespace

std::optional<std::string> find_header(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && ::strncasecmp(k.data(), name.data(), name.size()) == 0) {
      return v;
    }
  }
  return std::nullopt;
}

std::vector<std::string> find_headers(const Headers& headers, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && ::strncasecmp(k.data(), name.data(), name.size()) == 0) {
      out.push_back(v);
    }
  }
  return out;
}

std::string redact_url(std::string_view url) {
  std::string_view u = url.substr(0, url.find_first_of("?#"));
  size_t scheme = u.find("://");
  size_t host_start = scheme == std::string_view::npos ? 0 : scheme + 3;
  size_t path_start = u.find('/', host_start);
  std::string_view authority =
      u.substr(host_start, path_start == std::string_view::npos ? std::string_view::npos
                                                                : path_start - host_start);
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(u);
  std::string out(u.substr(0, host_start));
  out += authority.substr(at + 1);
  if (path_start != std::string_view::npos) out += u.substr(path_start);
  return out;
}

std::unique_ptr<HttpTransport> make_curl_transport() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  return std::make_unique<CurlTransport>();
}

}  // namespace imgbuild::registry
