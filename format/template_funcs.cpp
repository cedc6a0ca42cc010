// The functions of format/template.h: Go's builtins (text/template/funcs.go) and Docker's
// (cli/templates/templates.go).
#include <cctype>

#include "format/go_print.h"
#include "format/template.h"

namespace imgbuild::format {
namespace {

using Json = nlohmann::json;
using Args = std::vector<Json>;

std::unexpected<Error> bad(std::string message) {
  return fail(ErrorKind::kInvalidArgument, std::move(message));
}

Status want_args(const std::string& name, const Args& args, size_t n) {
  if (args.size() != n) {
    return bad("wrong number of args for " + name + ": want " + std::to_string(n) + " got " +
               std::to_string(args.size()));
  }
  return {};
}

Result<std::string> want_string(const Json& v) {
  if (!v.is_string()) return bad("wrong type for value; expected string; got " + go_type_name(v));
  return v.get<std::string>();
}

Result<int64_t> want_int(const Json& v) {
  if (!v.is_number_integer())
    return bad("wrong type for value; expected int; got " + go_type_name(v));
  return v.get<int64_t>();
}

// Go's eq/lt on basic kinds: numbers compare by value, strings and bools with their own kind.
Result<int> compare(const Json& a, const Json& b, bool ordered) {
  if (a.is_number() && b.is_number()) {
    if (a.is_number_float() || b.is_number_float()) {
      double x = a.get<double>(), y = b.get<double>();
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    int64_t x = a.get<int64_t>(), y = b.get<int64_t>();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (!ordered && a.is_boolean() && b.is_boolean()) return a == b ? 0 : 1;
  if (!ordered && (a.is_null() || b.is_null())) return a.is_null() && b.is_null() ? 0 : 1;
  if (ordered && a.type() == b.type() && (a.is_boolean() || a.is_null())) {
    return bad("invalid type for comparison");
  }
  return bad("incompatible types for comparison");
}

bool title_separator(unsigned char c) {
  if (std::isalnum(c) || c == '_' || c >= 0x80) return false;
  return true;
}

Result<Json> index_into(Json value, const Args& args) {
  if (args.empty()) return bad("wrong number of args for index: want at least 1 got 0");
  for (size_t i = 1; i < args.size(); ++i) {
    const Json& key = args[i];
    if (value.is_array() || value.is_string()) {
      int64_t n = TRY(want_int(key));
      size_t size = value.is_array() ? value.size() : value.get_ref<const std::string&>().size();
      if (n < 0 || static_cast<size_t>(n) >= size) {
        return bad("index out of range: " + std::to_string(n));
      }
      if (value.is_string()) {
        value = static_cast<int64_t>(static_cast<unsigned char>(
            value.get_ref<const std::string&>()[static_cast<size_t>(n)]));
      } else {
        Json inner = value[static_cast<size_t>(n)];
        value = std::move(inner);
      }
    } else if (value.is_object()) {
      std::string k = TRY(want_string(key));
      auto it = value.find(k);
      if (it == value.end()) return Json(nullptr);
      Json inner = *it;
      value = std::move(inner);
    } else if (value.is_null()) {
      return bad("index of untyped nil");
    } else {
      return bad("can't index item of type " + go_type_name(value));
    }
  }
  return value;
}

Result<Json> slice_of(const Args& args) {
  if (args.empty()) return bad("wrong number of args for slice: want at least 1 got 0");
  const Json& v = args[0];
  size_t size = 0;
  if (v.is_string()) {
    size = v.get_ref<const std::string&>().size();
  } else if (v.is_array()) {
    size = v.size();
  } else {
    return bad("can't slice item of type " + go_type_name(v));
  }
  if (args.size() > 3) return bad("too many slice indexes: " + std::to_string(args.size() - 1));
  int64_t lo = args.size() > 1 ? TRY(want_int(args[1])) : 0;
  int64_t hi = args.size() > 2 ? TRY(want_int(args[2])) : static_cast<int64_t>(size);
  if (lo < 0 || hi < lo || static_cast<size_t>(hi) > size) {
    return bad("slice index out of range");
  }
  if (v.is_string()) {
    return Json(v.get_ref<const std::string&>().substr(static_cast<size_t>(lo),
                                                       static_cast<size_t>(hi - lo)));
  }
  Json out = Json::array();
  for (int64_t i = lo; i < hi; ++i) out.push_back(v[static_cast<size_t>(i)]);
  return out;
}

// fmt.Sprint: a space between operands when neither is a string.
std::string sprint(const Args& args) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0 && !args[i].is_string() && !args[i - 1].is_string()) out += ' ';
    out += go_sprint(args[i]);
  }
  return out;
}

std::string json_text(const Json& v) {
  // encoding/json with SetEscapeHTML(false): compact, keys sorted, UTF-8 as is.
  return v.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<Json> docker_function(const std::string& name, const Args& args) {
  if (name == "json") {
    TRY(want_args(name, args, 1));
    return Json(json_text(args[0]));
  }
  if (name == "lower" || name == "upper" || name == "title") {
    TRY(want_args(name, args, 1));
    std::string s = TRY(want_string(args[0]));
    bool at_start = true;
    for (char& c : s) {
      auto u = static_cast<unsigned char>(c);
      if (name == "lower") {
        c = static_cast<char>(std::tolower(u));
      } else if (name == "upper") {
        c = static_cast<char>(std::toupper(u));
      } else {
        if (at_start) c = static_cast<char>(std::toupper(u));
        at_start = title_separator(u);
      }
    }
    return Json(s);
  }
  if (name == "split") {
    TRY(want_args(name, args, 2));
    std::string s = TRY(want_string(args[0]));
    std::string sep = TRY(want_string(args[1]));
    Json out = Json::array();
    if (sep.empty()) {
      for (size_t i = 0; i < s.size();) {
        size_t n = 1;
        while (i + n < s.size() && (static_cast<unsigned char>(s[i + n]) & 0xC0) == 0x80) ++n;
        out.push_back(s.substr(i, n));
        i += n;
      }
      return out;
    }
    size_t start = 0;
    for (size_t at; (at = s.find(sep, start)) != std::string::npos; start = at + sep.size()) {
      out.push_back(s.substr(start, at - start));
    }
    out.push_back(s.substr(start));
    return out;
  }
  if (name == "join") {
    TRY(want_args(name, args, 2));
    std::string sep = TRY(want_string(args[1]));
    if (args[0].is_null()) return Json("");
    if (!args[0].is_array()) {
      return bad("wrong type for value; expected []string; got " + go_type_name(args[0]));
    }
    std::string out;
    for (size_t i = 0; i < args[0].size(); ++i) {
      if (i > 0) out += sep;
      out += go_sprint(args[0][i]);
    }
    return Json(out);
  }
  if (name == "pad") {
    TRY(want_args(name, args, 3));
    std::string s = TRY(want_string(args[0]));
    int64_t prefix = TRY(want_int(args[1]));
    int64_t suffix = TRY(want_int(args[2]));
    return Json(std::string(static_cast<size_t>(std::max<int64_t>(prefix, 0)), ' ') + s +
                std::string(static_cast<size_t>(std::max<int64_t>(suffix, 0)), ' '));
  }
  if (name == "truncate") {
    TRY(want_args(name, args, 2));
    std::string s = TRY(want_string(args[0]));
    int64_t n = TRY(want_int(args[1]));
    size_t runes = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
        if (static_cast<int64_t>(runes) == n) return Json(s.substr(0, i));
        ++runes;
      }
    }
    return Json(s);
  }
  return bad("function \"" + name + "\" not defined");
}

}  // namespace

