// Docker's --format flag for commands that print rows (images, ps, history, ...), as Docker's
// cli/command/formatter does:
//   ""          the command's default table
//   "table"     the same
//   "table T"   template T, one row per line, aligned by Go's tabwriter (format/tabwriter.h),
//               after a header row: T executed over the column titles with the header functions
//   "json"      one JSON object per row and line ("{{json .}}"), as Docker 24+
//   "T"         template T per row, each followed by a newline, no header
// Literal "\t" and "\n" in the flag become tab and newline, as Docker replaces them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/error.h"
#include "format/template.h"

namespace imgbuild::format {

class ListFormat {
 public:
  // default_table: the command's table template ("{{.ID}}\t{{.Repository}}..." without
  // "table "); headers: column title of each field ({"ID": "IMAGE ID", ...}).
  // Errors: "template parsing error: template: :1: ..." naming the flag's text position.
  static Result<ListFormat> parse(const std::string& flag, const std::string& default_table,
                                  nlohmann::json headers);

  bool is_table() const { return table_; }
  bool is_json() const { return json_; }

  // The rows printed, header first for a table.
  Result<std::string> render(const std::vector<nlohmann::json>& rows) const;

 private:
  ListFormat(Template t, bool table, bool json, nlohmann::json headers)
      : template_(std::move(t)), table_(table), json_(json), headers_(std::move(headers)) {}

  Template template_;
  bool table_ = false;
  bool json_ = false;
  nlohmann::json headers_;
};

// Docker's preprocessing of a --format value: literal "\t" and "\n" become tab and newline.
std::string unescape_format(std::string text);

// Parses a template given with --format for one object (inspect, version): "template parsing
// error: ..." on a syntax error.
Result<Template> parse_format_template(const std::string& flag);

}  // namespace imgbuild::format
