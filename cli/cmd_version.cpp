// imgbuild version [--format F]: prints the version; with --format, Docker's version object
// ({{.Client.Version}}, {{json .}}) through a Go template. There is no daemon: Server is null.
#include <cstdio>

#include "cli/command.h"
#include "format/list_format.h"
#include "image/platform.h"

namespace imgbuild::cli {
namespace {

constexpr const char* kVersion = "0.1.0";

int run_version(const std::string& format_flag) {
  if (format_flag.empty()) {
    std::printf("imgbuild %s\n", kVersion);
    return 0;
  }
  image::Platform host = image::Platform::host();
  nlohmann::json data = {{"Client",
                          {{"Platform", {{"Name", "imgbuild"}}},
                           {"Version", kVersion},
                           {"Os", host.os},
                           {"Arch", host.architecture},
                           {"Context", "default"}}},
                         {"Server", nullptr}};
  std::string text = format_flag == "json" ? "{{json .}}" : format_flag;
  auto tmpl = format::parse_format_template(text);
  if (!tmpl) return report_error(tmpl.error());
  auto out = tmpl->execute(data);
  if (!out) return report_error(out.error());
  std::printf("%s\n", out->c_str());
  return 0;
}

}  // namespace

IMGBUILD_COMMAND(version, Command{
                              .name = "version",
                              .description = "Show the imgbuild version",
                              .setup = [](CLI::App& sub, const GlobalOptions&) -> Runner {
                                auto format_flag = std::make_shared<std::string>();
                                sub.add_option("-f,--format", *format_flag,
                                               "Format the output using a Go template, or json");
                                return [format_flag] { return run_version(*format_flag); };
                              },
                              .host_namespaces = true,
                          });

}  // namespace imgbuild::cli
