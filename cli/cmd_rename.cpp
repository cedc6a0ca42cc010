// imgbuild rename CONTAINER NEW_NAME, as `docker rename`.
#include <regex>

#include "cli/command.h"
#include "cli/container_state.h"

namespace imgbuild::cli {
namespace {

Status rename_container(const image::Store& store, const std::string& old_name,
                        const std::string& new_name) {
  static const std::regex kValid("[a-zA-Z0-9][a-zA-Z0-9_.-]+");
  std::string name = new_name.starts_with("/") ? new_name.substr(1) : new_name;
  if (!std::regex_match(name, kValid)) {
    return fail(ErrorKind::kInvalidArgument, "Invalid container name (" + new_name +
                                                 "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
  }
  ContainerRecord record = TRY(find_record(store, old_name));
  if (record.name == name) {
    return fail(ErrorKind::kInvalidArgument,
                "Renaming a container with the same name as its current name");
  }
  TRY(containers::claim_container_name(store, name));
  record.name = name;
  return save_record(store, record);
}

Runner setup(CLI::App& sub, const GlobalOptions& globals) {
  auto from = std::make_shared<std::string>();
  auto to = std::make_shared<std::string>();
  sub.add_option("CONTAINER", *from, "Container")->required();
  sub.add_option("NEW_NAME", *to, "New name")->required();
  return [=, &globals]() -> int {
    auto store = image::Store::open(globals.root);
    if (!store) return report_error(store.error());
    if (auto st = rename_container(*store, *from, *to); !st) {
      const Error& e = st.error();
      return report_error(e.kind() == ErrorKind::kAlreadyExists
                              ? e.with_context("Error when allocating new name")
                              : e);
    }
    return 0;
  };
}

}  // namespace

IMGBUILD_COMMAND(rename, Command{
                             .name = "rename",
                             .description = "Rename a container",
                             .setup = setup,
                         });

}  // namespace imgbuild::cli
