#include "fs/mount_args.h"

#include <cstdlib>
#include <set>

namespace imgbuild::fs {

namespace {

// Splits on sep, turning "\x" into "x".
std::vector<std::string> split_escaped(const std::string& s, char sep) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      out.back() += s[++i];
    } else if (s[i] == sep) {
      out.emplace_back();
    } else {
      out.back() += s[i];
    }
  }
  return out;
}

bool generic_option(const std::string& key) {
  static const std::set<std::string> kGeneric = {
      "rw",           "ro",          "lazytime",
      "nolazytime",   "noatime",     "atime",
      "relatime",     "norelatime",  "strictatime",
      "nodiratime",   "diratime",    "dev",
      "nodev",        "suid",        "nosuid",
      "exec",         "noexec",      "sync",
      "async",        "dirsync",     "auto",
      "noauto",       "user",        "nouser",
      "users",        "defaults",    "_netdev",
      "nofail",       "silent",      "loud",
      "allow_other",  "allow_root",  "default_permissions",
      "auto_unmount", "context",     "fscontext",
      "defcontext",   "rootcontext", "max_read",
      "blksize",      "subtype",     "noacl",
      "acl",          "comment",     "helper",
      "owner"};
  return kGeneric.count(key) || key.starts_with("x-");
}

}  // namespace

std::vector<std::string> split_mount_options(const std::string& opts) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < opts.size(); ++i) {
    if (opts[i] == '\\' && i + 1 < opts.size()) {
      out.back() += opts[i];
      out.back() += opts[++i];
    } else if (opts[i] == ',') {
      out.emplace_back();
    } else {
      out.back() += opts[i];
    }
  }
  return out;
}

Result<ImgfsArgs> parse_imgfs_args(const std::vector<std::string>& args) {
  ImgfsArgs out;
  std::vector<std::string> positional;
  std::vector<std::string> option_strings;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-o") {
      if (i + 1 == args.size()) return fail(ErrorKind::kInvalidArgument, "-o needs a value");
      option_strings.push_back(args[++i]);
    } else if (a.starts_with("-o")) {
      option_strings.push_back(a.substr(2));
    } else if (a == "-f") {
      out.foreground = true;
    } else if (a == "-d" || a == "--debug") {
      out.debug = true;
      out.foreground = true;
    } else if (a == "-s") {
      // single-threaded request from mount helpers: imgfs is always multi-threaded
    } else if (a.starts_with("-") && a.size() > 1) {
      return fail(ErrorKind::kInvalidArgument, "unknown flag " + a);
    } else {
      positional.push_back(a);
    }
  }
  if (positional.empty() || positional.size() > 2) {
    return fail(ErrorKind::kInvalidArgument,
                "usage: imgfs [SOURCE] MOUNTPOINT -o lowerdir=A:B[,upperdir=U,workdir=W]");
  }
  out.mountpoint = positional.back();
  if (positional.size() == 2) out.source = positional[0];
  bool have_lower = false;
  for (const std::string& opts : option_strings) {
    for (const std::string& opt : split_mount_options(opts)) {
      if (opt.empty()) continue;
      size_t eq = opt.find('=');
      std::string key = opt.substr(0, eq);
      std::string value = eq == std::string::npos ? "" : opt.substr(eq + 1);
      if (key == "lowerdir") {
        have_lower = true;
        for (std::string& dir : split_escaped(value, ':')) {
          if (dir.empty()) return fail(ErrorKind::kInvalidArgument, "empty entry in lowerdir");
          out.options.lowers.push_back(std::move(dir));
        }
      } else if (key == "upperdir") {
        out.options.upper = split_escaped(value, '\0')[0];
      } else if (key == "workdir") {
        out.workdir = split_escaped(value, '\0')[0];
      } else if (key == "whiteout") {
        if (value == "oci") {
          out.options.upper_whiteouts = WhiteoutStyle::kOci;
        } else if (value == "overlay") {
          out.options.upper_whiteouts = WhiteoutStyle::kOverlay;
        } else {
          return fail(ErrorKind::kInvalidArgument,
                      "whiteout=" + value + ": expected \"oci\" or \"overlay\"");
        }
      } else if (key == "fsname") {
        out.options.fsname = value;
      } else if (key == "timeout") {
        char* end = nullptr;
        double t = std::strtod(value.c_str(), &end);
        if (value.empty() || *end || t < 0) {
          return fail(ErrorKind::kInvalidArgument, "timeout=" + value + ": expected seconds");
        }
        out.options.upper_timeout = t;
      } else if (key == "passthrough" || key == "nopassthrough") {
        out.options.passthrough = key == "passthrough";
      } else if (key == "uring" || key == "nouring") {
        out.options.io_uring = key == "uring";
      } else if (key == "killpriv" || key == "nokillpriv") {
        out.options.handle_killpriv = key == "killpriv";
      } else if (key == "debug_stats") {
        out.debug_stats = true;
      } else if (key == "acl" || key == "noacl") {
        out.options.posix_acl = key == "acl";
      } else if (key == "threads") {
        char* end = nullptr;
        long n = std::strtol(value.c_str(), &end, 10);
        if (value.empty() || *end || n < 1 || n > 256) {
          return fail(ErrorKind::kInvalidArgument, "threads=" + value + ": expected 1..256");
        }
        out.options.max_threads = static_cast<unsigned>(n);
      } else if (!generic_option(key)) {
        return fail(ErrorKind::kInvalidArgument, "unknown mount option \"" + key + "\"");
      }
    }
  }
  if (!have_lower) return fail(ErrorKind::kInvalidArgument, "missing -o lowerdir=...");
  if (!out.workdir.empty() && out.options.upper.empty()) {
    return fail(ErrorKind::kInvalidArgument, "workdir given without upperdir");
  }
  if (out.options.fsname == "imgfs" && !out.source.empty()) out.options.fsname = out.source;
  return out;
}

}  // namespace imgbuild::fs
