#include "tests/integration/registry/test_image.h"

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/sha256.h"
#include "base/subprocess.h"
#include "base/sys.h"

namespace imgbuild::testing {
namespace {

std::string digest_of(const std::string& bytes) { return "sha256:" + Sha256::hex_of(bytes); }

}  // namespace

Result<std::string> must_run(const std::vector<std::string>& argv, const std::string& input) {
  ProcessOptions o;
  if (!input.empty()) o.stdin_data = input;
  auto r = TRY(run_process(argv, o));
  if (r.exit_code != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += a + " ";
    return fail(ErrorKind::kIo, cmd + "exited " + std::to_string(r.exit_code) + ": " + r.err);
  }
  return r.out;
}

Result<TestImage> make_test_image(const std::string& work_dir, int layers, LayerCompression c,
                                  const std::string& seed) {
  TestImage img;
  img.rootfs = work_dir + "/rootfs";
  TRY(fs::make_dirs(img.rootfs));
  nlohmann::json diff_ids = nlohmann::json::array();
  nlohmann::json history = nlohmann::json::array();
  for (int i = 0; i < layers; ++i) {
    std::string dir = work_dir + "/layer" + std::to_string(i);
    std::string sub = "/l" + std::to_string(i);
    TRY(fs::make_dirs(dir + sub + "/deep/er"));
    TRY(fs::write_file_atomic(dir + sub + "/hello.txt",
                              "hello " + seed + " " + std::to_string(i) + "\n"));
    TRY(fs::write_file_atomic(dir + sub + "/run.sh", "#!/bin/sh\necho " + seed + "\n", 0755));
    std::string big;
    for (int k = 0; k < 20000; ++k) big += seed + std::to_string(k * (i + 7)) + "\n";
    TRY(fs::write_file_atomic(dir + sub + "/deep/er/data.bin", big, 0600));
    TRY(sys::symlink_at("hello.txt", AT_FDCWD, dir + sub + "/link"));
    std::string tar = TRY(must_run({"tar", "--sort=name", "--owner=0", "--group=0",
                                    "--numeric-owner", "--mtime=@0", "-C", dir, "-cf", "-", "."}));
    TRY(must_run({"cp", "-a", dir + "/.", img.rootfs + "/"}));
    std::string compressed = c == LayerCompression::kGzip
                                 ? TRY(must_run({"gzip", "-n", "-c"}, tar))
                                 : TRY(must_run({"zstd", "-q", "-c"}, tar));
    TestBlob blob;
    blob.bytes = compressed;
    blob.digest = digest_of(compressed);
    blob.media_type = c == LayerCompression::kGzip ? "application/vnd.oci.image.layer.v1.tar+gzip"
                                                   : "application/vnd.oci.image.layer.v1.tar+zstd";
    img.layers.push_back(blob);
    diff_ids.push_back(digest_of(tar));
    history.push_back({{"created_by", "layer " + std::to_string(i)}});
  }
  nlohmann::json config = {{"architecture", "amd64"},
                           {"os", "linux"},
                           {"config", {{"Env", {"PATH=/usr/bin:/bin"}}, {"Cmd", {"/bin/sh"}}}},
                           {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}},
                           {"history", history}};
  img.config.bytes = config.dump();
  img.config.digest = digest_of(img.config.bytes);
  img.config.media_type = "application/vnd.oci.image.config.v1+json";
  nlohmann::json layer_list = nlohmann::json::array();
  for (const auto& l : img.layers) {
    layer_list.push_back(
        {{"mediaType", l.media_type}, {"digest", l.digest}, {"size", l.bytes.size()}});
  }
  nlohmann::json manifest = {{"schemaVersion", 2},
                             {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                             {"config",
                              {{"mediaType", img.config.media_type},
                               {"digest", img.config.digest},
                               {"size", img.config.bytes.size()}}},
                             {"layers", layer_list}};
  img.manifest.bytes = manifest.dump();
  img.manifest.digest = digest_of(img.manifest.bytes);
  img.manifest.media_type = "application/vnd.oci.image.manifest.v1+json";
  return img;
}

Status write_oci_layout(const TestImage& image, const std::string& dir, const std::string& tag) {
  TRY(fs::make_dirs(dir + "/blobs/sha256"));
  auto put = [&](const TestBlob& b) {
    return fs::write_file_atomic(dir + "/blobs/sha256/" + b.digest.substr(7), b.bytes);
  };
  for (const auto& l : image.layers) TRY(put(l));
  TRY(put(image.config));
  TRY(put(image.manifest));
  TRY(fs::write_file_atomic(dir + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
  nlohmann::json index = {{"schemaVersion", 2},
                          {"manifests",
                           {{{"mediaType", image.manifest.media_type},
                             {"digest", image.manifest.digest},
                             {"size", image.manifest.bytes.size()},
                             {"annotations", {{"org.opencontainers.image.ref.name", tag}}}}}}};
  return fs::write_file_atomic(dir + "/index.json", index.dump());
}

Result<std::string> tree_listing(const std::string& dir) {
  return must_run({"sh", "-c",
                   "cd \"$0\" && find . -mindepth 1 ! -name '.wh..wh..opq' -printf '%p %y %m %l\\n'"
                   " | sort && find . -type f -exec sha256sum {} + | sort -k2",
                   dir});
}

Status merge_layers(const std::vector<std::string>& layer_dirs, const std::string& out) {
  TRY(fs::make_dirs(out));
  for (const auto& d : layer_dirs) TRY(must_run({"cp", "-a", d + "/.", out + "/"}));
  return {};
}

}  // namespace imgbuild::testing
