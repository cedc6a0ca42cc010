#include "containers/log_follow.h"

#include <fcntl.h>

#include <chrono>
#include <thread>

#include "base/fs.h"
#include "base/sys.h"
#include "containers/record_store.h"

namespace imgbuild::containers {

Status copy_log(const image::Store& store, const ContainerRecord& record, LogFollow follow,
                const LogSink& sink) {
  std::string path = fs::join(container_dir(store, record.id), "container.log");
  auto fd = sys::open(path, O_RDONLY);
  if (!fd) {
    if (fd.error().kind() == ErrorKind::kNotFound) return {};
    return fail(fd.error());
  }
  char buf[65536];
  for (;;) {
    auto n = TRY(sys::read_some(fd->get(), {buf, sizeof buf}, path));
    if (n > 0) {
      TRY(sink(std::string_view(buf, n)));
      continue;
    }
    if (follow == LogFollow::kNo) break;
    auto now = load_record(store, record.id);
    if (!now || !is_active(*now)) {
      // One more read: output written between the last read and the exit.
      auto rest = TRY(sys::read_all(fd->get(), path));
      TRY(sink(rest));
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return {};
}

}  // namespace imgbuild::containers
