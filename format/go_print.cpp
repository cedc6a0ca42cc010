#include "format/go_print.h"

#include <cmath>
#include <cstdio>

namespace imgbuild::format {
namespace {

std::string sprint_nested(const nlohmann::json& value) {
  if (value.is_null()) return "<nil>";
  if (value.is_object() && value.empty()) return "{}";
  return go_sprint(value);
}

std::string float_text(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  if (d == std::trunc(d) && std::fabs(d) < 1e21) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.0f", d);
    return buf;
  }
  // Shortest representation that reads back exactly, as Go's %v.
  char buf[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  return buf;
}

struct Spec {
  bool minus = false, plus = false, space = false, zero = false, sharp = false;
  int width = -1, precision = -1;
  char verb = 'v';
};

std::string pad(std::string text, const Spec& s) {
  size_t len = 0;
  for (unsigned char c : text) len += (c & 0xC0) != 0x80;
  if (s.width < 0 || len >= static_cast<size_t>(s.width)) return text;
  size_t fill = static_cast<size_t>(s.width) - len;
  if (s.minus) return text + std::string(fill, ' ');
  if (s.zero && s.verb != 's' && s.verb != 'q' && s.verb != 'v') {
    size_t sign = !text.empty() && (text[0] == '-' || text[0] == '+') ? 1 : 0;
    return text.substr(0, sign) + std::string(fill, '0') + text.substr(sign);
  }
  return std::string(fill, ' ') + text;
}

std::string bad_verb(char verb, const nlohmann::json& arg) {
  return std::string("%!") + verb + "(" + go_type_name(arg) + "=" + go_sprint(arg) + ")";
}

std::string format_one(const Spec& s, const nlohmann::json& arg) {
  char buf[128];
  switch (s.verb) {
    case 'v':
      if (s.plus || s.sharp) break;
      return pad(go_sprint(arg), s);
    case 's': {
      if (!arg.is_string() && !arg.is_array() && !arg.is_object()) return bad_verb('s', arg);
      std::string text = go_sprint(arg);
      if (s.precision >= 0 && text.size() > static_cast<size_t>(s.precision)) {
        text.resize(static_cast<size_t>(s.precision));
      }
      return pad(text, s);
    }
    case 'q':
      if (!arg.is_string()) return bad_verb('q', arg);
      return pad(go_quote(arg.get<std::string>()), s);
    case 't':
      if (!arg.is_boolean()) return bad_verb('t', arg);
      return pad(arg.get<bool>() ? "true" : "false", s);
    case 'd':
    case 'x':
    case 'X':
    case 'c': {
      if (arg.is_string() && (s.verb == 'x' || s.verb == 'X')) {
        std::string out;
        for (unsigned char c : arg.get<std::string>()) {
          std::snprintf(buf, sizeof buf, s.verb == 'x' ? "%02x" : "%02X", c);
          out += buf;
        }
        return pad(out, s);
      }
      if (!arg.is_number_integer() && !(arg.is_number_float() && s.verb != 'd' && s.verb != 'c')) {
        return bad_verb(s.verb, arg);
      }
      if (arg.is_number_float()) return bad_verb(s.verb, arg);
      long long v = arg.get<long long>();
      if (s.verb == 'c') {
        std::string out;
        auto cp = static_cast<unsigned long>(v);
        if (cp < 0x80) {
          out += static_cast<char>(cp);
        } else if (cp < 0x800) {
          out += static_cast<char>(0xC0 | (cp >> 6));
          out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
          out += static_cast<char>(0xE0 | (cp >> 12));
          out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
          out += static_cast<char>(0xF0 | (cp >> 18));
          out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
          out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          out += static_cast<char>(0x80 | (cp & 0x3F));
        }
        return pad(out, s);
      }
      if (s.verb == 'd') {
        std::snprintf(buf, sizeof buf, s.plus ? "%+lld" : "%lld", v);
      } else {
        bool neg = v < 0;
        unsigned long long u =
            neg ? 0ULL - static_cast<unsigned long long>(v) : static_cast<unsigned long long>(v);
        std::snprintf(buf, sizeof buf, s.verb == 'x' ? "%s%s%llx" : "%s%s%llX", neg ? "-" : "",
                      s.sharp ? (s.verb == 'x' ? "0x" : "0X") : "", u);
      }
      return pad(buf, s);
    }
    case 'f':
    case 'F':
    case 'e':
    case 'g': {
      if (!arg.is_number()) return bad_verb(s.verb, arg);
      double d = arg.get<double>();
      if (s.verb == 'g' && s.precision < 0) return pad(float_text(d), s);
      int precision = s.precision < 0 ? 6 : s.precision;
      char verb = s.verb == 'F' ? 'f' : s.verb;
      if (verb == 'f') {
        std::snprintf(buf, sizeof buf, s.plus ? "%+.*f" : "%.*f", precision, d);
      } else if (verb == 'e') {
        std::snprintf(buf, sizeof buf, s.plus ? "%+.*e" : "%.*e", precision, d);
      } else {
        std::snprintf(buf, sizeof buf, s.plus ? "%+.*g" : "%.*g", precision, d);
      }
      return pad(buf, s);
    }
    default: break;
  }
  return bad_verb(s.verb, arg);
}

}  // namespace

std::string go_type_name(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null: return "<nil>";
    case nlohmann::json::value_t::string: return "string";
    case nlohmann::json::value_t::boolean: return "bool";
    case nlohmann::json::value_t::number_integer: return "int";
    case nlohmann::json::value_t::number_unsigned: return "int";
    case nlohmann::json::value_t::number_float: return "float64";
    case nlohmann::json::value_t::array: return "[]interface {}";
    case nlohmann::json::value_t::object: return "map[string]interface {}";
    default: return "interface {}";
  }
}

