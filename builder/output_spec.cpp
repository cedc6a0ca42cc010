#include "builder/output_spec.h"

#include <map>

namespace imgbuild::builder {
namespace {

Result<bool> parse_bool(const std::string& key, const std::string& value) {
  if (value.empty() || value == "true" || value == "1") return true;
  if (value == "false" || value == "0") return false;
  return fail(ErrorKind::kInvalidArgument,
              "--output: " + key + "=" + value + ": expected true or false");
}

}  // namespace

Result<OutputSpec> parse_output_spec(std::string_view text) {
  OutputSpec spec;
  if (text.empty()) return fail(ErrorKind::kInvalidArgument, "--output: empty value");
  if (text == "-") {
    spec.type = OutputSpec::Type::kTar;
    spec.dest = "-";
    return spec;
  }
  if (text.find('=') == std::string_view::npos) {
    spec.dest = std::string(text);  // the short form of type=local,dest=DIR
    return spec;
  }
  std::map<std::string, std::string> fields;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string_view field =
        text.substr(start, comma == std::string_view::npos ? comma : comma - start);
    size_t eq = field.find('=');
    std::string key(field.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : std::string(field.substr(eq + 1));
    if (key.empty()) {
      return fail(ErrorKind::kInvalidArgument,
                  "--output \"" + std::string(text) + "\": empty field");
    }
    fields[key] = value;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  auto type = fields.find("type");
  if (type == fields.end()) {
    return fail(ErrorKind::kInvalidArgument,
                "--output \"" + std::string(text) + "\": type= is required");
  }
  static const std::map<std::string, OutputSpec::Type> kTypes = {
      {"local", OutputSpec::Type::kLocal}, {"tar", OutputSpec::Type::kTar},
      {"oci", OutputSpec::Type::kOci},     {"docker", OutputSpec::Type::kDocker},
      {"image", OutputSpec::Type::kImage}, {"registry", OutputSpec::Type::kImage}};
  auto known = kTypes.find(type->second);
  if (known == kTypes.end()) {
    return fail(ErrorKind::kInvalidArgument, "--output: unsupported output type \"" + type->second +
                                                 "\" (local, tar, oci, docker, image, registry)");
  }
  spec.type = known->second;
  spec.push = type->second == "registry";
  for (const auto& [key, value] : fields) {
    if (key == "type") continue;
    if (key == "dest") {
      if (spec.type == OutputSpec::Type::kImage) {
        return fail(ErrorKind::kInvalidArgument,
                    "--output: dest= does not apply to type=" + type->second + " (use name=)");
      }
      spec.dest = value;
    } else if (key == "name" && spec.type == OutputSpec::Type::kImage) {
      spec.name = value;
    } else if (key == "push" && spec.type == OutputSpec::Type::kImage) {
      spec.push = TRY(parse_bool(key, value)) || type->second == "registry";
    } else {
      return fail(ErrorKind::kInvalidArgument,
                  "--output: unknown key \"" + key + "\" for type=" + type->second);
    }
  }
  if (spec.type != OutputSpec::Type::kImage && spec.dest.empty()) {
    if (spec.type == OutputSpec::Type::kLocal) {
      return fail(ErrorKind::kInvalidArgument, "--output type=local: dest=DIR is required");
    }
    spec.dest = "-";  // tar, oci and docker go to stdout without dest, as BuildKit's
  }
  return spec;
}

}  // namespace imgbuild::builder
