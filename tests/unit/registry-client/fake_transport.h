// A scripted HttpTransport for unit tests: a handler answers each request; every request is
// recorded (headers included) so tests can assert what was sent, and to whom.
#pragma once

#include <functional>
#include <mutex>
#include <vector>

#include "registry-client/http.h"

namespace imgbuild::registry::testing {

class FakeTransport final : public HttpTransport {
 public:
  using Handler = std::function<Result<HttpResponse>(const HttpRequest&)>;
  explicit FakeTransport(Handler handler) : handler_(std::move(handler)) {}

  Result<HttpResponse> perform(const HttpRequest& request, TransferProgress* progress) override {
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
    }
    auto r = handler_(request);
    if (r && request.sink && r->status >= 200 && r->status < 300) {
      auto st = request.sink(r->status, r->body);
      if (!st) return std::unexpected(st.error());
      r->body_bytes = r->body.size();
      r->body.clear();
    }
    if (progress != nullptr && r) progress->status = r->status;
    return r;
  }

  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  Handler handler_;
  mutable std::mutex mu_;
  std::vector<HttpRequest> requests_;
};

inline HttpResponse response(int status, std::string body = "", Headers headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

}  // namespace imgbuild::registry::testing
