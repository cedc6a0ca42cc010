// Garbage collection fails closed: whatever it cannot read among the things that keep blobs and
// layers alive (a roots directory, a manifest, a config) aborts it before anything is deleted.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "base/dir_reader.h"
#include "base/fs.h"
#include "image/media_types.h"
#include "image/store.h"
#include "image/store_state.h"

using namespace imgbuild;
using namespace imgbuild::image;

namespace {

struct GcStore {
  fs::TempDir dir = *fs::TempDir::create("/tmp", "imgbuild-gc-fault-test-");
  Store store = *Store::open(fs::join(dir.path(), "root"));
  StorePaths paths{store.root()};
  CommittedImage kept;
  Digest loose;
  Digest unused_layer = Digest::of("unused-layer");

  GcStore() {
    Digest layer = *store.put_blob("layer");
    ImageConfig config;
    config.architecture = "amd64";
    config.os = "linux";
    config.diff_ids.push_back(Digest::of("layer-diff"));
    Descriptor d{.media_type = std::string(media_types::kOciLayerGzip), .digest = layer, .size = 5};
    kept = *store.commit_image(config, {d});
    REQUIRE(store.tag(*Reference::parse("kept"), kept.manifest_digest));
    loose = *store.put_blob("loose");
    REQUIRE(fs::make_dirs(store.layer_path(unused_layer)));
    REQUIRE(fs::make_dirs(store.containers_dir()));
  }

  // Nothing collectable was collected.
  void check_untouched() const {
    CHECK(store.has_blob(loose));
    CHECK(store.has_layer(unused_layer));
    CHECK(store.has_blob(kept.manifest_digest));
  }
};

fs::DirLister failing_on(std::string bad, int err) {
  return [bad = std::move(bad), err](const std::string& path) -> Result<std::vector<std::string>> {
    if (path == bad) return fail(Error::from_errno("readdir", path, err));
    return fs::list_dir(path, fs::MissingDir::kIsEmpty);
  };
}

void overwrite(const std::string& path, std::string_view data) {
  ::chmod(path.c_str(), 0644);
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
  ::close(fd);
}

}  // namespace

TEST_CASE("gc: an I/O error listing a roots directory aborts with the path, deleting nothing") {
  GcStore t;
  for (const std::string& dir : {t.store.containers_dir(), t.store.cache_records_dir(),
                                 t.store.mounts_dir(), t.paths.blobs, t.paths.layers}) {
    INFO(dir);
    auto report = prune_locked(t.store, t.paths, PruneMode::kUnreferenced, failing_on(dir, EIO));
    REQUIRE(!report);
    CHECK(report.error().message().find(dir) != std::string::npos);
    CHECK(report.error().errno_value() == EIO);
    t.check_untouched();
  }
  // The same store collects once the directory reads again.
  auto report = prune_locked(t.store, t.paths, PruneMode::kUnreferenced);
  REQUIRE(report);
  CHECK(!t.store.has_blob(t.loose));
  CHECK(!t.store.has_layer(t.unused_layer));
}

TEST_CASE("gc: a roots directory that is not a directory aborts prune") {
  GcStore t;
  REQUIRE(fs::remove_tree(t.store.containers_dir()));
  REQUIRE(fs::write_file_atomic(t.store.containers_dir(), "not a directory"));
  auto report = t.store.prune();
  REQUIRE(!report);
  CHECK(report.error().errno_value() == ENOTDIR);
  CHECK(report.error().message().find(t.store.containers_dir()) != std::string::npos);
  t.check_untouched();
}

TEST_CASE("gc: a missing roots directory is an empty one") {
  GcStore t;
  REQUIRE(fs::remove_tree(t.store.containers_dir()));
  REQUIRE(t.store.prune());
  CHECK(!t.store.has_blob(t.loose));
}

TEST_CASE("gc: a tagged manifest that cannot be verified or parsed aborts prune") {
  GcStore t;
  overwrite(t.store.blob_path(t.kept.manifest_digest), "{not json");
  auto report = t.store.prune();
  REQUIRE(!report);
  CHECK(report.error().message().find(t.kept.manifest_digest.str()) != std::string::npos);
  t.check_untouched();
}

TEST_CASE("gc: an unparsable config of a live manifest aborts prune; a missing one does not") {
  GcStore t;
  REQUIRE(t.store.has_blob(t.kept.config_digest));
  std::string config_path = t.store.blob_path(t.kept.config_digest);
  std::string saved = *fs::read_file(config_path);
  overwrite(config_path, "[]");
  auto report = t.store.prune();
  REQUIRE(!report);
  CHECK(report.error().message().find(t.kept.config_digest.str()) != std::string::npos);
  t.check_untouched();

  REQUIRE(::unlink(config_path.c_str()) == 0);
  REQUIRE(t.store.prune());
  CHECK(!t.store.has_blob(t.loose));
  CHECK(t.store.has_blob(t.kept.manifest_digest));
}
