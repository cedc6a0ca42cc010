#include "builder/progress.h"

#include <unistd.h>

#include <deque>
#include <map>
#include <mutex>
#include <vector>

namespace imgbuild::builder {
namespace {

using Clock = std::chrono::steady_clock;

std::string seconds_since(Clock::time_point start) {
  double s = std::chrono::duration<double>(Clock::now() - start).count();
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1fs", s);
  return buf;
}

class QuietProgress final : public Progress {
 public:
  int begin(std::string_view) override { return ++next_; }
  void cached(int, std::string_view) override {}
  void miss_reason(int, std::string_view) override {}
  void output(int, std::string_view) override {}
  void done(int) override {}
  void failed(int, std::string_view) override {}
  void note(std::string_view) override {}

 private:
  int next_ = 0;
};

class PlainProgress final : public Progress {
 public:
  explicit PlainProgress(FILE* out) : out_(out) {}

  int begin(std::string_view title) override {
    std::lock_guard lock(mu_);
    int id = ++next_;
    starts_[id] = Clock::now();
    std::fprintf(out_, "#%d %.*s\n", id, static_cast<int>(title.size()), title.data());
    std::fflush(out_);
    return id;
  }
  void cached(int step, std::string_view from) override {
    line(step, from.empty() ? std::string("CACHED") : "CACHED (from " + std::string(from) + ")");
  }
  void miss_reason(int step, std::string_view reason) override {
    line(step, "cache miss: " + std::string(reason));
  }
  void output(int step, std::string_view data) override {
    std::lock_guard lock(mu_);
    std::string& partial = partial_[step];
    partial.append(data);
    size_t nl;
    while ((nl = partial.find('\n')) != std::string::npos) {
      double s = std::chrono::duration<double>(Clock::now() - starts_[step]).count();
      std::fprintf(out_, "#%d %.3f %s\n", step, s, partial.substr(0, nl).c_str());
      partial.erase(0, nl + 1);
    }
    std::fflush(out_);
  }
  void done(int step) override {
    flush_partial(step);
    line(step, "DONE " + seconds_since(starts_[step]));
  }
  void failed(int step, std::string_view error) override {
    flush_partial(step);
    line(step, "ERROR: " + std::string(error));
  }
  void note(std::string_view text) override {
    std::lock_guard lock(mu_);
    std::fprintf(out_, "%.*s\n", static_cast<int>(text.size()), text.data());
    std::fflush(out_);
  }

 private:
  void line(int step, const std::string& text) {
    std::lock_guard lock(mu_);
    std::fprintf(out_, "#%d %s\n", step, text.c_str());
    std::fflush(out_);
  }
  void flush_partial(int step) {
    std::lock_guard lock(mu_);
    auto it = partial_.find(step);
    if (it != partial_.end() && !it->second.empty()) {
      std::fprintf(out_, "#%d %s\n", step, it->second.c_str());
      it->second.clear();
    }
  }

  FILE* out_;
  std::mutex mu_;
  int next_ = 0;
  std::map<int, Clock::time_point> starts_;
  std::map<int, std::string> partial_;
};

// Redraws the whole view after moving the cursor back over what was drawn last time. Redraws are
// throttled so that chatty commands do not flood the terminal.
class TtyProgress final : public Progress {
 public:
  explicit TtyProgress(FILE* out) : out_(out), start_(Clock::now()) {}

