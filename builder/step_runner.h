// StepRunner: the seam between the build engine and the kernel for RUN. The engine asks "run this
// command on these layers, writing changes into this upper directory"; the real runner
// (ContainerStepRunner) mounts imgfs over the layers with the upper and runs the command with the
// runtime; tests substitute a fake that edits the upper directory directly, so cache and
// dispatch logic is tested without FUSE or namespaces.
//
// After run() returns, `upper` holds exactly the command's changes as an OCI layer diff (the imgfs
// upper invariant), whatever the exit code. Implementations must be callable from several threads
// at once (parallel stages) with different requests.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "image/store.h"
#include "runtime/container.h"

namespace imgbuild::builder {

struct RunRequest {
  std::vector<std::string> lowers;  // unpacked layer directories, TOP first
  std::string upper;                // empty directory that receives the changes
  std::vector<std::string> args;
  std::vector<std::string> env;  // "K=V"
  std::string cwd = "/";
  std::string user;  // USER as written in the config (resolved in the image)
  runtime::NetworkMode network = runtime::NetworkMode::kHost;
  std::vector<runtime::BindMount> mounts;         // RUN --mount=type=cache|bind|secret
  std::vector<runtime::TmpfsMount> tmpfs_mounts;  // RUN --mount=type=tmpfs
  std::function<void(std::string_view)> output;   // stdout and stderr, as produced
};

class StepRunner {
 public:
  virtual ~StepRunner() = default;
  // The command's exit code (128+N after a signal); an error when it could not be started at all
  // (kNotFound executable, kRuntime setup failure).
  virtual Result<int> run(const RunRequest& request) = 0;
};

// The real runner: imgfs mount (in a staging dir of the store's tmp/, so crash recovery knows
// its owner) + runtime::Container.
// Settings of every RUN of one build (`build --shm-size`, `--add-host`, `--ulimit`).
struct ContainerStepOptions {
  uint64_t shm_size_bytes = 0;           // size of /dev/shm; 0: the runtime's 64 MiB
  std::vector<std::string> extra_hosts;  // "HOST:IP" for /etc/hosts (build --add-host)
  std::vector<runtime::Ulimit> ulimits;  // build --ulimit, as `run --ulimit`
};

class ContainerStepRunner final : public StepRunner {
 public:
  explicit ContainerStepRunner(image::Store store, ContainerStepOptions options = {})
      : store_(std::move(store)), options_(std::move(options)) {}
  Result<int> run(const RunRequest& request) override;

 private:
  image::Store store_;
  ContainerStepOptions options_;
};

}  // namespace imgbuild::builder
