// fetch_blob's resume logic against a scripted transport: what a cut download asks for next, and
// how the answer (206, or a registry that ignores Range and sends 200) becomes the blob.
#include <catch2/catch.hpp>

#include <mutex>

#include "base/fs.h"
#include "image/store.h"
#include "registry-client/blob_transfer.h"
#include "registry-client/session.h"

using namespace imgbuild;
using namespace imgbuild::registry;

namespace {

// Serves one blob. Each GET of it is answered from `plan` (one entry per request, the last one
// repeating): whether Range is honoured, the sizes of the pieces handed to the sink, and where
// the connection is cut (bytes of this response delivered before a network error; -1: never).
struct Answer {
  bool honour_range = true;
  size_t piece = 1000;
  int64_t cut_after = -1;
};

class BlobServer final : public HttpTransport {
 public:
  BlobServer(std::string blob, std::vector<Answer> plan)
      : blob_(std::move(blob)), plan_(std::move(plan)) {}

  Result<HttpResponse> perform(const HttpRequest& req, TransferProgress* progress) override {
    HttpResponse res;
    res.status = 200;
    if (req.url.ends_with("/v2/")) return res;
    Answer a;
    {
      std::lock_guard lock(mu_);
      a = plan_[std::min(gets_.size(), plan_.size() - 1)];
      gets_.push_back(find_header(req.headers, "Range").value_or(""));
    }
    size_t from = 0;
    size_t to = blob_.size();
    std::string range = find_header(req.headers, "Range").value_or("");
    if (!range.empty() && a.honour_range) {
      from = std::stoull(range.substr(std::string_view("bytes=").size()));
      if (size_t dash = range.find('-'); dash + 1 < range.size()) {
        to = std::stoull(range.substr(dash + 1)) + 1;
      }
      res.status = 206;
    }
    std::string_view body(blob_);
    body = body.substr(from, to - from);
    uint64_t delivered = 0;
    while (!body.empty()) {
      if (a.cut_after >= 0 && delivered >= static_cast<uint64_t>(a.cut_after)) {
        if (progress != nullptr) *progress = {.delivered = delivered, .status = res.status};
        return fail(ErrorKind::kNetwork, "GET " + req.url + ": Connection reset by peer");
      }
      size_t n = std::min(body.size(), a.piece);
      if (a.cut_after >= 0) n = std::min<size_t>(n, a.cut_after - delivered);
      TRY(req.sink(res.status, body.substr(0, n)));
      body.remove_prefix(n);
      delivered += n;
    }
    if (a.cut_after >= 0 && delivered >= static_cast<uint64_t>(a.cut_after)) {
      if (progress != nullptr) *progress = {.delivered = delivered, .status = res.status};
      return fail(ErrorKind::kNetwork, "GET " + req.url + ": Connection reset by peer");
    }
    res.body_bytes = delivered;
    return res;
  }

  std::vector<std::string> ranges() const {
    std::lock_guard lock(mu_);
    return gets_;
  }

 private:
  std::string blob_;
  std::vector<Answer> plan_;
  mutable std::mutex mu_;
  std::vector<std::string> gets_;  // the Range header of each blob GET ("" when none)
};

struct Fixture {
  fs::TempDir tmp = std::move(*fs::TempDir::create("/tmp", "imgbuild-blob-transfer-"));
  image::Store store = std::move(*image::Store::open(tmp.path() + "/store"));
  std::string bytes;
  image::Descriptor desc;
  int sleeps = 0;

  Fixture() {
    for (int i = 0; i < 10000; ++i) bytes += static_cast<char>('a' + (i * 7) % 26);
    desc.media_type = "application/vnd.oci.image.layer.v1.tar";
    desc.digest = image::Digest::of(bytes);
    desc.size = static_cast<int64_t>(bytes.size());
  }

  Status fetch(BlobServer& server, const BlobTee& tee = {}, LocalBytes* local = nullptr) {
    SessionOptions options;
    options.sleep = [this](std::chrono::milliseconds) { ++sleeps; };
    Session session(server, "127.0.0.1:5000", "app", Access::kPull, Credential{}, options);
    return fetch_blob(session, store, desc, nullptr, nullptr, tee, local);
  }

  // What a lazy mount left of the blob: the given ranges of it.
  image::PartialBlob partial(std::initializer_list<std::pair<int64_t, int64_t>> ranges) {
    auto p = image::PartialBlob::create(store, desc);
    REQUIRE(p);
    for (auto [begin, end] : ranges) {
      REQUIRE(p->add(begin, std::string_view(bytes).substr(begin, end - begin)));
    }
    return std::move(*p);
  }

  // fetch_blob (which must succeed) given those ranges of the blob: the Range headers it sent and
  // how many bytes it took from the store.
  std::pair<std::vector<std::string>, int64_t> assemble(
      std::initializer_list<std::pair<int64_t, int64_t>> ranges, std::vector<Answer> plan,
      int64_t min_range = 1) {
    auto stored = partial(ranges);
    LocalBytes local{.partial = stored, .min_range = min_range};
    BlobServer server(bytes, std::move(plan));
    auto st = fetch(server, {}, &local);
    INFO((st ? "" : st.error().message()));
    REQUIRE(st);
    return {server.ranges(), local.reused};
  }

  std::string stored() { return store.read_blob(desc.digest).value_or("<missing>"); }
};

}  // namespace

