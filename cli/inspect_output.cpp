#include "cli/inspect_output.h"

#include <cstdio>
#include <optional>

#include "cli/command.h"
#include "format/list_format.h"

namespace imgbuild::cli {

int print_inspect(const std::vector<std::string>& names, const std::string& format,
                  const InspectFinder& find) {
  std::optional<format::Template> tmpl;
  if (!format.empty() && format != "json") {
    auto parsed = format::parse_format_template(format);
    if (!parsed) return report_error(parsed.error());
    tmpl = std::move(*parsed);
  }
  nlohmann::json out = nlohmann::json::array();
  std::vector<Error> errors;
  for (const auto& name : names) {
    auto object = find(name);
    if (!object) {
      errors.push_back(object.error());
      continue;
    }
    if (tmpl) {
      auto text = tmpl->execute(*object);
      if (!text) {
        errors.push_back(text.error());
        continue;
      }
      std::printf("%s\n", text->c_str());
    } else {
      out.push_back(std::move(*object));
    }
  }
  if (!tmpl) {
    std::printf("%s\n", out.dump(4, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  }
  for (const auto& e : errors) report_error(e);
  return errors.empty() ? 0 : 1;
}

}  // namespace imgbuild::cli