Result<Json> call_template_function(const std::string& name, const Args& args,
                                    Functions functions) {
  static const std::vector<std::string> kDocker = {"json",  "split", "join", "title",
                                                   "lower", "upper", "pad",  "truncate"};
  if (std::find(kDocker.begin(), kDocker.end(), name) != kDocker.end()) {
    if (functions == Functions::kHeader) {
      if (args.empty()) return bad("wrong number of args for " + name + ": want 1 got 0");
      return Json(args[0].is_string() ? args[0].get<std::string>() : go_sprint(args[0]));
    }
    return docker_function(name, args);
  }
  if (name == "and" || name == "or") {
    if (args.empty()) return bad("wrong number of args for " + name + ": want at least 1 got 0");
    for (size_t i = 0; i + 1 < args.size(); ++i) {
      if (go_truth(args[i]) == (name == "or")) return args[i];
    }
    return args.back();
  }
  if (name == "not") {
    TRY(want_args(name, args, 1));
    return Json(!go_truth(args[0]));
  }
  if (name == "len") {
    TRY(want_args(name, args, 1));
    const Json& v = args[0];
    if (v.is_string()) return Json(static_cast<int64_t>(v.get_ref<const std::string&>().size()));
    if (v.is_array() || v.is_object()) return Json(static_cast<int64_t>(v.size()));
    if (v.is_null()) return bad("len of nil pointer");
    return bad("len of type " + go_type_name(v));
  }
  if (name == "index") {
    if (args.empty()) return bad("wrong number of args for index: want at least 1 got 0");
    return index_into(args[0], args);
  }
  if (name == "slice") return slice_of(args);
  if (name == "print") return Json(sprint(args));
  if (name == "println") {
    std::string out;
    for (size_t i = 0; i < args.size(); ++i) {
      if (i > 0) out += ' ';
      out += go_sprint(args[i]);
    }
    return Json(out + "\n");
  }
  if (name == "printf") {
    if (args.empty()) return bad("wrong number of args for printf: want at least 1 got 0");
    std::string f = TRY(want_string(args[0]));
    return Json(go_sprintf(f, Args(args.begin() + 1, args.end())));
  }
  if (name == "eq") {
    if (args.size() < 2) return bad("missing argument for comparison");
    for (size_t i = 1; i < args.size(); ++i) {
      if (TRY(compare(args[0], args[i], false)) == 0) return Json(true);
    }
    return Json(false);
  }
  if (name == "ne" || name == "lt" || name == "le" || name == "gt" || name == "ge") {
    TRY(want_args(name, args, 2));
    int c = TRY(compare(args[0], args[1], name != "ne"));
    if (name == "ne") return Json(c != 0);
    if (name == "lt") return Json(c < 0);
    if (name == "le") return Json(c <= 0);
    if (name == "gt") return Json(c > 0);
    return Json(c >= 0);
  }
  return bad("function \"" + name + "\" not defined");
}

}  // namespace imgbuild::format
