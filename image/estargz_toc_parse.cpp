// parse_toc (image/estargz_toc.h): the TOC read with nlohmann's SAX interface straight into
// TocEntry values, without a JSON DOM: a big image's TOC has thousands of entries, and building
// then walking a tree of small maps for them was most of the time to a lazy mount. The checks
// are those of a DOM reader: every known key's type (null counts as absent), unknown keys skipped
// whatever their value, the version, and each entry's name, type and offsets. Errors are
// kCorrupt naming the entry (its index, and its name once read) or the byte where the JSON breaks.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/base64.h"
#include "image/estargz_toc.h"

namespace imgbuild::image::estargz {
namespace {

using json = nlohmann::json;

enum class Field {
  kNone,
  kName,
  kType,
  kModtime,
  kLinkName,
  kUserName,
  kGroupName,
  kDigest,
  kChunkDigest,
  kSize,
  kMode,
  kUid,
  kGid,
  kOffset,
  kInnerOffset,
  kChunkOffset,
  kChunkSize,
  kDevMajor,
  kDevMinor,
  kXattrs,
};

Field field_of(std::string_view key) {
  static constexpr std::pair<std::string_view, Field> kFields[] = {
      {"name", Field::kName},
      {"type", Field::kType},
      {"modtime", Field::kModtime},
      {"linkName", Field::kLinkName},
      {"userName", Field::kUserName},
      {"groupName", Field::kGroupName},
      {"digest", Field::kDigest},
      {"chunkDigest", Field::kChunkDigest},
      {"size", Field::kSize},
      {"mode", Field::kMode},
      {"uid", Field::kUid},
      {"gid", Field::kGid},
      {"offset", Field::kOffset},
      {"innerOffset", Field::kInnerOffset},
      {"chunkOffset", Field::kChunkOffset},
      {"chunkSize", Field::kChunkSize},
      {"devMajor", Field::kDevMajor},
      {"devMinor", Field::kDevMinor},
      {"xattrs", Field::kXattrs},
  };
  for (const auto& [name, field] : kFields) {
    if (name == key) return field;
  }
  return Field::kNone;
}

std::string* string_field(TocEntry& e, Field f) {
  switch (f) {
    case Field::kName: return &e.name;
    case Field::kType: return &e.type;
    case Field::kModtime: return &e.modtime;
    case Field::kLinkName: return &e.link_name;
    case Field::kUserName: return &e.user_name;
    case Field::kGroupName: return &e.group_name;
    case Field::kDigest: return &e.digest;
    case Field::kChunkDigest: return &e.chunk_digest;
    default: return nullptr;
  }
}

int64_t* int_field(TocEntry& e, Field f) {
  switch (f) {
    case Field::kSize: return &e.size;
    case Field::kMode: return &e.mode;
    case Field::kUid: return &e.uid;
    case Field::kGid: return &e.gid;
    case Field::kOffset: return &e.offset;
    case Field::kInnerOffset: return &e.inner_offset;
    case Field::kChunkOffset: return &e.chunk_offset;
    case Field::kChunkSize: return &e.chunk_size;
    case Field::kDevMajor: return &e.dev_major;
    case Field::kDevMinor: return &e.dev_minor;
    default: return nullptr;
  }
}

// Where the parser is: the containers open around the next value.
enum class Ctx { kDocument, kTop, kEntries, kEntry, kXattrs, kSkip };

class TocReader : public nlohmann::json_sax<json> {
 public:
  explicit TocReader(std::string_view what) : what_(what) {}

  Result<Toc> finish(bool parsed) {
    if (error_) return fail(*error_);
    if (!parsed) return corrupt("invalid JSON");
    if (!seen_entries_) return corrupt("\"entries\" must be an array");
    if (toc_.version != 1) {
      return corrupt("unsupported TOC version " + std::to_string(toc_.version));
    }
    return std::move(toc_);
  }

