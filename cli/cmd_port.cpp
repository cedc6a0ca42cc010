// imgbuild port CONTAINER [PRIVATE_PORT[/PROTO]]: the published ports of a running container,
// as `docker port` prints them ("80/tcp -> 0.0.0.0:8080"; with a port, only "0.0.0.0:8080").
#include <cstdio>

#include "cli/command.h"
#include "cli/container_state.h"
#include "runtime/port_mapping.h"

namespace imgbuild::cli {
namespace {

Runner setup(CLI::App& sub, const GlobalOptions& globals) {
  auto container = std::make_shared<std::string>();
  auto filter = std::make_shared<std::string>();
  sub.add_option("container", *container, "Container name or ID")->required();
  sub.add_option("private-port", *filter, "PORT[/PROTO] inside the container");
  return [=, &globals]() -> int {
    std::optional<runtime::PortMapping> wanted;
    if (!filter->empty()) {
      auto parsed = runtime::parse_exposed_port(*filter);
      if (!parsed) return report_error(parsed.error());
      wanted = *parsed;
    }
    auto store = image::Store::open(globals.root);
    if (!store) return report_error(store.error());
    auto record = find_record(*store, *container);
    if (!record) return report_error(record.error());
    bool any = false;
    if (is_running(*record)) {
      for (const auto& p : record->ports) {
        if (wanted &&
            (p.container_port != wanted->container_port || p.protocol != wanted->protocol)) {
          continue;
        }
        any = true;
        if (wanted) {
          std::printf("%s\n", runtime::host_side(p).c_str());
        } else {
          std::printf("%s -> %s\n", runtime::container_side(p).c_str(),
                      runtime::host_side(p).c_str());
        }
      }
    }
    if (wanted && !any) {
      return report_error(Error(
          ErrorKind::kNotFound,
          "No public port '" + runtime::container_side(*wanted) + "' published for " + *container));
    }
    return 0;
  };
}

}  // namespace

IMGBUILD_COMMAND(port, Command{
                           .name = "port",
                           .description = "List port mappings of a container",
                           .setup = setup,
                       });

}  // namespace imgbuild::cli
