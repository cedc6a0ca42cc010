#include "runtime/process_config.h"

#include "runtime/user.h"

namespace imgbuild::runtime {
namespace {

std::string key_of(const std::string& entry) { return entry.substr(0, entry.find('=')); }

bool has_key(const std::vector<std::string>& env, const std::string& key) {
  for (const auto& e : env) {
    if (key_of(e) == key) return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> merge_env(const std::vector<std::string>& base,
                                   const std::vector<std::string>& overrides) {
  std::vector<std::string> out = base;
  for (const auto& o : overrides) {
    std::string key = key_of(o);
    bool unset = o.find('=') == std::string::npos;
    bool replaced = false;
    for (auto it = out.begin(); it != out.end();) {
      if (key_of(*it) != key) {
        ++it;
        continue;
      }
      if (unset || replaced) {
        it = out.erase(it);
      } else {
        *it = o;
        replaced = true;
        ++it;
      }
    }
    if (!unset && !replaced) out.push_back(o);
  }
  return out;
}

Status apply_image_config(const std::string& rootfs, const image::ContainerConfig& config,
                          const ProcessOverrides& overrides, ProcessSpec& spec) {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  if (overrides.entrypoint) {
    entrypoint = *overrides.entrypoint;
  } else if (config.entrypoint) {
    entrypoint = *config.entrypoint;
    if (config.cmd) cmd = *config.cmd;
  }
  if (!overrides.entrypoint && !config.entrypoint && config.cmd) cmd = *config.cmd;
  if (!overrides.cmd.empty()) cmd = overrides.cmd;
  spec.args = entrypoint;
  spec.args.insert(spec.args.end(), cmd.begin(), cmd.end());
  if (spec.args.empty()) return fail(ErrorKind::kInvalidArgument, "no command specified");

  spec.cwd = overrides.working_dir ? *overrides.working_dir
                                   : (config.working_dir.empty() ? "/" : config.working_dir);
  if (spec.cwd.empty() || spec.cwd[0] != '/') {
    return fail(ErrorKind::kInvalidArgument, "the working directory '" + spec.cwd +
                                                 "' is invalid, it needs to be an absolute path");
  }

  std::string user = overrides.user ? *overrides.user : config.user;
  ResolvedUser resolved = TRY(resolve_user(rootfs, user));
  spec.uid = resolved.uid;
  spec.gid = resolved.gid;
  spec.additional_gids = resolved.additional_gids;

  std::vector<std::string> env = merge_env(config.env, overrides.env);
  std::vector<std::string> defaults;
  if (!has_key(env, "PATH")) defaults.push_back(std::string("PATH=") + kDefaultPath);
  if (!has_key(env, "HOSTNAME") && !spec.hostname.empty()) {
    defaults.push_back("HOSTNAME=" + spec.hostname);
  }
  env.insert(env.begin(), defaults.begin(), defaults.end());
  if (spec.tty && !has_key(env, "TERM")) env.push_back("TERM=xterm");
  if (!has_key(env, "HOME")) env.push_back("HOME=" + resolved.home);
  spec.env = std::move(env);
  return {};
}

}  // namespace imgbuild::runtime
