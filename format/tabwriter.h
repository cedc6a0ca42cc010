// Go's text/tabwriter as Docker configures it for tables (minwidth 10, tabwidth 1, padding 3,
// pad with spaces, no flags): text is cut into cells at '\t' and lines at '\n'; a cell ended by a
// tab belongs to a column, and each column block (consecutive lines that have that column) is as
// wide as its widest cell plus the padding, at least minwidth. The last cell of a line is not
// part of a column and is written as is. Widths count UTF-8 code points, as Go counts runes.
// Pure function; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace imgbuild::format {

struct TabwriterOptions {
  size_t min_width = 10;
  size_t padding = 3;
};

std::string tabwrite(std::string_view text, TabwriterOptions options = {});

}  // namespace imgbuild::format
