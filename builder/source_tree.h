// SourceTree: where COPY/ADD read their sources from: the build context or another stage's (or
// image's) filesystem. Both answer the same three questions, so the copy logic is written once.
//
// Paths are relative, cleaned, '/'-separated; "" is the tree's root. Entries report the real path
// of a file that may be opened for reading. Implementations are read-only and thread-compatible.
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "builder/build_context.h"
#include "builder/layer_view.h"

namespace imgbuild::builder {

struct SourceEntry {
  std::string path;       // relative to the tree root
  std::string real_path;  // readable file on the host
  struct stat st {};
  std::string link_target;  // symlinks only
};

class SourceTree {
 public:
  virtual ~SourceTree() = default;
  // The entry at path (nullopt when absent). Symlinks in leading components are resolved inside
  // the tree; the last component is followed only when follow_final.
  virtual Result<std::optional<SourceEntry>> stat(std::string_view path,
                                                  bool follow_final) const = 0;
  // Sorted child names of a directory.
  virtual Result<std::vector<std::string>> list(std::string_view dir) const = 0;
  // Whether uid/gid of entries are meaningful (image trees) or reset to 0 (the context, whose
  // owners are the client's, which Docker discards).
  virtual bool keeps_owners() const = 0;
  // Name used in error messages ("build context", "stage builder").
  virtual std::string describe() const = 0;
};

// Expands Go filepath.Match wildcards component by component; sorted, possibly empty.
Result<std::vector<std::string>> expand_pattern(const SourceTree& tree, std::string_view pattern);

class ContextTree final : public SourceTree {
 public:
  explicit ContextTree(const BuildContext& context) : context_(context) {}
  Result<std::optional<SourceEntry>> stat(std::string_view path, bool follow_final) const override;
  Result<std::vector<std::string>> list(std::string_view dir) const override;
  bool keeps_owners() const override { return false; }
  std::string describe() const override { return "build context"; }

 private:
  const BuildContext& context_;
};

class ImageTree final : public SourceTree {
 public:
  ImageTree(const LayerView& view, std::string name) : view_(view), name_(std::move(name)) {}
  Result<std::optional<SourceEntry>> stat(std::string_view path, bool follow_final) const override;
  Result<std::vector<std::string>> list(std::string_view dir) const override;
  bool keeps_owners() const override { return true; }
  std::string describe() const override { return name_; }

 private:
  const LayerView& view_;
  std::string name_;
};

}  // namespace imgbuild::builder
