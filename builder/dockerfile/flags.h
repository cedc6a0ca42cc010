// Internal: BuildKit's BFlags, the `--name=value` flags of one instruction. Declare the flags an
// instruction accepts, then parse(); messages are BuildKit's ("unknown flag: fro (did you mean
// from?)", "missing a value on flag: from", "duplicate flag specified: chown",
// "expecting boolean value for flag link, not: maybe"). Single-use, not thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace imgbuild::builder::dockerfile {

class Flags {
 public:
  explicit Flags(const std::vector<std::string>& args) : args_(args) {}

  void add_bool(const std::string& name) { defs_[name] = Def{Type::kBool}; }
  void add_string(const std::string& name) { defs_[name] = Def{Type::kString}; }
  void add_strings(const std::string& name) { defs_[name] = Def{Type::kStrings}; }

  Status parse();

  bool used(const std::string& name) const;
  std::string value(const std::string& name) const;                // "" when not given
  bool is_true(const std::string& name) const;                     // bool flags
  std::vector<std::string> values(const std::string& name) const;  // repeated flags

 private:
  enum class Type { kBool, kString, kStrings };
  struct Def {
    Type type;
    bool used = false;
    std::string value;
    std::vector<std::string> values;
  };
  const std::vector<std::string>& args_;
  std::map<std::string, Def> defs_;
};

}  // namespace imgbuild::builder::dockerfile
