// Internal: decides whether an instruction's arguments are a JSON array of strings (exec form),
// with Go encoding/json's rules (json.Unmarshal into []interface{}): the whole text must be one
// valid JSON value; a valid array with a non-string item is an error of its own; anything else
// (invalid JSON, an object) means "not JSON" and the caller falls back to shell form.
// Strings are decoded as Go does (\uXXXX with surrogate pairs, invalid UTF-8 -> U+FFFD).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace imgbuild::builder::dockerfile {

enum class JsonArrayStatus { kStrings, kNotJson, kNotStrings };

JsonArrayStatus parse_json_string_array(std::string_view text, std::vector<std::string>* out);

}  // namespace imgbuild::builder::dockerfile
