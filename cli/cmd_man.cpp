// imgbuild __man DIR [--source TEXT]: writes the man pages (cli/man_page.h) into DIR. Hidden; run
// at build time by cmake/install.cmake.
#include <cstdio>

#include "base/fs.h"
#include "cli/command.h"
#include "cli/command_spec.h"
#include "cli/man_page.h"

namespace imgbuild::cli {
namespace {

struct ManArgs {
  std::string dir;
  std::string source = "imgbuild";
};

Runner setup_man(CLI::App& sub, const GlobalOptions&) {
  auto args = std::make_shared<ManArgs>();
  sub.group("");  // hidden from help
  sub.add_option("DIR", args->dir, "Directory to write the pages into")->required();
  sub.add_option("--source", args->source, "Footer of the pages (program and version)");
  return [args, app = sub.get_parent()] {
    if (auto made = fs::make_dirs(args->dir); !made) return report_error(made.error());
    for (const ManPage& page : man_pages(describe_app(*app), args->source)) {
      auto written = fs::write_file_atomic(args->dir + "/" + page.file_name, page.text, 0644,
                                           fs::Durability::kHint);
      if (!written) return report_error(written.error());
    }
    return 0;
  };
}

}  // namespace

IMGBUILD_COMMAND(man, Command{
                          .name = "__man",
                          .description = "Write the man pages into DIR",
                          .setup = setup_man,
                          .host_namespaces = true,
                      });

}  // namespace imgbuild::cli