  bool null() override { return scalar(Kind::kNull); }
  bool boolean(bool) override { return scalar(Kind::kOther); }
  bool number_integer(number_integer_t v) override { return integer(v); }
  bool number_unsigned(number_unsigned_t v) override {
    if (v > static_cast<number_unsigned_t>(INT64_MAX)) return integer_out_of_range();
    return integer(static_cast<int64_t>(v));
  }
  bool number_float(number_float_t, const string_t&) override { return scalar(Kind::kOther); }
  bool binary(binary_t&) override { return scalar(Kind::kOther); }

  bool string(string_t& v) override {
    switch (top()) {
      case Ctx::kEntry:
        if (std::string* out = string_field(entry_, field_)) {
          *out = std::move(v);
          return true;
        }
        if (field_ == Field::kNone) return true;
        return type_error();
      case Ctx::kXattrs: {
        auto raw = base64_decode(v);
        if (!raw) return entry_error("xattr " + key_ + " is not base64");
        entry_.xattrs[key_] = std::move(*raw);
        return true;
      }
      default: return scalar(Kind::kOther);
    }
  }

  bool start_object(std::size_t) override {
    switch (top()) {
      case Ctx::kDocument: return push(Ctx::kTop);
      case Ctx::kEntries:
        entry_ = TocEntry{};
        ++entry_index_;
        return push(Ctx::kEntry);
      case Ctx::kEntry:
        if (field_ == Field::kXattrs) return push(Ctx::kXattrs);
        if (field_ == Field::kNone) return push(Ctx::kSkip);
        return type_error();
      case Ctx::kTop:
        if (key_ == "entries") return fail_with(corrupt("\"entries\" must be an array"));
        if (key_ == "version") return fail_with(corrupt("\"version\" must be an integer"));
        return push(Ctx::kSkip);
      case Ctx::kXattrs: return type_error();
      case Ctx::kSkip: return push(Ctx::kSkip);
    }
    return false;
  }

  bool end_object() override {
    Ctx done = top();
    stack_.pop_back();
    if (done == Ctx::kEntry) return end_entry();
    return true;
  }

  bool start_array(std::size_t) override {
    switch (top()) {
      case Ctx::kDocument: return fail_with(corrupt("the TOC must be a JSON object"));
      case Ctx::kTop:
        if (key_ == "entries") {
          seen_entries_ = true;
          toc_.entries.clear();
          return push(Ctx::kEntries);
        }
        if (key_ == "version") return fail_with(corrupt("\"version\" must be an integer"));
        return push(Ctx::kSkip);
      case Ctx::kEntries:
        return fail_with(entry_corrupt(entry_index_ + 1, "", "a TOC entry must be an object"));
      case Ctx::kEntry:
        if (field_ == Field::kNone) return push(Ctx::kSkip);
        return type_error();
      case Ctx::kXattrs: return type_error();
      case Ctx::kSkip: return push(Ctx::kSkip);
    }
    return false;
  }

  bool end_array() override {
    stack_.pop_back();
    return true;
  }

  bool key(string_t& k) override {
    switch (top()) {
      case Ctx::kEntry: field_ = field_of(k); return true;
      case Ctx::kTop:
      case Ctx::kXattrs: key_ = std::move(k); return true;
      default: return true;
    }
  }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception&) override {
    if (!error_) {
      error_ = corrupt("invalid JSON near byte " + std::to_string(position)).error();
    }
    return false;
  }

 private:
  enum class Kind { kNull, kInteger, kOther };

  Ctx top() const { return stack_.empty() ? Ctx::kDocument : stack_.back(); }
  bool push(Ctx c) {
    if (stack_.size() >= kMaxDepth) return fail_with(corrupt("JSON nested too deep"));
    stack_.push_back(c);
    return true;
  }

  bool integer(int64_t v) {
    switch (top()) {
      case Ctx::kEntry:
        if (int64_t* out = int_field(entry_, field_)) {
          *out = v;
          return true;
        }
        return field_ == Field::kNone ? true : type_error();
      case Ctx::kTop:
        if (key_ == "version") {
          if (v < INT32_MIN || v > INT32_MAX)
            return fail_with(corrupt("\"version\" is out of range"));
          toc_.version = static_cast<int>(v);
          return true;
        }
        if (key_ == "entries") return fail_with(corrupt("\"entries\" must be an array"));
        return true;
      default: return scalar(Kind::kInteger);
    }
  }

