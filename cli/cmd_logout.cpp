// imgbuild logout [REGISTRY]: removes stored credentials for a registry.
#include <cstdio>

#include "cli/command.h"
#include "registry-client/credentials.h"
#include "registry-client/endpoint.h"

namespace imgbuild::cli {
namespace {

Result<int> run_logout(const std::string& registry_arg) {
  std::string reg = registry::normalize_registry(registry_arg);
  auto store = TRY(registry::CredentialStore::load(registry::CredentialStore::default_dir()));
  auto erased = store.erase(reg);
  if (!erased) {
    if (erased.error().kind() != ErrorKind::kNotFound) return fail(erased.error());
    std::printf("Not logged in to %s\n", reg.c_str());
    return 0;
  }
  std::printf("Removing login credentials for %s\n", reg.c_str());
  return 0;
}

}  // namespace

IMGBUILD_COMMAND(logout, Command{
                             .name = "logout",
                             .description = "Log out from a registry",
                             .setup = [](CLI::App& sub, const GlobalOptions&) -> Runner {
                               auto reg = std::make_shared<std::string>("docker.io");
                               sub.add_option("REGISTRY", *reg,
                                              "Registry host[:port] (default docker.io)");
                               return [reg] {
                                 auto r = run_logout(*reg);
                                 if (!r) return report_error(r.error());
                                 return *r;
                               };
                             },
                             .host_namespaces = true,
                         });

}  // namespace imgbuild::cli
