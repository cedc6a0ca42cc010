// Text that is safe to write to a terminal. Error messages and warnings repeat their input
// (Dockerfile lines, image references, file names, registry error bodies); a control character in
// that input must not reach the terminal raw, where ESC starts a sequence that can clear the
// screen, move the cursor or retitle the window, and CR or backspace can overwrite what was
// printed before it.
//
// escape_control_chars() keeps newline and tab (multi-line messages exist) and every valid UTF-8
// character that is not a control, and writes each other byte as "\xNN" (lowercase hex): the C0
// controls and DEL, the C1 controls U+0080..U+009F (encoded as two bytes; 8-bit CSI is one of
// them), and bytes that are not valid UTF-8 (a lone 0x9b is CSI to a terminal in an 8-bit mode).
// Backslashes are left as they are, so the result is for reading, not for parsing back. Pure
// function; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace imgbuild {

std::string escape_control_chars(std::string_view text);

}  // namespace imgbuild
