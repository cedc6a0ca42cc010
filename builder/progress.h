// Progress: what a build reports while it runs, and the three displays of it.
//
//   plain  BuildKit-like numbered step lines, every line of command output, and for each step
//          either "CACHED" or the reason it missed ("cache miss: file app/main.c changed"), then
//          "DONE 1.2s" / "ERROR: ...".
//   tty    a live view redrawn in place: one line per step with its timing or CACHED, and the
//          last lines of output of each running step; the final view stays on screen.
//   quiet  nothing but errors (the CLI prints those).
//
// Thread-safe: stages run in parallel and report concurrently; every method locks. Output goes to
// the FILE given at creation (stderr in the CLI). Step ids are assigned by begin().
#pragma once

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace imgbuild::builder {

enum class ProgressMode { kAuto, kPlain, kTty, kQuiet };

class Progress {
 public:
  virtual ~Progress() = default;
  // A new step, e.g. "[build 2/4] RUN make". Returns its id.
  virtual int begin(std::string_view title) = 0;
  // The step reused a cache record; `from` names the cache it was imported from ("" for the
  // store's own), shown as BuildKit does: "CACHED (from localhost:5000/app:cache)".
  virtual void cached(int step, std::string_view from) = 0;
  virtual void miss_reason(int step, std::string_view reason) = 0;
  // Raw output bytes of a running command (not necessarily whole lines).
  virtual void output(int step, std::string_view data) = 0;
  virtual void done(int step) = 0;
  virtual void failed(int step, std::string_view error) = 0;
  // A line outside any step ("[Warning] ...", "writing image sha256:... done").
  virtual void note(std::string_view line) = 0;
  // Called once at the end (the tty view draws its final state).
  virtual void finish() {}
};

// kAuto picks kTty when `out` is a terminal, else kPlain.
std::unique_ptr<Progress> make_progress(ProgressMode mode, FILE* out);

// Parses "auto", "plain", "tty", "quiet"; nullopt-like false on anything else.
bool parse_progress_mode(std::string_view text, ProgressMode* mode);

}  // namespace imgbuild::builder
