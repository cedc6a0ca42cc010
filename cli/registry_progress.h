// Progress display for pull and push. On a terminal: one line per blob ("a1b2c3d4e5f6:
// Downloading  12.3MB/45.6MB"), redrawn in place at most ten times a second. Otherwise plain,
// append-only lines for final states and messages only, so logs and tests see stable output.
// Thread-safe (registry workers report concurrently).
#pragma once

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "registry-client/progress.h"

namespace imgbuild::cli {

// kQuiet prints nothing at all (pull -q, push -q).
enum class ProgressOutput { kShown, kQuiet };

class RegistryProgress final : public registry::Progress {
 public:
  RegistryProgress(std::FILE* out, ProgressOutput output);

  void begin(const image::Digest& blob, int64_t total, std::string_view status) override;
  void advance(const image::Digest& blob, int64_t done) override;
  void end(const image::Digest& blob, std::string_view status) override;
  void message(std::string_view line) override;

 private:
  struct Line {
    std::string id;
    std::string status;
    int64_t done = 0;
    int64_t total = 0;
  };
  Line& line_for(const image::Digest& blob);  // mu_ held
  // kThrottled redraws at most ten times a second; kNow always.
  enum class Redraw { kThrottled, kNow };
  void redraw(Redraw when);  // mu_ held

  std::FILE* out_;
  bool quiet_;
  bool tty_;
  std::mutex mu_;
  std::vector<Line> lines_;
  size_t drawn_ = 0;  // lines on screen belonging to the table
  std::chrono::steady_clock::time_point last_draw_{};
};

std::string human_size(int64_t bytes);

}  // namespace imgbuild::cli
