// imgbuild: parses global options, picks the subcommand (default: build; cli/dispatch.h), and
// runs it.
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "base/log.h"
#include "cli/command.h"
#include "cli/dispatch.h"
#include "image/compression_writer.h"
#include "runtime/rootless.h"

namespace imgbuild::cli {
namespace {

std::string default_root() {
  if (const char* env = std::getenv("IMGBUILD_ROOT"); env != nullptr && *env != '\0') return env;
  if (::geteuid() == 0) return "/var/lib/imgbuild";
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/imgbuild";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : "/tmp") + "/.local/share/imgbuild";
}

std::vector<std::string> command_names() {
  std::vector<std::string> names;
  for (const auto& c : commands()) {
    names.push_back(c.name);
    names.insert(names.end(), c.aliases.begin(), c.aliases.end());
  }
  return names;
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

int main_impl(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  auto dispatched = with_default_command(std::move(args), command_names(), is_directory);
  if (!dispatched) {
    std::fprintf(stderr, "imgbuild: %s\n", dispatched.error().message().c_str());
    return 1;
  }
  args = std::move(*dispatched);

  CLI::App app{"imgbuild: build, store, push, pull, mount and run OCI container images",
               "imgbuild"};
  app.set_version_flag("--version", "imgbuild 0.1.0");
  app.require_subcommand(0, 1);
  GlobalOptions globals;
  std::string root_flag;
  app.add_option("--root", root_flag, "Store directory (default /var/lib/imgbuild; IMGBUILD_ROOT)")
      ->envname("IMGBUILD_ROOT");
  app.add_flag("-D,--debug", globals.debug, "Print debug logging");

  std::map<CLI::App*, std::pair<Runner, const Command*>> runners;
  std::vector<std::pair<CLI::App*, const Command*>> pending;
  auto sorted = commands();
  std::sort(sorted.begin(), sorted.end(),
            [](const Command& a, const Command& b) { return a.name < b.name; });
  for (const auto& c : sorted) {
    CLI::App* sub = app.add_subcommand(c.name, c.description);
    for (const auto& alias : c.aliases) sub->alias(alias);
    runners[sub] = {c.setup(*sub, globals), &c};
  }

  std::vector<const char*> cargv;
  for (auto& a : args) cargv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(cargv.size()), cargv.data());
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  globals.root = root_flag.empty() ? default_root() : root_flag;
  if (globals.debug) log::set_level(log::Level::kDebug);

  for (auto& [sub, entry] : runners) {
    if (!sub->parsed()) continue;
    if (::geteuid() != 0 && !entry.second->host_namespaces) {
      // Rootless: the rest runs as root of the store's user namespace (runtime/rootless.h),
      // where the default root would be /var/lib/imgbuild: children get the real one.
      ::setenv("IMGBUILD_ROOT", globals.root.c_str(), 1);
      auto entered = runtime::rootless::enter(globals.root + "/rootless");
      if (!entered) {
        std::fprintf(stderr, "imgbuild: %s\n", entered.error().message().c_str());
        return 1;
      }
    }
    int status = entry.first();
    log::debug("stats: " + std::to_string(image::compressed_bytes_produced()) +
               " compressed bytes produced");
    return status;
  }
  std::fputs(app.help().c_str(), stdout);
  return 0;
}

}  // namespace
}  // namespace imgbuild::cli

int main(int argc, char** argv) { return imgbuild::cli::main_impl(argc, argv); }
