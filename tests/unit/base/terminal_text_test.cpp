#include "base/terminal_text.h"

#include <catch2/catch.hpp>

using namespace imgbuild;
using namespace std::string_literals;

TEST_CASE("escape_control_chars writes ESC, CR and other C0 controls as \\xNN") {
  CHECK(escape_control_chars("RUN echo \x1b[2J") == "RUN echo \\x1b[2J");
  CHECK(escape_control_chars("ok\rforged") == "ok\\x0dforged");
  CHECK(escape_control_chars("a\bb\x07"s + '\0' + "c\x7f") == "a\\x08b\\x07\\x00c\\x7f");
}

TEST_CASE("escape_control_chars keeps newline, tab, backslash and printable UTF-8") {
  CHECK(escape_control_chars("line 1\n\tline 2") == "line 1\n\tline 2");
  CHECK(escape_control_chars("C:\\dir \"q\"") == "C:\\dir \"q\"");
  CHECK(escape_control_chars("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3") ==
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3");
  CHECK(escape_control_chars("\xc2\xa0nbsp") == "\xc2\xa0nbsp");
  CHECK(escape_control_chars("") == "");
}

TEST_CASE("escape_control_chars escapes C1 controls and bytes that are not UTF-8") {
  // U+009B is CSI in UTF-8; a lone 0x9b byte is CSI to a terminal in an 8-bit mode.
  CHECK(escape_control_chars("x\xc2\x9b"
                             "2Jy") == "x\\xc2\\x9b2Jy");
  CHECK(escape_control_chars("x\x9b"
                             "2Jy") == "x\\x9b2Jy");
  // Truncated, overlong and surrogate sequences, and a lead byte at the very end.
  CHECK(escape_control_chars("\xe2\x82") == "\\xe2\\x82");
  CHECK(escape_control_chars("\xc0\x9b") == "\\xc0\\x9b");
  CHECK(escape_control_chars("\xed\xa0\x80") == "\\xed\\xa0\\x80");
  CHECK(escape_control_chars("end\xf0") == "end\\xf0");
}
