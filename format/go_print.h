// Go's fmt formatting of JSON-shaped values, as Docker's templates print them: the values a Go
// template sees in Docker are structs, maps and slices, and `{{.Config.Env}}` prints "[A=1 B=2]",
// `{{.Config.ExposedPorts}}` "map[80/tcp:{}]". Here the values are nlohmann::json:
//   string -> as is; integer -> decimal; float -> shortest form, no trailing ".0" for integral
//   values; bool -> true/false; array -> "[a b]"; object -> "map[k:v]" with keys sorted (Go sorts
//   map keys); an empty object nested in another value -> "{}" (Go's struct{}{}, the value type of
//   Docker's port and volume sets); null nested in another value -> "<nil>".
// A null at the top of an action prints "<no value>" (the template executor decides that).
// Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/error.h"

namespace imgbuild::format {

// fmt.Sprint(v) for one value (the %v verb).
std::string go_sprint(const nlohmann::json& value);

// Go's type name of a value, for error messages: string, float64, bool, []interface {},
// map[string]interface {}, <nil>.
std::string go_type_name(const nlohmann::json& value);

// fmt.Sprintf(format, args...) for the verbs %v %s %d %q %x %X %f %g %e %t %c %%, with flags
// "-+ 0#", width and precision. Wrong or missing arguments print as Go does ("%!d(string=x)",
// "%!s(MISSING)", "%!(EXTRA string=x)").
std::string go_sprintf(const std::string& format, const std::vector<nlohmann::json>& args);

// Go's strconv.Quote: double-quoted with Go escapes; printable UTF-8 kept.
std::string go_quote(const std::string& text);

}  // namespace imgbuild::format