  int begin(std::string_view title) override {
    std::lock_guard lock(mu_);
    steps_.push_back(Step{std::string(title), Clock::now()});
    redraw(true);
    return static_cast<int>(steps_.size());
  }
  void cached(int step, std::string_view from) override {
    {
      std::lock_guard lock(mu_);
      steps_[static_cast<size_t>(step - 1)].reason = std::string(from);
    }
    set_state(step, State::kCached);
  }
  void miss_reason(int step, std::string_view reason) override {
    std::lock_guard lock(mu_);
    steps_[static_cast<size_t>(step - 1)].reason = std::string(reason);
  }
  void output(int step, std::string_view data) override {
    std::lock_guard lock(mu_);
    Step& s = steps_[static_cast<size_t>(step - 1)];
    s.partial.append(data);
    size_t nl;
    while ((nl = s.partial.find('\n')) != std::string::npos) {
      s.tail.push_back(s.partial.substr(0, nl));
      if (s.tail.size() > 6) s.tail.pop_front();
      s.partial.erase(0, nl + 1);
    }
    redraw(false);
  }
  void done(int step) override { set_state(step, State::kDone); }
  void failed(int step, std::string_view error) override {
    std::lock_guard lock(mu_);
    Step& s = steps_[static_cast<size_t>(step - 1)];
    s.state = State::kFailed;
    s.error = std::string(error);
    s.end = Clock::now();
    redraw(true);
  }
  void note(std::string_view text) override {
    std::lock_guard lock(mu_);
    notes_.emplace_back(text);
    redraw(true);
  }
  void finish() override {
    std::lock_guard lock(mu_);
    redraw(true);
  }

 private:
  enum class State { kRunning, kCached, kDone, kFailed };
  struct Step {
    std::string title;
    Clock::time_point begin;
    Clock::time_point end{};
    State state = State::kRunning;
    std::string reason;
    std::string error;
    std::deque<std::string> tail;
    std::string partial;
  };

  void set_state(int step, State state) {
    std::lock_guard lock(mu_);
    Step& s = steps_[static_cast<size_t>(step - 1)];
    s.state = state;
    s.end = Clock::now();
    redraw(true);
  }

  void redraw(bool force) {
    auto now = Clock::now();
    if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    std::string frame;
    for (int i = 0; i < drawn_lines_; ++i) frame += "\x1b[1A\x1b[2K";
    frame += "\r";
    int lines = 0;
    auto add = [&](const std::string& l) {
      frame += l.substr(0, 200);
      frame += "\n";
      ++lines;
    };
    add("[+] Building " + seconds_since(start_));
    for (size_t i = 0; i < steps_.size(); ++i) {
      const Step& s = steps_[i];
      std::string head = " => ";
      if (s.state == State::kFailed) head = " => ERROR ";
      std::string timing;
      if (s.state == State::kCached) {
        timing = s.reason.empty() ? "CACHED" : "CACHED (from " + s.reason + ")";
      } else {
        auto end = s.state == State::kRunning ? now : s.end;
        char buf[32];
        std::snprintf(buf, sizeof(buf), "%.1fs",
                      std::chrono::duration<double>(end - s.begin).count());
        timing = buf;
      }
      add(head + s.title + "  " + timing);
      if (s.state == State::kRunning || s.state == State::kFailed) {
        for (const auto& t : s.tail) add(" => => " + t);
      }
      if (s.state == State::kFailed) add(" => => " + s.error);
    }
    for (const auto& n : notes_) add(" => " + n);
    std::fputs(frame.c_str(), out_);
    std::fflush(out_);
    drawn_lines_ = lines;
  }

  FILE* out_;
  std::mutex mu_;
  Clock::time_point start_;
  Clock::time_point last_draw_{};
  std::vector<Step> steps_;
  std::vector<std::string> notes_;
  int drawn_lines_ = 0;
};

}  // namespace

std::unique_ptr<Progress> make_progress(ProgressMode mode, FILE* out) {
  if (mode == ProgressMode::kAuto) {
    mode = ::isatty(::fileno(out)) ? ProgressMode::kTty : ProgressMode::kPlain;
  }
  switch (mode) {
    case ProgressMode::kQuiet: return std::make_unique<QuietProgress>();
    case ProgressMode::kTty: return std::make_unique<TtyProgress>(out);
    default: return std::make_unique<PlainProgress>(out);
  }
}

bool parse_progress_mode(std::string_view text, ProgressMode* mode) {
  if (text == "auto")
    *mode = ProgressMode::kAuto;
  else if (text == "plain")
    *mode = ProgressMode::kPlain;
  else if (text == "tty")
    *mode = ProgressMode::kTty;
  else if (text == "quiet")
    *mode = ProgressMode::kQuiet;
  else
    return false;
  return true;
}

}  // namespace imgbuild::builder
