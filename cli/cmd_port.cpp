// imgbuild port CONTAINER [PRIVATE_PORT[/PROTO]]: the published ports of a running container,
// as `docker port` prints them ("80/tcp -> 0.0.0.0:8080"; with a port, only "0.0.0.0:8080"), or
// each mapping through --format (format/list_format.h).
#include <cstdio>

#include "cli/command.h"
#include "cli/container_state.h"
#include "format/list_format.h"
#include "runtime/port_mapping.h"

namespace imgbuild::cli {
namespace {

Runner setup(CLI::App& sub, const GlobalOptions& globals) {
  auto container = std::make_shared<std::string>();
  auto filter = std::make_shared<std::string>();
  sub.add_option("container", *container, "Container name or ID")->required();
  sub.add_option("private-port", *filter, "PORT[/PROTO] inside the container");
  auto format_flag = std::make_shared<std::string>();
  sub.add_option("--format", *format_flag,
                 "Go template per mapping (.ContainerPort .HostIp .HostPort .PrivatePort "
                 ".PublicPort .Type), table or json");
  return [=, &globals]() -> int {
    std::optional<format::ListFormat> format;
    if (!format_flag->empty()) {
      static const nlohmann::json kHeaders = {
          {"ContainerPort", "CONTAINER PORT"}, {"HostIp", "HOST IP"},
          {"HostPort", "HOST PORT"},           {"PrivatePort", "PRIVATE PORT"},
          {"PublicPort", "PUBLIC PORT"},       {"Type", "TYPE"}};
      auto parsed = format::ListFormat::parse(
          *format_flag, "{{.ContainerPort}}\t{{.HostIp}}:{{.HostPort}}", kHeaders);
      if (!parsed) return report_error(parsed.error());
      format = std::move(*parsed);
    }
    std::vector<nlohmann::json> rows;
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
        if (format) {
          std::string ip = p.host_ip.empty() ? "0.0.0.0" : p.host_ip;
          rows.push_back({{"ContainerPort", runtime::container_side(p)},
                          {"HostIp", ip},
                          {"HostPort", std::to_string(p.host_port)},
                          {"PrivatePort", p.container_port},
                          {"PublicPort", p.host_port},
                          {"Type", std::string(runtime::protocol_name(p.protocol))},
                          {"IP", ip}});
        } else if (wanted) {
          std::printf("%s\n", runtime::host_side(p).c_str());
        } else {
          std::printf("%s -> %s\n", runtime::container_side(p).c_str(),
                      runtime::host_side(p).c_str());
        }
      }
    }
    if (format) {
      auto out = format->render(rows);
      if (!out) return report_error(out.error());
      std::fputs(out->c_str(), stdout);
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
