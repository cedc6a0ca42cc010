// The build engine: `imgbuild build`. Turns a Dockerfile and a context directory into an image in
// the store (see docs/architecture.md, "A build, as data").
//
// build_image() parses and plans (builder/dockerfile), runs only the stages the target needs
// (independent stages of one wave in parallel threads), executes each instruction or reuses its
// cache record (build_cache.h), commits the target stage's config and layers as an OCI image and
// only then moves the tags, so a failed build leaves every tag where it was and no image behind
// (new layers of successful steps stay as cache, referenced by their cache records).
//
// Errors name the Dockerfile and line of the failing instruction ("Dockerfile:5: RUN false:
// process \"/bin/sh -c false\" did not complete successfully: exit code: 1"). The Store is shared
// with other processes safely (it locks); a StepRunner and Progress are borrowed for the call.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "builder/build_secret.h"
#include "builder/progress.h"
#include "builder/ssh_forward.h"
#include "builder/step_runner.h"
#include "image/compression.h"
#include "image/digest.h"
#include "image/reference.h"
#include "image/store.h"
#include "registry-client/client.h"

namespace imgbuild::builder {

struct BuildOptions {
  std::string context_dir;
  std::string dockerfile_path;  // for "<Dockerfile>.dockerignore"; empty for stdin
  std::string dockerfile_text;
  std::string dockerfile_name = "Dockerfile";  // labels errors
  std::vector<std::string> tags;
  std::map<std::string, std::string> build_args;
  std::string target;
  bool no_cache = false;
  // RUN's network (BuildKit's default: an own namespace with outbound access, the host's
  // loopback unreachable). `RUN --network=host` needs kHost here or allow_network_host.
  runtime::NetworkMode network = runtime::NetworkMode::kPrivate;
  bool allow_network_host = false;  // --allow network.host: BuildKit's network.host entitlement
  std::string platform;             // "linux/amd64"; empty: the host's
  image::Compression compression = image::Compression::kGzip;
  std::map<std::string, std::string> labels;
  std::optional<int64_t> source_date_epoch;
  std::map<std::string, BuildSecret> secrets;  // --secret, by id (RUN --mount=type=secret)
  // --ssh, by id (RUN --mount=type=ssh): agents opened for this build (builder/ssh_forward.h).
  std::map<std::string, std::shared_ptr<SshAgent>> ssh;
  // Pulls an image missing from the store (FROM, COPY --from=image). Empty: no pulling.
  std::function<Result<image::Image>(const image::Reference&)> pull;
  // `build --pull`: every image named by reference goes through pull even when the store has it,
  // so a moved tag is seen (pull caches nothing; the caller may).
  bool pull_always = false;
  // Credentials, TLS and retries for fetching layers a registry cache hit left on the registry
  // (image/remote_blobs.h).
  registry::ClientOptions registry;
  // --cache-to type=inline: the target stage's cache records go into the image config
  // (builder/cache_inline.h). Records a base image carried inline are never inherited.
  bool inline_cache = false;
};

struct BuildResult {
  image::Digest image_id;  // config digest
  image::Digest manifest_digest;
  int64_t manifest_size = 0;
  std::vector<image::Reference> tags;
  int steps_cached = 0;
  int steps_executed = 0;
  // The build cache records the build used or made (builder/cache_export.h): of the target stage
  // (with the stages it is based on), and of every stage built.
  std::vector<std::string> target_record_keys;
  std::vector<std::string> all_record_keys;
};

Result<BuildResult> build_image(const image::Store& store, const BuildOptions& options,
                                StepRunner& runner, Progress& progress);

}  // namespace imgbuild::builder
