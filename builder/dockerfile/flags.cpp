#include "builder/dockerfile/flags.h"

#include "builder/dockerfile/text_util.h"

namespace imgbuild::builder::dockerfile {

Status Flags::parse() {
  for (const std::string& arg : args_) {
    if (arg.compare(0, 2, "--") != 0)
      return fail(ErrorKind::kParse, "arg should start with -- : " + arg);
    if (arg == "--") return {};
    std::string name = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    auto it = defs_.find(name);
    if (it == defs_.end()) {
      std::vector<const char*> names;
      for (const auto& [known, def] : defs_) names.push_back(known.c_str());
      return fail(ErrorKind::kParse, "unknown flag: " + name +
                                         text::suggestion(name, names.data(), names.size(), true));
    }
    Def& def = it->second;
    if (def.used && def.type != Type::kStrings)
      return fail(ErrorKind::kParse, "duplicate flag specified: " + name);
    def.used = true;
    switch (def.type) {
      case Type::kBool: {
        if (has_value && value.empty())
          return fail(ErrorKind::kParse, "missing a value on flag: " + name);
        std::string lower = text::to_lower(value);
        if (lower.empty() || lower == "true") {
          def.value = "true";
        } else if (lower == "false") {
          def.value = "false";
        } else {
          return fail(ErrorKind::kParse,
                      "expecting boolean value for flag " + name + ", not: " + value);
        }
        break;
      }
      case Type::kString:
        if (!has_value) return fail(ErrorKind::kParse, "missing a value on flag: " + name);
        def.value = value;
        break;
      case Type::kStrings:
        if (!has_value) return fail(ErrorKind::kParse, "missing a value on flag: " + name);
        def.values.push_back(value);
        break;
    }
  }
  return {};
}

bool Flags::used(const std::string& name) const {
  auto it = defs_.find(name);
  return it != defs_.end() && it->second.used;
}

std::string Flags::value(const std::string& name) const {
  auto it = defs_.find(name);
  return it == defs_.end() ? std::string() : it->second.value;
}

bool Flags::is_true(const std::string& name) const { return value(name) == "true"; }

std::vector<std::string> Flags::values(const std::string& name) const {
  auto it = defs_.find(name);
  return it == defs_.end() ? std::vector<std::string>() : it->second.values;
}

}  // namespace imgbuild::builder::dockerfile
