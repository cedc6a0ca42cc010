#include "builder/add_archive.h"

#include <fcntl.h>

#include "base/sys.h"
#include "image/layer_extractor.h"
#include "image/tar_reader.h"

namespace imgbuild::builder {

bool looks_like_archive(const std::string& path) {
  auto fd = sys::open(path, O_RDONLY);
  if (!fd) return false;
  auto reader = image::TarReader::open(fd->get());
  if (!reader) return false;
  auto header = (*reader)->next();
  return header && header->has_value();
}

Status extract_archive(const std::string& archive, const std::string& dir) {
  std::string ctx = "ADD " + archive;
  UniqueFd fd = TRY_CTX(sys::open(archive, O_RDONLY), ctx);
  image::ExtractOptions options;
  options.target = image::ExtractTarget::kExisting;
  TRY_CTX(image::extract_layer(fd.get(), dir, options), ctx);
  return {};
}

}  // namespace imgbuild::builder
