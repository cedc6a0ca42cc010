#include "cli/registry_progress.h"

#include <unistd.h>

#include "base/terminal_text.h"

namespace imgbuild::cli {

std::string human_size(int64_t bytes) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f%s" : "%.1f%s", v, kUnits[u]);
  return buf;
}

RegistryProgress::RegistryProgress(std::FILE* out, ProgressOutput output)
    : out_(out), quiet_(output == ProgressOutput::kQuiet), tty_(::isatty(::fileno(out)) == 1) {}

RegistryProgress::Line& RegistryProgress::line_for(const image::Digest& blob) {
  std::string id = blob.short_hex();
  for (auto& l : lines_) {
    if (l.id == id) return l;
  }
  lines_.push_back(Line{.id = id});
  return lines_.back();
}

void RegistryProgress::redraw(Redraw when) {
  auto now = std::chrono::steady_clock::now();
  if (when == Redraw::kThrottled && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  std::string buf;
  if (drawn_ > 0) buf += "\x1b[" + std::to_string(drawn_) + "A";
  for (const auto& l : lines_) {
    buf += "\r\x1b[2K" + l.id + ": " + l.status;
    if (l.total > 0 && (l.status == "Downloading" || l.status == "Pushing")) {
      buf += "  " + human_size(l.done) + "/" + human_size(l.total);
    }
    buf += "\n";
  }
  drawn_ = lines_.size();
  std::fputs(buf.c_str(), out_);
  std::fflush(out_);
}

void RegistryProgress::begin(const image::Digest& blob, int64_t total, std::string_view status) {
  if (quiet_ || !tty_) return;
  std::lock_guard lock(mu_);
  Line& l = line_for(blob);
  l.status = escape_control_chars(status);
  l.total = total;
  l.done = 0;
  redraw(Redraw::kNow);
}

void RegistryProgress::advance(const image::Digest& blob, int64_t done) {
  if (quiet_ || !tty_) return;
  std::lock_guard lock(mu_);
  line_for(blob).done = done;
  redraw(Redraw::kThrottled);
}

void RegistryProgress::end(const image::Digest& blob, std::string_view status) {
  if (quiet_) return;
  std::lock_guard lock(mu_);
  if (!tty_) {
    std::fprintf(out_, "%s: %s\n", blob.short_hex().c_str(), escape_control_chars(status).c_str());
    std::fflush(out_);
    return;
  }
  line_for(blob).status = escape_control_chars(status);
  redraw(Redraw::kNow);
}

void RegistryProgress::message(std::string_view line) {
  if (quiet_) return;
  std::lock_guard lock(mu_);
  // Messages go below the table, which then starts afresh.
  // Messages name references and repeat registry warnings: no raw control characters.
  std::fprintf(out_, "%s\n", escape_control_chars(line).c_str());
  std::fflush(out_);
  lines_.clear();
  drawn_ = 0;
}

}  // namespace imgbuild::cli
