#include "image/json_util.h"

namespace imgbuild::image::json_util {

std::unexpected<Error> corrupt(std::string_view what, std::string_view message) {
  return fail(ErrorKind::kCorrupt, std::string(what) + ": " + std::string(message));
}

Result<json> parse(std::string_view bytes, std::string_view what) {
  json j = json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return corrupt(what, "invalid JSON");
  if (!j.is_object()) return corrupt(what, "expected a JSON object");
  return j;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

bool has(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && !it->is_null();
}

static std::string quoted(const char* key) { return "\"" + std::string(key) + "\""; }

Status get_string(const json& obj, const char* key, std::string& out, std::string_view what) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_string()) return corrupt(what, quoted(key) + " must be a string");
  out = it->get<std::string>();
  return {};
}

Status get_int64(const json& obj, const char* key, int64_t& out, std::string_view what) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_number_integer()) return corrupt(what, quoted(key) + " must be an integer");
  out = it->get<int64_t>();
  return {};
}

Status get_int(const json& obj, const char* key, int& out, std::string_view what) {
  int64_t v = out;
  TRY(get_int64(obj, key, v, what));
  if (v < INT32_MIN || v > INT32_MAX) return corrupt(what, quoted(key) + " is out of range");
  out = static_cast<int>(v);
  return {};
}

Status get_bool(const json& obj, const char* key, bool& out, std::string_view what) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_boolean()) return corrupt(what, quoted(key) + " must be a boolean");
  out = it->get<bool>();
  return {};
}

Status get_string_list(const json& obj, const char* key, std::vector<std::string>& out,
                       std::string_view what) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_array()) return corrupt(what, quoted(key) + " must be an array of strings");
  std::vector<std::string> v;
  for (const auto& e : *it) {
    if (!e.is_string()) return corrupt(what, quoted(key) + " must be an array of strings");
    v.push_back(e.get<std::string>());
  }
  out = std::move(v);
  return {};
}

Status get_string_map(const json& obj, const char* key, std::map<std::string, std::string>& out,
                      std::string_view what) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_object()) return corrupt(what, quoted(key) + " must be an object of strings");
  std::map<std::string, std::string> m;
  for (auto e = it->begin(); e != it->end(); ++e) {
    if (!e.value().is_string()) {
      return corrupt(what, quoted(key) + " must be an object of strings");
    }
    m[e.key()] = e.value().get<std::string>();
  }
  out = std::move(m);
  return {};
}

}  // namespace imgbuild::image::json_util
