// RUN: the command runs on an imgfs mount of the stage's layers with a fresh upper directory,
// which then is the layer. --mount=type=cache|tmpfs|bind|secret|ssh and --network as BuildKit.
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <string_view>

#include "base/fs.h"
#include "base/sha256.h"
#include "base/sys.h"
#include "builder/build_secret.h"
#include "builder/context_mask.h"
#include "builder/ssh_forward.h"
#include "builder/stage_builder.h"
#include "fs/mount.h"
#include "runtime/bind_source.h"

namespace imgbuild::builder {

namespace df = dockerfile;

namespace {

// "type=cache,target=/x,id=y" -> {type: cache, target: /x, id: y}; bare words are flags ("ro").
std::map<std::string, std::string> parse_mount_spec(std::string_view spec) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    if (comma == std::string_view::npos) comma = spec.size();
    std::string_view field = spec.substr(start, comma - start);
    auto eq = field.find('=');
    if (!field.empty()) {
      out[std::string(field.substr(0, eq))] =
          eq == std::string_view::npos ? "true" : std::string(field.substr(eq + 1));
    }
    start = comma + 1;
  }
  if (!out.contains("type")) out["type"] = "bind";
  if (out.contains("dst")) out["target"] = out["dst"];
  if (out.contains("destination")) out["target"] = out["destination"];
  if (out.contains("src")) out["source"] = out["src"];
  if (out.contains("readonly")) out["ro"] = out["readonly"];
  return out;
}

// The script of a shell-form RUN with heredocs: a lone "<<EOF" runs the heredoc as the script;
// otherwise the heredoc bodies are appended so the shell feeds them to the command.
std::string shell_script(const df::CommandLine& cmd) {
  std::string text = cmd.args.empty() ? std::string() : cmd.args[0];
  if (cmd.files.empty()) return text;
  std::string trimmed = text;
  while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\n')) trimmed.pop_back();
  if (cmd.files.size() == 1 && trimmed.starts_with("<<") &&
      trimmed.find(' ') == std::string::npos) {
    return cmd.files[0].data;
  }
  std::string out = text;
  if (!out.ends_with('\n')) out += '\n';
  for (const auto& f : cmd.files) {
    out += f.data;
    if (!f.data.empty() && !f.data.ends_with('\n')) out += '\n';
    out += f.name + "\n";
  }
  return out;
}

// A numeric field of a --mount value (mode in octal, uid and gid in decimal), or fallback.
Result<unsigned long> mount_number(std::map<std::string, std::string>& spec, const char* key,
                                   unsigned long fallback, int base) {
  if (!spec.contains(key)) return fallback;
  const std::string& v = spec[key];
  char* end = nullptr;
  unsigned long n = std::strtoul(v.c_str(), &end, base);
  if (v.empty() || *end != '\0') {
    return fail(ErrorKind::kInvalidArgument,
                "--mount type=" + spec["type"] + ": invalid " + key + " " + v);
  }
  return n;
}

// A cache mount's directory is made once, with the mode, uid and gid the first RUN asks for
// (BuildKit's defaults: 0755, root).
Status make_cache_dir(const std::string& dir, std::map<std::string, std::string>& spec) {
  auto mode = TRY(mount_number(spec, "mode", 0755, 8));
  auto uid = TRY(mount_number(spec, "uid", 0, 10));
  auto gid = TRY(mount_number(spec, "gid", 0, 10));
  std::string parent = dir.substr(0, dir.rfind('/'));
  TRY(fs::make_dirs(parent));
  fs::TempDir tmp = TRY(fs::TempDir::create(parent, "new-cache-"));
  if (::chown(tmp.path().c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(gid)) < 0) {
    return fail_errno("chown", tmp.path());
  }
  if (::chmod(tmp.path().c_str(), static_cast<mode_t>(mode & 07777)) < 0) {
    return fail_errno("chmod", tmp.path());
  }
  // Another build may have made it meanwhile: then that one stands.
  if (::rename(tmp.path().c_str(), dir.c_str()) == 0) {
    tmp.release();
  } else if (errno != EEXIST && errno != ENOTEMPTY) {
    return fail_errno("rename", dir);
  }
  return {};
}

