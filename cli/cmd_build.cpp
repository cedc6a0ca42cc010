// imgbuild build [-f Dockerfile] [-t REF]... CONTEXT: builds an image from a Dockerfile (see
// builder/build_engine.h). Also what `imgbuild -f Dockerfile -t app .` runs. CONTEXT "-" reads
// stdin: a Dockerfile (empty context) or a context tar, decided by content as Docker does.
// Docker's flags that have no meaning here (--rm, --force-rm, --load, --isolation default) are
// accepted; those not implemented are refused naming the flag ("imgbuild build: --squash is not
// supported: ...").
#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <map>

#include "base/fs.h"
#include "base/sys.h"
#include "base/terminal_text.h"
#include "base/unique_fd.h"
#include "builder/build_engine.h"
#include "builder/cache_spec.h"
#include "builder/dockerfile/limits.h"
#include "builder/output_spec.h"
#include "builder/progress.h"
#include "builder/step_runner.h"
#include "cli/build_cache_io.h"
#include "cli/build_output.h"
#include "cli/command.h"
#include "cli/container_state.h"
#include "cli/escaping_progress.h"
#include "image/layer_extractor.h"
#include "image/platform.h"
#include "image/store.h"
#include "registry-client/pull.h"
#include "registry-client/push.h"
#include "runtime/etc_files.h"
#include "runtime/rlimits.h"

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
  std::vector<std::string> outputs;               // --output / -o (builder/output_spec.h)
  std::vector<std::string> cache_from, cache_to;  // builder/cache_spec.h
  std::vector<std::string> labels;
  std::vector<std::string> secrets;
  std::vector<std::string> ssh;      // --ssh default|ID=SOCKET|ID=KEY[,KEY]
  std::vector<std::string> ulimits;  // --ulimit NAME=SOFT[:HARD] for RUN steps
  std::string platform;
  std::string compression = "gzip";
  bool push = false;
  std::string context;
  // Docker's flags that CI scripts pass.
  bool pull = false;
  bool rm = true;  // accepted: there is no intermediate container to keep or remove
  bool force_rm = false;
  std::vector<std::string> add_hosts;
  std::string shm_size;
  std::string cgroup_parent;
  std::string isolation;
  bool load = false;  // accepted: the image always lands in the local store
  // Docker flags imgbuild does not implement, by flag name, with the values given.
  std::map<std::string, std::vector<std::string>> unsupported;
  std::map<std::string, bool> unsupported_switches;
};

// Docker's flags of `docker build` / `docker buildx build` that imgbuild does not implement, and
// why: a script that passes one gets this rather than CLI11's "argument was not expected".
const std::map<std::string, std::string>& unsupported_options() {
  static const std::map<std::string, std::string> kOptions = {
      {"--build-context", "named contexts are not implemented"},
      {"--builder", "there is one builder, imgbuild itself"},
      {"--attest", "attestations are not implemented"},
      {"--sbom", "SBOM attestations are not implemented"},
      {"--provenance", "provenance attestations are not implemented"},
      {"--annotation", "manifest annotations are not implemented"},
      {"--metadata-file", "not implemented"},
      {"--no-cache-filter", "use --no-cache"},
      {"--security-opt", "RUN steps always use the default profile"},
      {"--memory", "resource limits for RUN steps are not implemented"},
      {"--memory-swap", "resource limits for RUN steps are not implemented"},
      {"--cpu-shares", "resource limits for RUN steps are not implemented"},
      {"--cpu-period", "resource limits for RUN steps are not implemented"},
      {"--cpu-quota", "resource limits for RUN steps are not implemented"},
      {"--cpuset-cpus", "resource limits for RUN steps are not implemented"},
      {"--cpuset-mems", "resource limits for RUN steps are not implemented"},
      {"--call", "build checks and outlines are not implemented"},
  };
  return kOptions;
}

const std::map<std::string, std::string>& unsupported_switches() {
  static const std::map<std::string, std::string> kSwitches = {
      {"--squash", "layers are never squashed"},
      {"--check", "build checks are not implemented"},
  };
  return kSwitches;
}

// CLI11 names of the short forms Docker gives some of them.
std::string cli11_name(const std::string& flag) {
  if (flag == "--output") return "-o,--output";
  if (flag == "--memory") return "-m,--memory";
  if (flag == "--cpu-shares") return "-c,--cpu-shares";
  return flag;
}

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