std::string go_sprint(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null: return "<nil>";
    case nlohmann::json::value_t::string: return value.get<std::string>();
    case nlohmann::json::value_t::boolean: return value.get<bool>() ? "true" : "false";
    case nlohmann::json::value_t::number_integer: return std::to_string(value.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: return std::to_string(value.get<uint64_t>());
    case nlohmann::json::value_t::number_float: return float_text(value.get<double>());
    case nlohmann::json::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < value.size(); ++i) {
        if (i > 0) out += ' ';
        out += sprint_nested(value[i]);
      }
      return out + "]";
    }
    case nlohmann::json::value_t::object: {
      // nlohmann's object is a std::map: iteration is already in sorted key order, as Go's fmt.
      std::string out = "map[";
      bool first = true;
      for (const auto& [key, v] : value.items()) {
        if (!first) out += ' ';
        first = false;
        out += key + ":" + sprint_nested(v);
      }
      return out + "]";
    }
    default: return "";
  }
}

std::string go_quote(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string go_sprintf(const std::string& format, const std::vector<nlohmann::json>& args) {
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out += format[i];
      continue;
    }
    Spec s;
    ++i;
    for (; i < format.size(); ++i) {
      char f = format[i];
      if (f == '-') {
        s.minus = true;
      } else if (f == '+') {
        s.plus = true;
      } else if (f == ' ') {
        s.space = true;
      } else if (f == '0') {
        s.zero = true;
      } else if (f == '#') {
        s.sharp = true;
      } else {
        break;
      }
    }
    auto number = [&](int* target) {
      if (i < format.size() && format[i] == '*') {
        ++i;
        if (next < args.size() && args[next].is_number_integer()) *target = args[next].get<int>();
        ++next;
        return;
      }
      int v = -1;
      while (i < format.size() && format[i] >= '0' && format[i] <= '9') {
        v = (v < 0 ? 0 : v * 10) + (format[i] - '0');
        ++i;
      }
      *target = v;
    };
    number(&s.width);
    if (i < format.size() && format[i] == '.') {
      ++i;
      number(&s.precision);
      if (s.precision < 0) s.precision = 0;
    }
    if (i >= format.size()) {
      out += "%!(NOVERB)";
      break;
    }
    s.verb = format[i];
    if (s.verb == '%') {
      out += '%';
      continue;
    }
    if (next >= args.size()) {
      out += std::string("%!") + s.verb + "(MISSING)";
      continue;
    }
    out += format_one(s, args[next++]);
  }
  if (next < args.size()) {
    out += "%!(EXTRA ";
    for (size_t k = next; k < args.size(); ++k) {
      if (k > next) out += ", ";
      out += go_type_name(args[k]) + "=" + go_sprint(args[k]);
    }
    out += ")";
  }
  return out;
}

}  // namespace imgbuild::format
