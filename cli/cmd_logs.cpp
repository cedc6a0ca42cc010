// imgbuild logs [-f] CONTAINER: prints a detached container's output (stdout and stderr as they
// were interleaved); -f keeps following until the container stops.
#include <unistd.h>

#include <chrono>
#include <thread>

#include "base/fs.h"
#include "base/sys.h"
#include "cli/command.h"
#include "cli/container_state.h"

namespace imgbuild::cli {
namespace {

Result<int> logs(const GlobalOptions& globals, const std::string& name, bool follow) {
  auto store = TRY(image::Store::open(globals.root));
  ContainerRecord record = TRY(find_record(store, name));
  std::string path = fs::join(container_dir(store, record.id), "container.log");
  auto fd = sys::open(path, O_RDONLY);
  if (!fd) {
    if (fd.error().kind() == ErrorKind::kNotFound) return 0;  // nothing logged (foreground run)
    return fail(fd.error());
  }
  char buf[65536];
  for (;;) {
    auto n = TRY(sys::read_some(fd->get(), {buf, sizeof buf}, path));
    if (n > 0) {
      TRY(sys::write_all(1, std::string_view(buf, n), "stdout"));
      continue;
    }
    if (!follow) break;
    auto now = load_record(store, record.id);
    if (!now || !is_active(*now)) {
      // One more read: output written between the last read and the exit.
      auto rest = TRY(sys::read_all(fd->get(), path));
      TRY(sys::write_all(1, rest, "stdout"));
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return 0;
}

Runner setup(CLI::App& sub, const GlobalOptions& globals) {
  auto name = std::make_shared<std::string>();
  auto follow = std::make_shared<bool>(false);
  sub.add_flag("-f,--follow", *follow, "Follow log output");
  sub.add_option("container", *name, "Container name or ID")->required();
  return [=, &globals]() -> int {
    auto r = logs(globals, *name, *follow);
    if (!r) return report_error(r.error());
    return *r;
  };
}

}  // namespace

IMGBUILD_COMMAND(logs, Command{
                           .name = "logs",
                           .description = "Fetch the logs of a container",
                           .setup = setup,
                       });

}  // namespace imgbuild::cli