Status check_docker_flags(const BuildFlags& f) {
  auto refuse = [](const std::string& flag, const std::string& why) {
    return fail(ErrorKind::kUnsupported, "--" + flag.substr(2) + " is not supported: " + why);
  };
  for (const auto& [flag, values] : f.unsupported) {
    if (!values.empty()) return refuse(flag, unsupported_options().at(flag));
  }
  for (const auto& [flag, set] : f.unsupported_switches) {
    if (set) return refuse(flag, unsupported_switches().at(flag));
  }
  if (!f.isolation.empty() && f.isolation != "default") {
    return refuse("--isolation",
                  "\"" + f.isolation + "\" (only \"default\": Linux namespaces, as on any Linux)");
  }
  for (const auto& entry : f.add_hosts) TRY(runtime::parse_extra_host(entry));
  return {};
}

// `docker build -` decides by content (cli/command/image/build/context.go): a compressed stream
// or a valid tar header is a context archive, anything else is a Dockerfile.
bool looks_like_archive(std::string_view head) {
  auto starts = [&](std::string_view magic) { return head.starts_with(magic); };
  if (starts("\x1f\x8b") || starts("BZh") ||
      starts("\xfd"
             "7zXZ") ||
      starts("\x28\xb5\x2f\xfd")) {
    return true;
  }
  if (head.size() < 512) return false;
  // ustar/v7 header checksum: the sum of the header's bytes with the checksum field as spaces.
  unsigned long sum = 0;
  for (size_t i = 0; i < 512; ++i) {
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(head[i]);
  }
  std::string field(head.substr(148, 8));
  char* end = nullptr;
  unsigned long want = std::strtoul(field.c_str(), &end, 8);
  return end != field.c_str() && want == sum;
}

