#include "cli/image_common.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include "base/fs.h"
#include "base/sys.h"

namespace imgbuild::cli {

Result<image::Store> open_store(const GlobalOptions& globals) {
  return image::Store::open(globals.root);
}

void print_prune_report(std::string_view heading, const std::vector<std::string>& deleted,
                        uint64_t reclaimed) {
  if (!deleted.empty()) {
    std::printf("%.*s:\n", static_cast<int>(heading.size()), heading.data());
    for (const auto& name : deleted) std::printf("%s\n", name.c_str());
    std::printf("\n");
  }
  std::printf("Total reclaimed space: %s\n", human_size(reclaimed).c_str());
}

std::string human_size(uint64_t bytes) {
  static const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(bytes);
  size_t u = 0;
  while (v >= 1000.0 && u + 1 < sizeof units / sizeof units[0]) {
    v /= 1000.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g%s", v, units[u]);
  return buf;
}

std::string human_age(int64_t t, int64_t now) {
  int64_t s = now - t;
  if (s < 0) s = 0;
  auto plural = [](int64_t n, const char* unit) {
    return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
  };
  std::string d;
  int64_t minutes = s / 60, hours = s / 3600;
  if (s < 1) {
    d = "Less than a second";
  } else if (s < 60) {
    d = plural(s, "second");
  } else if (minutes == 1) {
    d = "About a minute";
  } else if (minutes < 60) {
    d = plural(minutes, "minute");
  } else if (hours == 1) {
    d = "About an hour";
  } else if (hours < 48) {
    d = plural(hours, "hour");
  } else if (hours < 24 * 7 * 2) {
    d = plural(hours / 24, "day");
  } else if (hours < 24 * 30 * 2) {
    d = plural(hours / 24 / 7, "week");
  } else if (hours < 24 * 365 * 2) {
    d = plural(hours / 24 / 30, "month");
  } else {
    d = plural(hours / 24 / 365, "year");
  }
  return d + " ago";
}

std::string created_since(const image::ImageConfig& config) {
  auto t = image::parse_rfc3339(config.created);
  if (!t) return "N/A";
  return human_age(*t, static_cast<int64_t>(std::time(nullptr)));
}

std::string go_time_string(const std::string& rfc3339) {
  auto t = image::parse_rfc3339(rfc3339);
  if (!t) return rfc3339;
  std::time_t tt = static_cast<std::time_t>(*t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
  return buf;
}

Status write_file_via(const std::string& path, const std::function<Status(int fd)>& write) {
  if (path == "-") return write(STDOUT_FILENO);
  std::string tmpl = path + ".tmp-XXXXXX";
  int raw = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (raw < 0) return fail_errno("mkostemp", tmpl);
  UniqueFd fd(raw);
  auto result = [&]() -> Status {
    if (::fchmod(fd.get(), 0644) < 0) return fail_errno("fchmod", tmpl);
    TRY(write(fd.get()));
    TRY(sys::fsync(fd.get(), tmpl));
    return sys::rename_at(AT_FDCWD, tmpl, AT_FDCWD, path);
  }();
  if (!result) ::unlink(tmpl.c_str());
  return result;
}

}  // namespace imgbuild::cli
