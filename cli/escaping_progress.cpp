#include "cli/escaping_progress.h"

#include "base/terminal_text.h"

namespace imgbuild::cli {
namespace {

class EscapingProgress final : public builder::Progress {
 public:
  explicit EscapingProgress(std::unique_ptr<builder::Progress> inner) : inner_(std::move(inner)) {}

  int begin(std::string_view title) override { return inner_->begin(escape_control_chars(title)); }
  void cached(int step, std::string_view from) override { inner_->cached(step, from); }
  void miss_reason(int step, std::string_view reason) override {
    inner_->miss_reason(step, escape_control_chars(reason));
  }
  void output(int step, std::string_view data) override { inner_->output(step, data); }
  void done(int step) override { inner_->done(step); }
  void failed(int step, std::string_view error) override {
    inner_->failed(step, escape_control_chars(error));
  }
  void note(std::string_view line) override { inner_->note(escape_control_chars(line)); }
  void finish() override { inner_->finish(); }

 private:
  std::unique_ptr<builder::Progress> inner_;
};

}  // namespace

std::unique_ptr<builder::Progress> escaping_progress(std::unique_ptr<builder::Progress> inner) {
  return std::make_unique<EscapingProgress>(std::move(inner));
}

}  // namespace imgbuild::cli
