#include "builder/cache_spec.h"

#include "image/compression.h"

namespace imgbuild::builder {

Result<CacheSpec> parse_cache_spec(std::string_view text, std::string_view direction) {
  std::string flag(direction);
  CacheSpec spec;
  if (text.empty()) return fail(ErrorKind::kInvalidArgument, flag + ": empty value");
  if (text.find('=') == std::string_view::npos) {
    spec.type = "registry";
    spec.ref = std::string(text);
    return spec;
  }
  bool to = direction == "--cache-to";
  size_t start = 0;
  for (;;) {
    size_t comma = text.find(',', start);
    std::string_view field =
        text.substr(start, comma == std::string_view::npos ? comma : comma - start);
    size_t eq = field.find('=');
    std::string key(field.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : std::string(field.substr(eq + 1));
    if (key == "type") {
      spec.type = value;
    } else if ((key == "dest" && to) || (key == "src" && !to)) {
      spec.path = value;
    } else if (key == "ref") {
      spec.ref = value;
    } else if (key == "mode" && to) {
      if (value != "min" && value != "max") {
        return fail(ErrorKind::kInvalidArgument,
                    flag + ": mode=" + value + ": expected min or max");
      }
      spec.max = value == "max";
    } else if (key == "compression" && to) {
      auto c = image::parse_compression(value);
      if (!c) return fail(c.error().with_context(flag));
      spec.compression = *c;
    } else if (key == "compression-level" || key == "oci-mediatypes" || key == "image-manifest" ||
               key == "ignore-error" || key == "digest" || key == "tag") {
      // BuildKit's tuning keys: accepted, without effect here.
    } else {
      return fail(ErrorKind::kInvalidArgument,
                  flag + " \"" + std::string(text) + "\": unknown key \"" + key + "\"");
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (spec.type.empty()) {
    return fail(ErrorKind::kInvalidArgument,
                flag + " \"" + std::string(text) + "\": type= is required");
  }
  if (spec.type == "local" && spec.path.empty()) {
    return fail(ErrorKind::kInvalidArgument,
                flag + " type=local: " + (to ? "dest=DIR" : "src=DIR") + " is required");
  }
  if (spec.type == "registry" && spec.ref.empty()) {
    return fail(ErrorKind::kInvalidArgument, flag + " type=registry: ref=REPO:TAG is required");
  }
  return spec;
}

}  // namespace imgbuild::builder