// Reads stdin for `build -`: the Dockerfile text (the context stays empty) or a context tar,
// extracted into context_dir.
Status read_stdin_context(builder::BuildOptions& o, const std::string& context_dir,
                          const std::string& dockerfile_flag) {
  std::string staged = context_dir + ".stdin";
  {
    UniqueFd out(::open(staged.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!out) return fail_errno("open", staged);
    char buf[65536];
    while (true) {
      size_t n = TRY(sys::read_some(STDIN_FILENO, buf, "stdin"));
      if (n == 0) break;
      TRY(sys::write_all(out.get(), std::string_view(buf, n), staged));
    }
  }
  UniqueFd in(::open(staged.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in) return fail_errno("open", staged);
  char head[512];
  ssize_t got = ::pread(in.get(), head, sizeof head, 0);
  if (got < 0) return fail_errno("pread", staged);
  if (looks_like_archive(std::string_view(head, static_cast<size_t>(got)))) {
    TRY_CTX(image::extract_layer(in.get(), context_dir), "extracting the build context from stdin");
    std::string path =
        fs::join(context_dir, dockerfile_flag.empty() ? "Dockerfile" : dockerfile_flag);
    o.dockerfile_path = path;
    o.dockerfile_text = TRY_CTX(
        builder::dockerfile::read_file_limited(path, builder::dockerfile::kMaxDockerfileBytes),
        "reading the Dockerfile");
    auto slash = path.rfind('/');
    o.dockerfile_name = path.substr(slash + 1);
  } else {
    if (!dockerfile_flag.empty()) {
      return fail(ErrorKind::kInvalidArgument,
                  "-f " + dockerfile_flag +
                      ": with the Dockerfile on stdin (build -) there is no context to name it in");
    }
    o.dockerfile_text = TRY_CTX(builder::dockerfile::read_fd_limited(
                                    in.get(), "stdin", builder::dockerfile::kMaxDockerfileBytes),
                                "reading the Dockerfile from stdin");
    o.dockerfile_name = "Dockerfile";
    TRY(sys::mkdir_at(AT_FDCWD, context_dir, 0755));
  }
  return {};
}

Result<builder::BuildOptions> make_options(const BuildFlags& f, const std::string& stdin_context) {
  builder::BuildOptions o;
  o.context_dir = f.context;
  if (f.context == "-") {
    if (f.file == "-") {
      return fail(ErrorKind::kInvalidArgument,
                  "-f - and context - both read stdin: give the Dockerfile or the context there");
    }
    o.context_dir = stdin_context;
    TRY(read_stdin_context(o, stdin_context, f.file));
  } else if (f.file == "-") {
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
  for (const auto& text : f.ssh) {
    auto [id, source] = TRY(builder::parse_ssh_flag(text, std::getenv("SSH_AUTH_SOCK")));
    if (o.ssh.contains(id)) {
      return fail(ErrorKind::kInvalidArgument, "--ssh " + id + ": given twice");
    }
    o.ssh[id] = TRY(builder::SshAgent::open(id, source));
  }
  o.target = f.target;
  o.no_cache = f.no_cache;
  o.pull_always = f.pull;
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

// --add-host values as "HOST:IP" (Docker also takes HOST=IP).
std::vector<std::string> host_entries(const std::vector<std::string>& flags) {
  std::vector<std::string> out;
  for (const auto& entry : flags) out.push_back(*runtime::parse_extra_host(entry));  // checked
  return out;
}

Result<image::Image> pull_for_build(const image::Store& st, const image::Reference& ref,
                                    const std::string& platform, bool lazy) {
  registry::PullOptions po;
  if (lazy) po.layers = registry::LayerPolicy::kLeaveRemote;
  if (!platform.empty()) po.platform = TRY(image::Platform::parse(platform));
  auto pulled = TRY(registry::pull_image(st, ref, po));
  return st.load_image(pulled.manifest_digest);
}

int run_build(const BuildFlags& flags, const GlobalOptions& globals) {
  if (auto checked = check_docker_flags(flags); !checked) {
    std::fprintf(stderr, "imgbuild build: %s\n",
                 escape_control_chars(checked.error().message()).c_str());
    return 1;
  }
  uint64_t shm_size = 0;
  if (!flags.shm_size.empty()) {
    auto parsed = parse_size(flags.shm_size);
    if (!parsed || *parsed <= 0) {
      return report_error(
          Error(ErrorKind::kInvalidArgument,
                "--shm-size \"" + flags.shm_size + "\": expected a size such as 64m"));
    }
    shm_size = static_cast<uint64_t>(*parsed);
  }
  auto ulimits = runtime::parse_ulimit_flags(flags.ulimits);
  if (!ulimits) return report_error(ulimits.error());
  if (!flags.cgroup_parent.empty()) {
    print_warning("[Warning] --cgroup-parent " + flags.cgroup_parent +
                  " is ignored: RUN steps run in imgbuild's own cgroup");
  }
  // `build -`: the context (empty, or a tar from stdin) lives in a temp dir for this build.
  std::optional<fs::TempDir> stdin_dir;
  std::string stdin_context;
  if (flags.context == "-") {
    auto dir = fs::TempDir::create("/tmp", "imgbuild-context-");
    if (!dir) return report_error(dir.error());
    stdin_dir = std::move(*dir);
    stdin_context = fs::join(stdin_dir->path(), "context");
  }
  auto options = make_options(flags, stdin_context);
  if (!options) return report_error(options.error());
  builder::ProgressMode mode = builder::ProgressMode::kAuto;
  if (!builder::parse_progress_mode(flags.progress, &mode)) {
    return report_error(
        Error(ErrorKind::kInvalidArgument,
              "--progress \"" + flags.progress + "\": expected auto, plain, tty or quiet"));
  }
  if (flags.quiet) mode = builder::ProgressMode::kQuiet;
  std::vector<builder::OutputSpec> outputs;
  for (const auto& text : flags.outputs) {
    auto spec = builder::parse_output_spec(text);
    if (!spec) return report_error(spec.error());
    outputs.push_back(std::move(*spec));
  }
  if (auto checked = check_build_outputs(outputs); !checked) return report_error(checked.error());
  std::vector<builder::CacheSpec> cache_from, cache_to;
  for (const auto& text : flags.cache_from) {
    auto spec = builder::parse_cache_spec(text, "--cache-from");
    if (!spec) return report_error(spec.error());
    cache_from.push_back(std::move(*spec));
  }
  for (const auto& text : flags.cache_to) {
    auto spec = builder::parse_cache_spec(text, "--cache-to");
    if (!spec) return report_error(spec.error());
    if (spec->type != "local" && spec->type != "registry" && spec->type != "inline") {
      return report_error(
          Error(ErrorKind::kUnsupported,
                "--cache-to type=" + spec->type +
                    " is not implemented (type=local, type=registry and type=inline are)"));
    }
    if (spec->type == "inline") options->inline_cache = true;
    cache_to.push_back(std::move(*spec));
  }
  if (flags.push && flags.tags.empty()) {
    return report_error(Error(ErrorKind::kInvalidArgument, "--push needs at least one -t REF"));
  }
  auto store = image::Store::open(globals.root);
  if (!store) return report_error(store.error());
  const image::Store& st = *store;
  std::string platform = flags.platform;
  // With --pull each reference is pulled once per build, however many stages name it.
  auto pulled_once = std::make_shared<std::map<std::string, image::Image>>();
  auto lazy_from = std::make_shared<bool>(false);
  options->pull = [&st, platform, pulled_once,
                   lazy_from](const image::Reference& ref) -> Result<image::Image> {
    if (auto it = pulled_once->find(ref.str()); it != pulled_once->end()) return it->second;
    auto img = TRY(pull_for_build(st, ref, platform, *lazy_from));
    pulled_once->emplace(ref.str(), img);
    return img;
  };

  auto progress = escaping_progress(builder::make_progress(mode, stderr));
  builder::RegistryCacheOptions cache_options;
  cache_options.compression = options->compression;
  if (import_build_caches(st, cache_from, cache_options, *progress)) {
    // Steps cached in the registry need no base layers: FROM images come without them.
    *lazy_from = true;
  }
  builder::ContainerStepRunner runner(
      *store, builder::ContainerStepOptions{.shm_size_bytes = shm_size,
                                            .extra_hosts = host_entries(flags.add_hosts),
                                            .ulimits = *ulimits});
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
  if (auto exported = export_build_caches(*store, cache_to, *result, cache_options, *progress);
      !exported) {
    return report_error(exported.error());
  }
  BuildOutputContext built{.manifest_digest = result->manifest_digest,
                           .manifest_size = result->manifest_size,
                           .compression = options->compression,
                           .source_date_epoch = options->source_date_epoch};
  if (auto written = write_build_outputs(*store, outputs, built); !written) {
    return report_error(written.error());
  }
  if (!flags.iidfile.empty()) {
    auto written = fs::write_file_atomic(flags.iidfile, result->image_id.str(), 0644);
    if (!written) return report_error(written.error());
  }
  bool stdout_taken = std::any_of(outputs.begin(), outputs.end(), [](const auto& o) {
    return o.dest == "-" && o.type != builder::OutputSpec::Type::kLocal;
  });
  if (flags.quiet) {
    // With an output on stdout the image ID would corrupt it: --iidfile gives it instead.
    if (!stdout_taken) std::printf("%s\n", result->image_id.str().c_str());
  } else {
    progress->note("writing image " + result->image_id.str() + " done");
    for (const auto& t : result->tags) progress->note("naming to " + t.str() + " done");
  }
  return 0;
}

}  // namespace

IMGBUILD_COMMAND(
    build,
    Command{
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
          sub.add_option("--cache-from", flags->cache_from,
                         "Import build cache: type=local,src=DIR or type=registry,ref=REF (or REF)")
              ->allow_extra_args(false);
          sub.add_option("--cache-to", flags->cache_to,
                         "Export build cache: type=local,dest=DIR or type=registry,ref=REF"
                         "[,mode=min|max][,compression=gzip|zstd]")
              ->allow_extra_args(false);
          sub.add_option("-o,--output", flags->outputs,
                         "Output destination: DIR, -, or type=local|tar|oci|docker|image|"
                         "registry[,dest=PATH][,name=REF][,push=true]")
              ->allow_extra_args(false);
          sub.add_option("--label", flags->labels, "Add a label K=V (repeatable)");
          sub.add_option("--secret", flags->secrets,
                         "Secret for RUN --mount=type=secret: id=ID,src=FILE or id=ID,env=VAR")
              ->allow_extra_args(false);
          sub.add_option("--ssh", flags->ssh,
                         "SSH agent for RUN --mount=type=ssh: default|ID[=SOCKET|KEY[,KEY]]")
              ->allow_extra_args(false);
          sub.add_option("--ulimit", flags->ulimits,
                         "Resource limit for RUN steps: NAME=SOFT[:HARD]")
              ->allow_extra_args(false);
          sub.add_option("--platform", flags->platform, "Target platform OS/ARCH");
          sub.add_option("--compression", flags->compression,
                         "Layer compression for --push and --output: gzip (default), zstd, "
                         "estargz (lazily pullable) or none");
          sub.add_flag("--push", flags->push, "Push the image after building");
          sub.add_flag("--pull", flags->pull,
                       "Pull the FROM images from their registries even when present");
          sub.add_flag("--rm,!--no-rm", flags->rm,
                       "Accepted for Docker compatibility (no intermediate containers)");
          sub.add_flag("--force-rm", flags->force_rm,
                       "Accepted for Docker compatibility (no intermediate containers)");
          sub.add_option("--add-host", flags->add_hosts, "Add a HOST:IP entry to RUN's /etc/hosts");
          sub.add_option("--shm-size", flags->shm_size,
                         "Size of /dev/shm in RUN steps (default 64m)");
          sub.add_option("--cgroup-parent", flags->cgroup_parent, "Accepted; ignored (warning)");
          sub.add_option("--isolation", flags->isolation, "Container isolation: default");
          sub.add_flag("--load", flags->load, "Accepted: the image is always in the local store");
          for (const auto& [flag, why] : unsupported_options()) {
            sub.add_option(cli11_name(flag), flags->unsupported[flag], "Not supported: " + why)
                ->group("Docker flags imgbuild does not support");
          }
          for (const auto& [flag, why] : unsupported_switches()) {
            sub.add_flag(flag, flags->unsupported_switches[flag], "Not supported: " + why)
                ->group("Docker flags imgbuild does not support");
          }
          sub.add_option("context", flags->context,
                         "Build context directory, or - (a Dockerfile or a context tar on stdin)")
              ->required();
          return [flags, &globals] { return run_build(*flags, globals); };
        },
    });

}  // namespace imgbuild::cli
