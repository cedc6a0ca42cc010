#include "format/tabwriter.h"

#include <vector>

namespace imgbuild::format {
namespace {

size_t rune_count(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Go's tabwriter.format(), recursive over columns: widths holds the width of each column that
// the lines [line0, line1) share so far.
class Formatter {
 public:
  Formatter(const std::vector<std::vector<std::string>>& lines, TabwriterOptions options)
      : lines_(lines), options_(options) {}

  std::string run() {
    format(0, lines_.size());
    return out_;
  }

 private:
  void write_lines(size_t line0, size_t line1) {
    for (size_t i = line0; i < line1; ++i) {
      const auto& line = lines_[i];
      for (size_t j = 0; j < line.size(); ++j) {
        out_ += line[j];
        if (j < widths_.size() && j + 1 < line.size()) {
          size_t w = rune_count(line[j]);
          if (widths_[j] > w) out_ += std::string(widths_[j] - w, ' ');
        }
      }
      if (i + 1 < lines_.size() || trailing_newline_) out_ += '\n';
    }
  }

  void format(size_t line0, size_t line1) {
    size_t column = widths_.size();
    for (size_t t = line0; t < line1; ++t) {
      if (column + 1 >= lines_[t].size()) continue;
      write_lines(line0, t);
      line0 = t;
      size_t width = options_.min_width;
      for (; t < line1; ++t) {
        const auto& line = lines_[t];
        if (column + 1 >= line.size()) break;
        width = std::max(width, rune_count(line[column]) + options_.padding);
      }
      widths_.push_back(width);
      format(line0, t);
      widths_.pop_back();
      line0 = t;
      if (t >= line1) return;
    }
    write_lines(line0, line1);
  }

 public:
  bool trailing_newline_ = true;

 private:
  const std::vector<std::vector<std::string>>& lines_;
  TabwriterOptions options_;
  std::vector<size_t> widths_;
  std::string out_;
};

}  // namespace

std::string tabwrite(std::string_view text, TabwriterOptions options) {
  std::vector<std::vector<std::string>> lines;
  bool trailing_newline = text.ends_with('\n');
  if (trailing_newline) text.remove_suffix(1);
  if (text.empty() && !trailing_newline) return "";
  std::vector<std::string> cells(1);
  for (char c : text) {
    if (c == '\t') {
      cells.emplace_back();
    } else if (c == '\n') {
      lines.push_back(std::move(cells));
      cells.assign(1, "");
    } else {
      cells.back() += c;
    }
  }
  lines.push_back(std::move(cells));
  Formatter f(lines, options);
  f.trailing_newline_ = trailing_newline;
  return f.run();
}

}  // namespace imgbuild::format
