// Internal helpers for reading untrusted JSON into the model types without exceptions escaping:
// each getter checks the type and returns kCorrupt naming the document and the field
// ("image config: \"os\" must be a string"). dump() is the one serialiser: compact, keys sorted
// (nlohmann::json objects are ordered maps), invalid UTF-8 replaced, so output is deterministic.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace imgbuild::image::json_util {

using nlohmann::json;

Result<json> parse(std::string_view bytes, std::string_view what);
std::string dump(const json& j);

std::unexpected<Error> corrupt(std::string_view what, std::string_view message);

// Absent or null keys leave `out` unchanged; a value of the wrong type is an error.
Status get_string(const json& obj, const char* key, std::string& out, std::string_view what);
Status get_int64(const json& obj, const char* key, int64_t& out, std::string_view what);
Status get_int(const json& obj, const char* key, int& out, std::string_view what);
Status get_bool(const json& obj, const char* key, bool& out, std::string_view what);
Status get_string_list(const json& obj, const char* key, std::vector<std::string>& out,
                       std::string_view what);
Status get_string_map(const json& obj, const char* key, std::map<std::string, std::string>& out,
                      std::string_view what);

// True when obj has key with a non-null value.
bool has(const json& obj, const char* key);

}  // namespace imgbuild::image::json_util