  bool integer_out_of_range() {
    if (top() == Ctx::kEntry && int_field(entry_, field_) != nullptr) {
      return entry_error(field_name() + " is out of range");
    }
    if (top() == Ctx::kTop && key_ == "version") {
      return fail_with(corrupt("\"version\" is out of range"));
    }
    return scalar(Kind::kInteger);
  }

  // A value other than a string or integer (or one where those were not expected).
  bool scalar(Kind kind) {
    switch (top()) {
      case Ctx::kDocument: return fail_with(corrupt("the TOC must be a JSON object"));
      case Ctx::kTop:
        if (kind == Kind::kNull) return true;
        if (key_ == "entries") return fail_with(corrupt("\"entries\" must be an array"));
        if (key_ == "version") return fail_with(corrupt("\"version\" must be an integer"));
        return true;
      case Ctx::kEntries:
        return fail_with(entry_corrupt(entry_index_ + 1, "", "a TOC entry must be an object"));
      case Ctx::kEntry:
        if (kind == Kind::kNull || field_ == Field::kNone) return true;
        return type_error();
      case Ctx::kXattrs: return type_error();
      case Ctx::kSkip: return true;
    }
    return false;
  }

  std::string field_name() const {
    if (top() == Ctx::kXattrs) return "\"xattrs\"";
    static constexpr std::string_view kNames[] = {
        "",          "name",   "type",        "modtime",     "linkName",  "userName",
        "groupName", "digest", "chunkDigest", "size",        "mode",      "uid",
        "gid",       "offset", "innerOffset", "chunkOffset", "chunkSize", "devMajor",
        "devMinor",  "xattrs"};
    return "\"" + std::string(kNames[static_cast<size_t>(field_)]) + "\"";
  }

  bool type_error() {
    if (top() == Ctx::kXattrs || field_ == Field::kXattrs) {
      return entry_error("\"xattrs\" must be an object of strings");
    }
    if (string_field(entry_, field_) != nullptr)
      return entry_error(field_name() + " must be a string");
    return entry_error(field_name() + " must be an integer");
  }

  bool end_entry() {
    TocEntry& e = entry_;
    if (e.name.empty() || e.type.empty()) return entry_error("no name or type");
    if (e.size < 0 || e.offset < 0 || e.inner_offset < 0 || e.chunk_offset < 0 ||
        e.chunk_size < 0) {
      return entry_error("negative size or offset");
    }
    toc_.entries.push_back(std::move(e));
    return true;
  }

  std::unexpected<Error> corrupt(std::string_view message) const {
    return fail(ErrorKind::kCorrupt, std::string(what_) + ": " + std::string(message));
  }
  std::unexpected<Error> entry_corrupt(size_t index, std::string_view name,
                                       std::string_view message) const {
    std::string who = "entry " + std::to_string(index);
    if (!name.empty()) who += " (\"" + std::string(name) + "\")";
    return corrupt(who + ": " + std::string(message));
  }
  bool entry_error(std::string_view message) {
    return fail_with(entry_corrupt(entry_index_, entry_.name, message));
  }
  bool fail_with(std::unexpected<Error> e) {
    if (!error_) error_ = std::move(e).error();
    return false;
  }

  static constexpr size_t kMaxDepth = 512;
  std::string_view what_;
  Toc toc_;
  std::vector<Ctx> stack_;
  std::string key_;             // the current key in the top object or an xattrs object
  Field field_ = Field::kNone;  // the current key in an entry
  TocEntry entry_;
  size_t entry_index_ = 0;  // 1-based: the entry being read
  bool seen_entries_ = false;
  std::optional<Error> error_;
};

}  // namespace

Result<Toc> parse_toc(std::string_view text, std::string_view what) {
  TocReader reader(what);
  bool parsed = json::sax_parse(text.begin(), text.end(), &reader);
  return reader.finish(parsed);
}

}  // namespace imgbuild::image::estargz
