// The HTTP seam of the registry client: one request in, one response out. CurlTransport is the
// real implementation; tests substitute fakes so auth, retry and redirect logic run without a
// network. The transport never follows redirects and never retries: the session above it decides
// both, because credentials must not follow a redirect to another host and retries need the
// registry's view (Retry-After, resumable ranges).
//
// Thread safety: HttpTransport::perform may be called from several threads at once.
// Errors: perform() fails (ErrorKind::kNetwork) only when no HTTP response arrived or the body
// was cut short; every HTTP status, including 4xx/5xx, is a successful Result.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"
#include "registry-client/limits.h"

namespace imgbuild::registry {

// Header names are compared case-insensitively; stored as given.
using Headers = std::vector<std::pair<std::string, std::string>>;

// Returns the first header named `name` (case-insensitive), if any.
std::optional<std::string> find_header(const Headers& headers, std::string_view name);
// Every value of the header named `name`, in order.
std::vector<std::string> find_headers(const Headers& headers, std::string_view name);

// A request body read from a file descriptor range, so layers upload without being in memory.
struct FileBody {
  int fd = -1;  // borrowed; must stay open for the call
  uint64_t offset = 0;
  uint64_t length = 0;
};

enum class TlsVerify { kOn, kOff };

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  Headers headers;
  // At most one of body / file_body is used; a PUT/POST/PATCH without either sends length 0.
  std::string body;
  std::optional<FileBody> file_body;
  // When set, the body of a 2xx response is passed here in pieces (with the status, so a resumed
  // download can tell 206 from a full 200) instead of being collected; returning an error aborts
  // the transfer and perform() returns that error.
  std::function<Status(int status, std::string_view data)> sink;
  TlsVerify tls_verify = TlsVerify::kOn;
  // Cap on a collected 2xx body (non-sink requests); a larger one is a kLimit error. Error
  // bodies (non-2xx) are cut at kMaxErrorBodyBytes instead, keeping the status (limits.h).
  size_t max_body = kMaxResponseBodyBytes;
  // Seconds to connect, and seconds without progress before the transfer is abandoned.
  long connect_timeout = 30;
  long low_speed_timeout = 60;
};

struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;  // empty when the body went to the sink
  // Bytes passed to the sink (or collected) so far, for resuming an interrupted download.
  uint64_t body_bytes = 0;
  std::optional<std::string> header(std::string_view name) const {
    return find_header(headers, name);
  }
};

// When perform() fails part-way through a sink download, the bytes already delivered are reported
// here (the Error alone cannot carry them), so a retry can ask for the rest with Range.
struct TransferProgress {
  uint64_t delivered = 0;
  int status = 0;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual Result<HttpResponse> perform(const HttpRequest& request,
                                       TransferProgress* progress = nullptr) = 0;
};

// libcurl, with a pool of easy handles so connections are reused across calls and threads.
std::unique_ptr<HttpTransport> make_curl_transport();

// Strips the query string (which may carry upload state) and any user:password from a URL, for
// error messages.
std::string redact_url(std::string_view url);

}  // namespace imgbuild::registry