TEST_CASE("a cut download resumes with Range from the bytes already received") {
  Fixture f;
  BlobServer server(f.bytes, {Answer{.cut_after = 4321}, Answer{}});
  REQUIRE(f.fetch(server));
  CHECK(server.ranges() == std::vector<std::string>{"", "bytes=4321-"});
  CHECK(f.stored() == f.bytes);
}

TEST_CASE("a download cut twice resumes from the latest byte each time") {
  Fixture f;
  BlobServer server(f.bytes, {Answer{.cut_after = 3000}, Answer{.cut_after = 2500}, Answer{}});
  REQUIRE(f.fetch(server));
  CHECK(server.ranges() == std::vector<std::string>{"", "bytes=3000-", "bytes=5500-"});
  CHECK(f.stored() == f.bytes);
}

TEST_CASE("a registry that answers a Range request with 200 has the replayed prefix skipped") {
  Fixture f;
  // Pieces of exactly the resumed length: the replayed prefix ends on a piece boundary.
  using Case = std::pair<size_t, int64_t>;  // piece size, resumed length
  Case c = GENERATE(Case{1000, 3000}, Case{999, 3000}, Case{4096, 1});
  size_t piece = c.first;
  int64_t cut = c.second;
  BlobServer server(f.bytes, {Answer{.piece = piece, .cut_after = cut},
                              Answer{.honour_range = false, .piece = piece}});
  REQUIRE(f.fetch(server));
  CHECK(server.ranges() == std::vector<std::string>{"", "bytes=" + std::to_string(cut) + "-"});
  CHECK(f.stored() == f.bytes);
}

TEST_CASE("a connection cut after the last byte needs no resume") {
  Fixture f;
  BlobServer server(f.bytes, {Answer{.cut_after = 10000}});
  REQUIRE(f.fetch(server));
  CHECK(server.ranges() == std::vector<std::string>{""});
  CHECK(f.stored() == f.bytes);
}

TEST_CASE("a download that keeps being cut ends in an error and nothing enters the store") {
  Fixture f;
  BlobServer server(f.bytes, {Answer{.cut_after = 0}});
  auto st = f.fetch(server);
  REQUIRE(!st);
  CHECK(st.error().kind() == ErrorKind::kNetwork);
  CHECK(!f.store.has_blob(f.desc.digest));
}

TEST_CASE("a blob the store holds in part is assembled in order from its bytes and the gaps") {
  Fixture f;
  auto partial = f.partial({{1000, 3000}, {6000, 7000}, {2500, 4000}});
  LocalBytes local{.partial = partial, .min_range = 1};
  std::string fed;
  BlobTee tee{.feed = [&](std::string_view data) -> Status {
    fed.append(data);
    return {};
  }};
  BlobServer server(f.bytes, {Answer{}});
  REQUIRE(f.fetch(server, tee, &local));
  CHECK(server.ranges() ==
        std::vector<std::string>{"bytes=0-999", "bytes=4000-5999", "bytes=7000-"});
  CHECK(local.reused == 4000);
  CHECK(fed == f.bytes);
  CHECK(f.stored() == f.bytes);
}

TEST_CASE("a gap cut short resumes within the gap") {
  Fixture f;
  auto [ranges, reused] = f.assemble({{5000, 6000}}, {Answer{.cut_after = 1234}, Answer{}});
  CHECK(ranges == std::vector<std::string>{"bytes=0-4999", "bytes=1234-4999", "bytes=6000-"});
  CHECK(reused == 1000);
  CHECK(f.stored() == f.bytes);
}

TEST_CASE("a blob the store holds whole in part needs no request") {
  Fixture f;
  auto [ranges, reused] = f.assemble({{0, 6000}, {6000, 10000}}, {Answer{}});
  CHECK(ranges.empty());
  CHECK(reused == 10000);
  CHECK(f.stored() == f.bytes);
}

TEST_CASE("a registry that ignores Range for a gap sends the rest of the blob") {
  Fixture f;
  auto [ranges, reused] = f.assemble({{1000, 3000}, {6000, 7000}},
                                     {Answer{}, Answer{.honour_range = false, .piece = 999}});
  CHECK(ranges == std::vector<std::string>{"bytes=0-999", "bytes=3000-5999"});
  CHECK(reused == 2000);
  CHECK(f.stored() == f.bytes);
}

TEST_CASE("wrong bytes in a partial blob fail the digest check and nothing enters the store") {
  Fixture f;
  auto partial = f.partial({{1000, 3000}});
  REQUIRE(partial.add(2000, "X"));
  LocalBytes local{.partial = partial, .min_range = 1};
  BlobServer server(f.bytes, {Answer{}});
  auto st = f.fetch(server, {}, &local);
  REQUIRE_FALSE(st);
  CHECK(st.error().kind() == ErrorKind::kCorrupt);
  CHECK(st.error().message().find("digest mismatch") != std::string::npos);
  CHECK_FALSE(f.store.has_blob(f.desc.digest));
}

TEST_CASE("stored ranges too short to be worth a request are downloaded with their gaps") {
  Fixture f;
  auto [ranges, reused] = f.assemble({{1000, 1100}, {5000, 8000}}, {Answer{}}, 1000);
  CHECK(ranges == std::vector<std::string>{"bytes=0-4999", "bytes=8000-"});
  CHECK(reused == 3000);
  CHECK(f.stored() == f.bytes);
}
