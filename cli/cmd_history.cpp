// imgbuild history [--no-trunc] [-q] [-H=false] [--format F] IMAGE: the image's build steps,
// newest first, from its config's history; each step that made a layer gets that layer's size
// (as stored: the blob size in the manifest). As `docker history`: the image's own ID on the top
// row and <missing> below it (the intermediate images are not separate images), CREATED BY cut
// to 45 characters unless --no-trunc.
#include <cstdio>
#include <ctime>

#include "cli/command.h"
#include "cli/image_common.h"
#include "format/list_format.h"

namespace imgbuild::cli {
namespace {

struct HistoryArgs {
  std::string image;
  bool no_trunc = false;
  bool quiet = false;
  bool human = true;
  std::string format;
};

// Docker's stringutils.Ellipsis: at most max runes, the last one "…" when cut.
std::string ellipsis(const std::string& text, size_t max) {
  size_t runes = 0;
  for (unsigned char c : text) runes += (c & 0xC0) != 0x80;
  if (runes <= max) return text;
  std::string out;
  size_t kept = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (kept == max - 1) break;
      ++kept;
    }
    out += text[i];
  }
  return out + "…";
}

std::string rfc3339_local(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  ::localtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &tm);
  std::string s = buf;  // "+0100" -> "+01:00"; UTC is "Z" in Go's RFC 3339
  if (s.ends_with("+0000")) return s.substr(0, s.size() - 5) + "Z";
  return s.substr(0, s.size() - 2) + ":" + s.substr(s.size() - 2);
}

Result<int> run_history(const HistoryArgs& args, const GlobalOptions& globals) {
  static const nlohmann::json kHeaders = {{"ID", "IMAGE"},
                                          {"CreatedSince", "CREATED"},
                                          {"CreatedAt", "CREATED AT"},
                                          {"CreatedBy", "CREATED BY"},
                                          {"Size", "SIZE"},
                                          {"Comment", "COMMENT"}};
  auto format = TRY(format::ListFormat::parse(
      args.format, "{{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
      kHeaders));
  image::Store store = TRY(open_store(globals));
  image::Image img = TRY(store.resolve(args.image));
  const auto& layers = img.manifest.layers;
  std::vector<nlohmann::json> rows;
  size_t layer = 0;
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  for (const auto& h : img.config.history) {
    int64_t size = 0;
    if (!h.empty_layer && layer < layers.size()) size = layers[layer++].size;
    auto when = image::parse_rfc3339(h.created);
    std::string created_by = h.created_by;
    for (char& c : created_by) {
      if (c == '\t') c = ' ';
    }
    nlohmann::json row = {
        {"CreatedSince",
         when ? (args.human ? human_age(*when, now) : rfc3339_local(*when)) : "N/A"},
        {"CreatedAt", when ? rfc3339_local(*when) : ""},
        {"CreatedBy", args.no_trunc ? created_by : ellipsis(created_by, 45)},
        {"Size", args.human ? human_size(static_cast<uint64_t>(size)) : std::to_string(size)},
        {"Comment", h.comment}};
    rows.push_back(std::move(row));
  }
  std::reverse(rows.begin(), rows.end());
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i]["ID"] = i > 0
                        ? "<missing>"
                        : (args.no_trunc ? img.config_digest.str() : img.config_digest.short_hex());
  }
  if (args.quiet) {
    for (const auto& r : rows) std::printf("%s\n", r["ID"].get<std::string>().c_str());
    return 0;
  }
  std::string out = TRY(format.render(rows));
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace

IMGBUILD_COMMAND(history,
                 Command{
                     .name = "history",
                     .description = "Show the history of an image",
                     .setup = [](CLI::App& sub, const GlobalOptions& globals) -> Runner {
                       auto args = std::make_shared<HistoryArgs>();
                       sub.add_option("IMAGE", args->image, "Image reference or ID")->required();
                       sub.add_flag("--no-trunc", args->no_trunc, "Don't truncate output");
                       sub.add_flag("-q,--quiet", args->quiet, "Only show image IDs");
                       sub.add_flag("-H,--human,!--no-human", args->human,
                                    "Print sizes and dates in human readable format "
                                    "(default true; -H=false for raw numbers)");
                       sub.add_option("--format", args->format,
                                      "table, table TEMPLATE, json or a Go template");
                       return [args, &globals] {
                         auto r = run_history(*args, globals);
                         if (!r) return report_error(r.error());
                         return *r;
                       };
                     },
                 });

}  // namespace imgbuild::cli
