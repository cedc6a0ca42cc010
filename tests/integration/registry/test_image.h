// Test images made with the system's tar, gzip and zstd (independent of imgbuild's own codec):
// a few layers of small files, an OCI config and manifest, written as an OCI layout for skopeo
// or loaded into a FaultRegistry. Also helpers to compare root filesystems.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"

namespace imgbuild::testing {

enum class LayerCompression { kGzip, kZstd };

struct TestBlob {
  std::string digest;  // "sha256:..."
  std::string bytes;
  std::string media_type;
};

struct TestImage {
  std::vector<TestBlob> layers;
  TestBlob config;
  TestBlob manifest;
  std::string rootfs;  // every layer's files merged (layers do not overlap)
};

// Builds `layers` layers under work_dir (which must exist) with distinct content per `seed`.
Result<TestImage> make_test_image(const std::string& work_dir, int layers, LayerCompression c,
                                  const std::string& seed);
// Writes an OCI image layout at dir with the image tagged `tag`.
Status write_oci_layout(const TestImage& image, const std::string& dir, const std::string& tag);
// "find"-style listing with types, modes, sizes, link targets and content hashes, sorted; two
// trees are the same when their listings are equal.
Result<std::string> tree_listing(const std::string& dir);
// Merges the unpacked layer directories (bottom first) into out by copying.
Status merge_layers(const std::vector<std::string>& layer_dirs, const std::string& out);
// Runs a command, failing with its stderr when it exits non-zero.
Result<std::string> must_run(const std::vector<std::string>& argv, const std::string& input = "");

}  // namespace imgbuild::testing
