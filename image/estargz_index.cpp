#include "image/estargz_index.h"

#include <algorithm>
#include <optional>
#include <set>
#include <unordered_set>

#include "base/path_clean.h"
#include "image/digest.h"

namespace imgbuild::image {
namespace {

std::unexpected<Error> corrupt(std::string_view name, std::string_view why) {
  return fail(ErrorKind::kCorrupt,
              "eStargz TOC: entry \"" + std::string(name) + "\": " + std::string(why));
}

bool known_type(std::string_view t) {
  return t == "dir" || t == "reg" || t == "symlink" || t == "hardlink" || t == "char" ||
         t == "block" || t == "fifo" || t == "chunk";
}

// The clean form of a name already written cleanly (as writers do: "usr/bin/", "./etc/x"), without
// clean_path's allocations; nullopt when it has an empty, "." or ".." component to resolve.
std::optional<std::string_view> already_clean(std::string_view name) {
  if (name.starts_with("./")) name.remove_prefix(2);
  while (name.starts_with('/')) name.remove_prefix(1);
  if (name.ends_with('/')) name.remove_suffix(1);
  if (name == ".") return std::string_view();
  for (size_t start = 0; start <= name.size() && !name.empty();) {
    size_t slash = name.find('/', start);
    if (slash == std::string_view::npos) slash = name.size();
    std::string_view part = name.substr(start, slash - start);
    if (part.empty() || part == "." || part == "..") return std::nullopt;
    start = slash + 1;
  }
  return name;
}

// clean_path(name, kForbid) (nullopt for a name with ".."), faster for names already clean.
std::optional<std::string> clean_name(std::string_view name) {
  if (auto fast = already_clean(name)) return std::string(*fast);
  auto cleaned = clean_path(name, DotDot::kForbid);
  if (!cleaned) return std::nullopt;
  return std::move(*cleaned);
}

}  // namespace

std::string EstargzIndex::clean(std::string_view name) {
  if (auto fast = already_clean(name)) return std::string(*fast);
  // Names in a built index have no ".." (build() refuses them), so kKeep resolves nothing there.
  return clean_path(name, DotDot::kKeep).value();  // kKeep never fails
}

Result<EstargzIndex> EstargzIndex::build(estargz::Toc toc, int64_t toc_offset) {
  EstargzIndex index;
  index.toc_ = std::move(toc);
  index.toc_offset_ = toc_offset;
  auto& entries = index.toc_.entries;

  // Member boundaries: every distinct data offset, then the TOC.
  std::set<int64_t> starts;
  for (const auto& e : entries) {
    if ((e.type == "reg" && e.size > 0) || e.type == "chunk") starts.insert(e.offset);
  }
  auto end_of = [&](int64_t offset) {
    auto it = starts.upper_bound(offset);
    return it == starts.end() ? toc_offset : *it;
  };

  std::string current_file;  // the reg entry chunk rows continue
  int64_t current_size = 0;
  std::vector<std::string> cleaned_names(entries.size());  // chunks' stay empty
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    if (!known_type(e.type)) return corrupt(e.name, "unknown type \"" + e.type + "\"");
    auto cleaned = clean_name(e.name);
    if (!cleaned) return corrupt(e.name, "\"..\" in the name");
    std::string name = std::move(*cleaned);
    if (name.empty() && e.type != "dir") return corrupt(e.name, "empty name");
    bool data = (e.type == "reg" && e.size > 0) || e.type == "chunk";
    if (e.type == "chunk") {
      if (name != current_file) return corrupt(e.name, "chunk without its file before it");
    } else {
      index.by_path_[name] = i;  // a later entry of the same name replaces it, as in a tar
      index.chunks_.erase(name);
      current_file = e.type == "reg" ? name : "";
      current_size = e.size;
      cleaned_names[i] = name;
    }
    if (!data) continue;
    auto& chunks = index.chunks_[name];
    int64_t expected = chunks.empty() ? 0 : chunks.back().file_offset + chunks.back().size;
    if (e.chunk_offset != expected) return corrupt(e.name, "chunks do not follow each other");
    int64_t size = e.chunk_size > 0 ? e.chunk_size : current_size - e.chunk_offset;
    if (size <= 0 || e.chunk_offset + size > current_size) {
      return corrupt(e.name, "chunk outside the file");
    }
    if (e.offset < 0 || e.offset >= toc_offset) return corrupt(e.name, "offset outside the blob");
    if (!Digest::parse(e.chunk_digest)) return corrupt(e.name, "bad chunk digest");
    chunks.push_back({.file_offset = e.chunk_offset,
                      .size = size,
                      .blob_offset = e.offset,
                      .blob_end = end_of(e.offset),
                      .inner_offset = e.inner_offset,
                      .digest = e.chunk_digest});
  }
  // Prioritized files: those before the landmark (stargz-snapshotter's writer puts them first).
  std::vector<std::string> before;
  bool landmark = index.by_path_.contains(estargz::kPrefetchLandmark);
  for (size_t i = 0; landmark && i < entries.size(); ++i) {
    const auto& e = entries[i];
    const std::string& name = cleaned_names[i];
    if (e.type == "chunk") continue;
    if (name == estargz::kPrefetchLandmark) {
      for (auto& file : before) {
        const auto* last = &entries[index.by_path_.find(file)->second];
        if (last->type == "reg" && last->size > 0 &&
            std::find(index.prefetch_.begin(), index.prefetch_.end(), file) ==
                index.prefetch_.end()) {
          index.prefetch_.push_back(std::move(file));
        }
      }
      break;
    }
    if (e.type == "reg" && e.size > 0) before.push_back(name);
  }
  // Parents the TOC implies, as tar extraction makes them. Appended after the last entry (the
  // chunks' files are resolved already), so they never replace a listed name.
  std::vector<std::string> implied;
  std::unordered_set<std::string_view> checked;  // directories whose parents were checked
  for (const auto& [name, i] : index.by_path_) {
    for (size_t slash = name.rfind('/'); slash != std::string::npos && slash > 0;
         slash = name.rfind('/', slash - 1)) {
      std::string_view parent = std::string_view(name).substr(0, slash);
      auto it = index.by_path_.find(parent);
      if (it == index.by_path_.end()) {
        implied.emplace_back(parent);
      } else if (entries[it->second].type != "dir") {
        return corrupt(entries[i].name, "a parent is not a directory");
      } else if (!checked.insert(it->first).second) {
        break;  // this directory's own parents are known
      }
    }
  }
  std::sort(implied.begin(), implied.end());
  implied.erase(std::unique(implied.begin(), implied.end()), implied.end());
  for (const auto& name : implied) {
    index.by_path_[name] = entries.size();
    entries.push_back({.name = name, .type = "dir", .mode = 0755});
  }
  std::vector<size_t> order;
  for (const auto& [name, i] : index.by_path_) order.push_back(i);
  std::sort(order.begin(), order.end());
  cleaned_names.resize(entries.size());
  for (size_t k = 0; k < implied.size(); ++k)
    cleaned_names[entries.size() - implied.size() + k] = implied[k];
  index.order_.reserve(order.size());
  for (size_t i : order) {
    const auto* e = &entries[i];
    index.order_.push_back(e);
    const std::string& name = cleaned_names[i];
    if (name.empty()) continue;  // the root
    size_t slash = name.rfind('/');
    index.children_[slash == std::string::npos ? "" : name.substr(0, slash)].push_back(e);
    if (e->type == "hardlink") index.hardlinks_[clean(e->link_name)].push_back(name);
  }
  for (const auto& [name, chunks] : index.chunks_) {
    const auto* e = &index.toc_.entries[index.by_path_.find(name)->second];
    if (chunks.back().file_offset + chunks.back().size != e->size) {
      return corrupt(e->name, "chunks end before the file does");
    }
  }
  return index;
}

const estargz::TocEntry* EstargzIndex::lookup(std::string_view path) const {
  auto key = clean_path(path, DotDot::kForbid);  // no name in the index has ".."
  if (!key) return nullptr;
  auto it = by_path_.find(*key);
  return it == by_path_.end() ? nullptr : &toc_.entries[it->second];
}

const std::vector<const estargz::TocEntry*>& EstargzIndex::children(std::string_view dir) const {
  static const std::vector<const estargz::TocEntry*> kNone;
  auto it = children_.find(dir);
  return it == children_.end() ? kNone : it->second;
}

const std::vector<std::string>& EstargzIndex::hardlinks_to(std::string_view path) const {
  static const std::vector<std::string> kNone;
  auto it = hardlinks_.find(path);
  return it == hardlinks_.end() ? kNone : it->second;
}

const std::vector<EstargzChunk>& EstargzIndex::chunks(std::string_view path) const {
  static const std::vector<EstargzChunk> kNone;
  auto key = clean_path(path, DotDot::kForbid);
  if (!key) return kNone;
  auto it = chunks_.find(*key);
  return it == chunks_.end() ? kNone : it->second;
}

}  // namespace imgbuild::image
