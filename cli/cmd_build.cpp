// imgbuild build [-f Dockerfile] [-t REF]... CONTEXT: builds an image from a Dockerfile (see
// builder/build_engine.h). Also what `imgbuild -f Dockerfile -t app .` runs.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <map>

#include "base/fs.h"
#include "base/sys.h"
#include "builder/build_engine.h"
#include "builder/dockerfile/limits.h"
#include "builder/progress.h"
#include "builder/step_runner.h"
#include "cli/command.h"
#include "cli/escaping_progress.h"
#include "image/platform.h"
#include "image/store.h"
#include "registry-client/pull.h"
#include "registry-client/push.h"

namespace imgbuild::cli {
namespace {

struct BuildFlags {
  std::string file;
  std::vector<std::string> tags;
  std::vector<std::string> build_args;
  std::string target;
  bool no_cache = false;
  std::string network = "default";
  std::vector<std::string> allow;
  std::string progress = "auto";
  bool quiet = false;
  std::string iidfile;
  std::vector<std::string> labels;
  std::vector<std::string> secrets;
  std::string platform;
  std::string compression = "gzip";
  bool push = false;
  std::string context;
};

Result<std::pair<std::string, std::string>> split_kv(const std::string& text, const char* flag) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return fail(ErrorKind::kInvalidArgument,
                std::string(flag) + " \"" + text + "\": expected KEY=VALUE");
  }
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

// RUN steps of a build for another architecture run through a binfmt_misc emulator
// (qemu-user-static registers "qemu-<cpu>"); without one the build would produce a mislabelled
// image or fail deep inside a RUN. An amd64 machine runs 386 natively.
Status check_platform_runnable(const std::string& flag) {
  image::Platform wanted = TRY(image::Platform::parse(flag));
  image::Platform host = image::Platform::host();
  if (wanted.architecture == host.architecture) return {};
  if (host.architecture == "amd64" && wanted.architecture == "386") return {};
  static const std::map<std::string, std::string> kQemuNames = {
      {"arm64", "aarch64"},   {"arm", "arm"},     {"386", "i386"},        {"amd64", "x86_64"},
      {"ppc64le", "ppc64le"}, {"s390x", "s390x"}, {"riscv64", "riscv64"}, {"mips64le", "mips64el"}};
  auto it = kQemuNames.find(wanted.architecture);
  std::string cpu = it == kQemuNames.end() ? wanted.architecture : it->second;
  auto handler = fs::read_file("/proc/sys/fs/binfmt_misc/qemu-" + cpu);
  if (handler && handler->starts_with("enabled\n")) return {};
  return fail(ErrorKind::kUnsupported, "--platform " + flag + ": this machine runs " + host.str() +
                                           " and has no emulator for " + wanted.architecture +
                                           " (install qemu-user-static and binfmt-support)");
}

Result<builder::BuildOptions> make_options(const BuildFlags& f) {
  builder::BuildOptions o;
  o.context_dir = f.context;
  if (f.file == "-") {
    o.dockerfile_text =
        TRY_CTX(builder::dockerfile::read_fd_limited(STDIN_FILENO, "stdin",
                                                     builder::dockerfile::kMaxDockerfileBytes),
                "reading the Dockerfile from stdin");
    o.dockerfile_name = "Dockerfile";
  } else {
    std::string path = f.file.empty() ? fs::join(f.context, "Dockerfile") : f.file;
    o.dockerfile_path = path;
    o.dockerfile_text = TRY_CTX(
        builder::dockerfile::read_file_limited(path, builder::dockerfile::kMaxDockerfileBytes),
        "reading the Dockerfile");
    auto slash = path.rfind('/');
    o.dockerfile_name = slash == std::string::npos ? path : path.substr(slash + 1);
  }
  o.tags = f.tags;
  for (const auto& a : f.build_args) {
    auto eq = a.find('=');
    if (eq == std::string::npos) {
      // `--build-arg NAME` takes the value from the environment, as docker does.
      if (const char* v = std::getenv(a.c_str())) o.build_args[a] = v;
      continue;
    }
    o.build_args[a.substr(0, eq)] = a.substr(eq + 1);
  }
  for (const auto& l : f.labels) {
    auto kv = TRY(split_kv(l, "--label"));
    o.labels[kv.first] = kv.second;
  }
  for (const auto& text : f.secrets) {
    auto [id, secret] = TRY(builder::parse_secret_flag(text));
    o.secrets[id] = secret;
  }
  o.target = f.target;
  o.no_cache = f.no_cache;
  if (f.network == "none") {
    o.network = runtime::NetworkMode::kNone;
  } else if (f.network == "host") {
    o.network = runtime::NetworkMode::kHost;
  } else if (f.network == "default") {
    o.network = runtime::NetworkMode::kPrivate;
  } else {
    return fail(ErrorKind::kInvalidArgument,
                "--network \"" + f.network + "\": expected host, none or default");
  }
  for (const auto& entitlement : f.allow) {
    if (entitlement == "network.host") {
      o.allow_network_host = true;
    } else {
      return fail(ErrorKind::kUnsupported,
                  "--allow " + entitlement + ": not supported (supported: network.host)");
    }
  }
  if (!f.platform.empty()) TRY(check_platform_runnable(f.platform));
  o.platform = f.platform;
  o.compression = TRY_CTX(image::parse_compression(f.compression), "--compression");
  std::string epoch;
  if (const char* sde = std::getenv("SOURCE_DATE_EPOCH"); sde != nullptr && *sde != '\0') {
    epoch = sde;
  }
  if (auto it = o.build_args.find("SOURCE_DATE_EPOCH"); it != o.build_args.end()) {
    epoch = it->second;
  }
  if (!epoch.empty()) {
    char* end = nullptr;
    long long v = std::strtoll(epoch.c_str(), &end, 10);
    if (end == nullptr || *end != '\0' || v < 0) {
      return fail(ErrorKind::kInvalidArgument,
                  "SOURCE_DATE_EPOCH \"" + epoch + "\": expected a number of seconds");
    }
    o.source_date_epoch = v;
  }
  return o;
}

int run_build(const BuildFlags& flags, const GlobalOptions& globals) {
  auto options = make_options(flags);
  if (!options) return report_error(options.error());
  builder::ProgressMode mode = builder::ProgressMode::kAuto;
  if (!builder::parse_progress_mode(flags.progress, &mode)) {
    return report_error(
        Error(ErrorKind::kInvalidArgument,
              "--progress \"" + flags.progress + "\": expected auto, plain, tty or quiet"));
  }
  if (flags.quiet) mode = builder::ProgressMode::kQuiet;
  if (flags.push && flags.tags.empty()) {
    return report_error(Error(ErrorKind::kInvalidArgument, "--push needs at least one -t REF"));
  }
  auto store = image::Store::open(globals.root);
  if (!store) return report_error(store.error());
  const image::Store& st = *store;
  std::string platform = flags.platform;
  options->pull = [&st, platform](const image::Reference& ref) -> Result<image::Image> {
    registry::PullOptions po;
    if (!platform.empty()) po.platform = TRY(image::Platform::parse(platform));
    auto pulled = TRY(registry::pull_image(st, ref, po));
    return st.load_image(pulled.manifest_digest);
  };
  auto progress = escaping_progress(builder::make_progress(mode, stderr));
  builder::ContainerStepRunner runner(*store);
  auto result = builder::build_image(*store, *options, runner, *progress);
  progress->finish();
  if (!result) return report_error(result.error());
  if (flags.push) {
    for (const auto& t : result->tags) {
      registry::PushOptions push_options;
      push_options.compression = options->compression;
      auto pushed = registry::push_image(*store, t.str(), t, push_options);
      if (!pushed) return report_error(pushed.error().with_context("pushing " + t.familiar()));
      progress->note("pushed " + t.familiar() + "@" + pushed->manifest_digest.str());
    }
  }
  if (!flags.iidfile.empty()) {
    auto written = fs::write_file_atomic(flags.iidfile, result->image_id.str(), 0644);
    if (!written) return report_error(written.error());
  }
  if (flags.quiet) {
    std::printf("%s\n", result->image_id.str().c_str());
  } else {
    progress->note("writing image " + result->image_id.str() + " done");
    for (const auto& t : result->tags) progress->note("naming to " + t.str() + " done");
  }
  return 0;
}

}  // namespace

