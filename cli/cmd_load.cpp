// imgbuild load [-i FILE]: loads images from a docker or OCI archive (or stdin), like
// `docker load`. Nothing enters the store unless the whole archive verifies.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "base/sys.h"
#include "cli/command.h"
#include "cli/image_common.h"
#include "image/archive.h"

namespace imgbuild::cli {
namespace {

struct LoadArgs {
  std::string input;
  bool quiet = false;
};

Result<int> run_load(const LoadArgs& args, const GlobalOptions& globals) {
  UniqueFd owned;
  int fd = STDIN_FILENO;
  std::string source = "stdin";
  if (!args.input.empty() && args.input != "-") {
    owned = TRY(sys::open(args.input, O_RDONLY));
    fd = owned.get();
    source = args.input;
  } else if (::isatty(STDIN_FILENO)) {
    return fail(ErrorKind::kInvalidArgument,
                "load: no archive given: use -i FILE or pipe one to stdin");
  }
  image::Store store = TRY(open_store(globals));
  auto loaded = TRY_CTX(image::load_archive(store, fd, source), "load");
  for (const auto& img : loaded) {
    if (img.tags.empty()) {
      std::printf("Loaded image ID: %s\n", img.config_digest.str().c_str());
    }
    for (const auto& t : img.tags) std::printf("Loaded image: %s\n", t.familiar().c_str());
  }
  return 0;
}

}  // namespace

IMGBUILD_COMMAND(load, Command{
                           .name = "load",
                           .description = "Load images from a tar archive (docker or OCI layout)",
                           .setup = [](CLI::App& sub, const GlobalOptions& globals) -> Runner {
                             auto args = std::make_shared<LoadArgs>();
                             sub.add_option("-i,--input", args->input,
                                            "Read from FILE (default: stdin)");
                             sub.add_flag("-q,--quiet", args->quiet, "Accepted for compatibility");
                             return [args, &globals] {
                               auto r = run_load(*args, globals);
                               if (!r) return report_error(r.error());
                               return *r;
                             };
                           },
                       });

}  // namespace imgbuild::cli
