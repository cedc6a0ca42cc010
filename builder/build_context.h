// BuildContext: the build context directory as the build sees it: every path not excluded by
// .dockerignore, with its metadata, plus the content hashes COPY and ADD cache keys need.
//
// open() walks the directory once (lstat only, no reads); content is hashed lazily, only for the
// sources an instruction selects, through the persistent ContextIndex. Paths are relative to the
// context root, '/'-separated; "" is the root itself.
//
// A source hash covers, for every entry under the selected path: its path relative to that
// source, type, permission bits, uid, gid, link target, xattrs and content hash; never times.
//
// Not thread-safe (the index is shared mutable state); the engine hashes from one thread.
#pragma once

#include <sys/stat.h>

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "builder/context_filter.h"
#include "builder/context_index.h"

namespace imgbuild::builder {

struct ContextEntry {
  std::string path;  // relative to the context root
  struct stat st {};
  std::string link_target;  // symlinks only
};

// One entry's contribution to a source hash, kept so that cache misses can name the file.
struct EntryDigest {
  std::string path;    // relative to the selected source
  std::string digest;  // sha256 hex of the entry's record
};

class BuildContext {
 public:
  // `index_file` may be empty (no persistent index). Fails if root is not a directory.
  static Result<BuildContext> open(std::string root, const ContextFilter& filter,
                                   std::string index_file);

  const std::string& root() const { return root_; }
  std::string abs_path(std::string_view rel) const;
  // nullptr when the path is not in the context (missing or excluded).
  const ContextEntry* find(std::string_view rel) const;
  // Names of the direct children of directory `rel`, sorted.
  std::vector<std::string> children(std::string_view rel) const;
  // Every entry strictly below `rel`, sorted by path.
  std::vector<const ContextEntry*> descendants(std::string_view rel) const;

  // Follows a symlink at `rel` (and any chain) inside the context; returns the final path,
  // or an error naming the link when it leaves the context or loops.
  Result<std::string> resolve_symlinks(std::string_view rel) const;

  // The topmost paths the filter left out (.dockerignore): each is an excluded entry whose
  // parent is in the context. Sorted.
  const std::set<std::string, std::less<>>& excluded() const { return excluded_; }

  // Per-entry digests of `rel` and everything below it ("" names `rel` itself).
  Result<std::vector<EntryDigest>> digests(std::string_view rel);

  ContextIndex& index() { return index_; }

 private:
  Status walk(int dirfd, const std::string& rel, const ContextFilter& filter);

  std::string root_;
  std::map<std::string, ContextEntry, std::less<>> entries_;
  std::set<std::string, std::less<>> excluded_;
  ContextIndex index_;
};

// sha256 hex over a list of entry digests (order matters; callers keep them sorted).
std::string combine_digests(const std::vector<EntryDigest>& digests);

// Lexically cleans a context-relative path: removes "." and empty components, resolves "..";
// fails with kInvalidArgument when ".." would leave the root.
Result<std::string> clean_relative(std::string_view path);

// xattrs of a path (not following symlinks) as "name=hexvalue" lines, sorted.
std::string xattr_digest_input(const std::string& abs_path);

}  // namespace imgbuild::builder
