#include "cli/container_each.h"

#include "cli/command.h"

namespace imgbuild::cli {

int for_each_container(const image::Store& store, const std::vector<std::string>& names,
                       const ContainerAction& act) {
  int rc = 0;
  for (const auto& name : names) {
    auto record = find_record(store, name);
    if (!record) {
      rc = report_error(record.error());
      continue;
    }
    if (auto done = act(name, *record); !done) rc = report_error(done.error());
  }
  return rc;
}

}  // namespace imgbuild::cli