// BuildKit reads tmpfs size= with go-units' RAMInBytes: a decimal number, an optional space, then
// k, m, g, t or p (powers of 1024), optionally followed by "i" and "b", in any case: "64m",
// "1.5GiB", "4096".
Result<uint64_t> parse_tmpfs_size(const std::string& text) {
  auto bad = [&] { return fail(ErrorKind::kInvalidArgument, "invalid size: '" + text + "'"); };
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0]))) return bad();
  double value = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::fixed);
  if (ec != std::errc()) return bad();
  std::string unit(end, text.data() + text.size());
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit.starts_with(' ')) unit.erase(0, 1);
  uint64_t multiplier = 1;
  constexpr std::string_view kUnits = "kmgtp";
  if (!unit.empty()) {
    if (size_t pos = kUnits.find(unit[0]); pos != std::string_view::npos) {
      multiplier = uint64_t{1} << (10 * (pos + 1));
      unit.erase(0, 1);
    }
  }
  if (unit.starts_with('i')) unit.erase(0, 1);
  if (unit.starts_with('b')) unit.erase(0, 1);
  if (!unit.empty()) return bad();
  return static_cast<uint64_t>(value * static_cast<double>(multiplier));
}

}  // namespace

Status StageBuilder::run_step(const df::Instruction& ins, size_t index) {
  const auto* run = ins.get<df::RunInstr>();
  std::vector<std::string> args;
  if (run->command.prepend_shell) {
    args = shell();
    args.push_back(shell_script(run->command));
  } else {
    args = run->command.args;
  }
  runtime::NetworkMode network = s_.options.network;
  if (run->network == "none") network = runtime::NetworkMode::kNone;
  if (run->network == "host") {
    // A Dockerfile (an untrusted pull request, in CI) must not opt itself into the host's
    // network: BuildKit asks for the network.host entitlement.
    if (network != runtime::NetworkMode::kHost && !s_.options.allow_network_host) {
      return fail(ErrorKind::kPermission,
                  "RUN --network=host needs the network.host entitlement: build with --allow "
                  "network.host (or --network host)");
    }
    network = runtime::NetworkMode::kHost;
  }

  KeyInputs inputs;
  inputs.parent = st_.key;
  inputs.instruction = df::describe(ins);
  for (const auto& [k, v] : scope_->run_env()) inputs.env.emplace_back(k, v);
  inputs.extra = "user=" + st_.config.config.user + " workdir=" + st_.config.config.working_dir +
                 " network=" + std::to_string(static_cast<int>(network));
  // Stages bound with --mount from=... contribute their keys.
  std::vector<std::map<std::string, std::string>> mounts;
  for (const auto& m : run->mounts) {
    auto spec = parse_mount_spec(m);
    if (spec.contains("from")) {
      for (const auto& ref : stage_.copy_from) {
        if (ref.value == spec["from"] && ref.stage) {
          if (const StageResult* r = s_.result(*ref.stage)) inputs.extra += " from=" + r->key;
        }
      }
    }
    mounts.push_back(std::move(spec));
  }

  std::string history_text = "RUN ";
  auto hargs = scope_->history_args();
  if (!hargs.empty()) {
    history_text += "|" + std::to_string(hargs.size());
    for (const auto& [k, v] : hargs) history_text += " " + k + "=" + v;
    history_text += " ";
  }
  for (size_t i = 0; i < args.size(); ++i) history_text += (i ? " " : "") + args[i];
  history_text += " # buildkit";

  auto produce = [&](const std::string& upper, int step) -> Status {
    RunRequest req;
    req.lowers = TRY(lowers_top_first());
    req.upper = upper;
    req.args = args;
    for (const auto& [k, v] : scope_->run_env()) req.env.push_back(k + "=" + v);
    req.cwd = st_.config.config.working_dir.empty() ? "/" : st_.config.config.working_dir;
    req.user = st_.config.config.user;
    req.network = network;
    std::vector<fs::TempDir> temps;
    std::vector<std::unique_ptr<fs::Mount>> stage_mounts;
    std::vector<SecretFile> secrets;
    std::vector<std::unique_ptr<SshForward>> ssh_forwards;
    size_t ssh_mounts = 0;
    for (auto& spec : mounts) {
      const std::string& type = spec["type"];
      if (type == "secret") {
        // BuildKit: id defaults to the target's base name, the target to /run/secrets/<id>.
        if (!spec.contains("id") && !spec["target"].empty()) {
          spec["id"] = spec["target"].substr(spec["target"].rfind('/') + 1);
        }
        if (spec["id"].empty()) {
          return fail(ErrorKind::kInvalidArgument, "--mount type=secret: id or target is required");
        }
        if (spec["target"].empty()) spec["target"] = "/run/secrets/" + spec["id"];
      }
      if (type == "ssh") {
        // BuildKit: id "default", the Nth ssh mount at /run/buildkit/ssh_agent.N.
        if (spec["id"].empty()) spec["id"] = "default";
        if (spec["target"].empty()) {
          spec["target"] = "/run/buildkit/ssh_agent." + std::to_string(ssh_mounts);
        }
        ++ssh_mounts;
      }
      std::string target = spec["target"];
      if (target.empty()) {
        return fail(ErrorKind::kInvalidArgument, "--mount: target is required");
      }
      if (!target.starts_with('/')) target = fs::join(req.cwd, target);
      bool ro = spec["ro"] == "true" || spec["ro"] == "1";
      if (type == "cache") {
        std::string id = spec.contains("id") ? spec["id"] : target;
        std::string dir = fs::join(s_.store.root(), "cache/mounts/" + Sha256::hex_of(id));
        if (!fs::is_dir(dir)) TRY(make_cache_dir(dir, spec));
        req.mounts.push_back(runtime::BindMount{dir, target, ro});
      } else if (type == "tmpfs") {
        uint64_t size = 0;
        if (spec.contains("size")) {
          size = TRY_CTX(parse_tmpfs_size(spec["size"]), "--mount type=tmpfs");
        }
        req.tmpfs_mounts.push_back(runtime::TmpfsMount{target, size});
      } else if (type == "bind") {
        std::string source = spec.contains("source") ? spec["source"] : "";
        bool rw = spec["rw"] == "true" || spec["readwrite"] == "true";
        std::vector<std::string> lowers;
        if (spec.contains("from")) {
          const StageResult* from = nullptr;
          for (const auto& ref : stage_.copy_from) {
            if (ref.value == spec["from"] && ref.stage) from = s_.result(*ref.stage);
          }
          if (from != nullptr) {
            lowers = TRY(s_.layer_dirs(from->layers));
          } else {
            auto img = TRY(s_.image(spec["from"]));
            lowers = TRY(s_.store.prepare_layers(img));
          }
          std::reverse(lowers.begin(), lowers.end());
        } else {
          BuildContext* ctx = TRY(s_.context());
          // Resolved inside the context, as BuildKit does: a symlink in the context ("rootlink ->
          // /") can name only what is in the context.
          std::string context_real = TRY(runtime::resolve_in_root(ctx->root(), ""));
          std::string resolved = TRY_CTX(runtime::resolve_in_root(ctx->root(), source),
                                         "--mount type=bind: source " + source);
          std::string cleaned = resolved.size() > context_real.size()
                                    ? resolved.substr(context_real.size() + 1)
                                    : std::string();
          // What .dockerignore excludes is hidden by a layer of whiteouts on top (as BuildKit
          // mounts the transferred, filtered context).
          temps.push_back(TRY(s_.store.make_staging_dir("bind-mask")));
          bool masked = TRY(write_context_mask(*ctx, cleaned, temps.back().path()));
          // A read-write bind of the context gets a throwaway upper below, as in BuildKit:
          // the command must never write into the user's build context.
          if (!rw && !masked) {
            temps.pop_back();
            req.mounts.push_back(runtime::BindMount{cleaned, target, true, context_real});
            continue;
          }
          if (masked) lowers.push_back(temps.back().path());
          lowers.push_back(resolved);
          source.clear();
        }
        temps.push_back(TRY(s_.store.make_staging_dir("bind")));
        fs::MountOptions mo;
        mo.lowers = lowers;
        if (rw) {
          temps.push_back(TRY(s_.store.make_staging_dir("bind-upper")));
          mo.upper = temps.back().path();
          // imgfs shows the upper's root attributes: give it those of the bound directory
          // (the bottom layer holds them), not mkdtemp's 0700.
          if (!lowers.empty()) {
            auto st = TRY(sys::lstat(lowers.back()));
            if (::chown(mo.upper.c_str(), st.st_uid, st.st_gid) < 0) {
              return fail_errno("chown", mo.upper);
            }
            if (::chmod(mo.upper.c_str(), st.st_mode & 07777) < 0) {
              return fail_errno("chmod", mo.upper);
            }
          }
        }
        const std::string& mountpoint = temps[temps.size() - (rw ? 2 : 1)].path();
        stage_mounts.push_back(TRY(fs::Mount::create(mountpoint, mo)));
        // The source is resolved inside the mounted stage or image: its symlinks stay in it.
        req.mounts.push_back(runtime::BindMount{source, target, !rw, mountpoint});
      } else if (type == "secret") {
        const std::string& id = spec["id"];
        auto found = s_.options.secrets.find(id);
        if (found == s_.options.secrets.end()) {
          if (spec["required"] == "true" || spec["required"] == "1") {
            return fail(ErrorKind::kNotFound,
                        "secret " + id + " is required but was not given (--secret id=" + id +
                            ",src=FILE)");
          }
          continue;  // as BuildKit: an optional secret that was not given is not mounted
        }
        std::string value = TRY(read_secret(id, found->second));
        auto mode = TRY(mount_number(spec, "mode", 0400, 8));
        auto uid = TRY(mount_number(spec, "uid", 0, 10));
        auto gid = TRY(mount_number(spec, "gid", 0, 10));
        secrets.push_back(
            TRY(materialize_secret(value, static_cast<unsigned>(mode), static_cast<unsigned>(uid),
                                   static_cast<unsigned>(gid))));
        req.mounts.push_back(runtime::BindMount{secrets.back().path, target, true});
      } else if (type == "ssh") {
        const std::string& id = spec["id"];
        auto found = s_.options.ssh.find(id);
        if (found == s_.options.ssh.end()) {
          if (spec["required"] == "true" || spec["required"] == "1") {
            return fail(ErrorKind::kNotFound, "no SSH key \"" + id +
                                                  "\" forwarded from the client (build --ssh " +
                                                  id + "=SOCKET|KEY)");
          }
          continue;  // as BuildKit: an optional ssh mount that was not given is not mounted
        }
        auto mode = TRY(mount_number(spec, "mode", 0600, 8));
        auto uid = TRY(mount_number(spec, "uid", 0, 10));
        auto gid = TRY(mount_number(spec, "gid", 0, 10));
        ssh_forwards.push_back(
            TRY(SshForward::start(found->second, static_cast<unsigned>(mode),
                                  static_cast<unsigned>(uid), static_cast<unsigned>(gid))));
        req.mounts.push_back(runtime::BindMount{ssh_forwards.back()->socket_path(), target, true});
        // BuildKit points SSH_AUTH_SOCK at the first ssh mount unless the step sets it.
        bool has_sock = std::ranges::any_of(
            req.env, [](const std::string& kv) { return kv.starts_with("SSH_AUTH_SOCK="); });
        if (!has_sock) req.env.push_back("SSH_AUTH_SOCK=" + target);
      } else {
        return fail(ErrorKind::kUnsupported, "--mount type=" + type + " is not supported");
      }
    }
    std::deque<std::string> tail;
    std::string partial;
    req.output = [&](std::string_view data) {
      s_.progress.output(step, data);
      partial.append(data);
      size_t nl;
      while ((nl = partial.find('\n')) != std::string::npos) {
        tail.push_back(partial.substr(0, nl));
        if (tail.size() > 10) tail.pop_front();
        partial.erase(0, nl + 1);
      }
    };
    int code = TRY(s_.runner.run(req));
    for (auto& m : stage_mounts) (void)m->unmount();
    if (code != 0) {
      if (!partial.empty()) tail.push_back(partial);
      std::string cmd;
      for (size_t i = 0; i < args.size(); ++i) cmd += (i ? " " : "") + args[i];
      std::string msg = "process \"" + cmd +
                        "\" did not complete successfully: exit code: " + std::to_string(code);
      if (!tail.empty()) {
        msg += "\n--- last output ---";
        for (const auto& l : tail) msg += "\n" + l;
      }
      return fail(ErrorKind::kBuild, msg);
    }
    return {};
  };
  return layer_step(index, step_title(ins, index), inputs, history_text, produce);
}

}  // namespace imgbuild::builder
