#include "format/list_format.h"

#include "format/tabwriter.h"

namespace imgbuild::format {

std::string unescape_format(std::string text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == 't' || text[i + 1] == 'n')) {
      out += text[i + 1] == 't' ? '\t' : '\n';
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

Result<Template> parse_format_template(const std::string& flag) {
  auto t = Template::parse(unescape_format(flag));
  if (!t) return fail(t.error().kind(), "template parsing error: " + t.error().message());
  return std::move(*t);
}

Result<ListFormat> ListFormat::parse(const std::string& flag, const std::string& default_table,
                                     nlohmann::json headers) {
  bool table = flag.empty() || flag.starts_with("table");
  bool json = flag == "json";
  std::string text;
  if (json) {
    text = "{{json .}}";
  } else if (flag.empty() || flag == "table") {
    text = default_table;
  } else if (table) {
    text = flag.substr(5);
  } else {
    text = flag;
  }
  if (!json) {
    size_t b = text.find_first_not_of(' ');
    size_t e = text.find_last_not_of(' ');
    text = b == std::string::npos ? "" : text.substr(b, e - b + 1);
  }
  Template t = TRY(parse_format_template(text));
  return ListFormat(std::move(t), table, json, std::move(headers));
}

Result<std::string> ListFormat::render(const std::vector<nlohmann::json>& rows) const {
  std::string out;
  if (table_) {
    out += TRY(template_.execute(headers_, Functions::kHeader));
    out += '\n';
  }
  for (const auto& row : rows) {
    out += TRY(template_.execute(row));
    out += '\n';
  }
  return table_ ? tabwrite(out) : out;
}

}  // namespace imgbuild::format
