#include "builder/cache_inline.h"

#include <algorithm>
#include <optional>

namespace imgbuild::builder {

nlohmann::json make_inline_cache(std::vector<CacheRecord> records,
                                 const std::vector<image::Digest>& diff_ids) {
  std::sort(records.begin(), records.end(),
            [](const CacheRecord& a, const CacheRecord& b) { return a.key < b.key; });
  nlohmann::json list = nlohmann::json::array();
  std::string last;
  for (const auto& r : records) {
    if (r.key == last) continue;
    last = r.key;
    nlohmann::json j = {{"key", r.key}, {"empty_layer", r.empty_layer}, {"created", r.created}};
    if (!r.empty_layer) {
      auto it = std::find(diff_ids.begin(), diff_ids.end(), r.diff_id);
      if (it == diff_ids.end()) continue;
      j["layer"] = it - diff_ids.begin();
    }
    list.push_back(std::move(j));
  }
  return nlohmann::json{{"records", list}};
}

Result<CacheRecords> parse_inline_cache(const nlohmann::json& config,
                                        const std::vector<image::Descriptor>& layers,
                                        std::string_view where) {
  std::string key(kInlineCacheKey);
  if (!config.is_object() || !config.contains(key)) {
    return fail(ErrorKind::kInvalidArgument,
                std::string(where) +
                    ": not an imgbuild cache (an image without inline cache records; build it "
                    "with --cache-to type=inline)");
  }
  CacheRecords out;
  try {
    const auto& diff_ids = config.at("rootfs").at("diff_ids");
    for (const auto& r : config.at(key).at("records")) {
      auto head = parse_record_head(r, out.problems);
      if (!head) continue;
      CacheRecord record = std::move(*head);
      if (!record.empty_layer) {
        size_t i = r.at("layer").get<size_t>();
        std::optional<image::Digest> diff;
        if (i < diff_ids.size()) {
          if (auto d = image::Digest::parse(diff_ids[i].get<std::string>())) diff = *d;
        }
        if (i >= layers.size() || !diff) {
          out.problems.push_back("record " + record.key.substr(0, 12) + ": no layer " +
                                 std::to_string(i));
          continue;
        }
        record.diff_id = *diff;
        record.blob = layers[i];
      }
      out.records.push_back(std::move(record));
    }
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorKind::kCorrupt, std::string(where) + ": inline cache: " + e.what());
  }
  return out;
}

}  // namespace imgbuild::builder