IMGBUILD_COMMAND(
    build, Command{
               .name = "build",
               .description = "Build an image from a Dockerfile",
               .setup = [](CLI::App& sub, const GlobalOptions& globals) -> Runner {
                 auto flags = std::make_shared<BuildFlags>();
                 sub.add_option("-f,--file", flags->file,
                                "Dockerfile (default CONTEXT/Dockerfile; - reads stdin)");
                 sub.add_option("-t,--tag", flags->tags, "Name and tag the image (repeatable)");
                 sub.add_option("--build-arg", flags->build_args, "Set a build arg K=V");
                 sub.add_option("--target", flags->target, "Build this stage");
                 sub.add_flag("--no-cache", flags->no_cache, "Do not use the build cache");
                 sub.add_option("--network", flags->network,
                                "RUN network: default (own namespace, outbound only), host, none");
                 sub.add_option("--allow", flags->allow,
                                "Grant an entitlement: network.host (RUN --network=host)");
                 sub.add_option("--progress", flags->progress, "auto, plain, tty or quiet");
                 sub.add_flag("-q,--quiet", flags->quiet, "Print only the image ID");
                 sub.add_option("--iidfile", flags->iidfile, "Write the image ID to a file");
                 sub.add_option("--label", flags->labels, "Add a label K=V (repeatable)");
                 sub.add_option(
                        "--secret", flags->secrets,
                        "Secret for RUN --mount=type=secret: id=ID,src=FILE or id=ID,env=VAR")
                     ->allow_extra_args(false);
                 sub.add_option("--platform", flags->platform, "Target platform OS/ARCH");
                 sub.add_option("--compression", flags->compression,
                                "Layer compression for --push: gzip (default), zstd or none");
                 sub.add_flag("--push", flags->push, "Push the image after building");
                 sub.add_option("context", flags->context, "Build context directory")->required();
                 return [flags, &globals] { return run_build(*flags, globals); };
               },
           });

}  // namespace imgbuild::cli
