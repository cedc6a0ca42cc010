// The one reader of /etc/passwd and /etc/group text, shared by USER (runtime/user) and COPY/ADD
// --chown (builder/chown_spec). It only parses: reading the files safely is the caller's job.
//
// Lines are split on ':'. Blank lines and lines starting with '#' are skipped, and so are
// malformed ones: a passwd line needs its 7 fields, a group line at least 3 (the member list is
// optional), and ids must be decimal and fit 32 bits (the caller checks kMaxUserId on the result).
// Entries keep the file's order; the first entry with a name or id wins, as in libc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imgbuild::runtime {

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string home;  // may be empty
};

struct GroupEntry {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
};

// A decimal id of at most 32 bits, as stored in the files; anything else is nullopt (a name).
std::optional<uint32_t> parse_id(std::string_view s);

std::vector<PasswdEntry> parse_passwd(std::string_view text);
std::vector<GroupEntry> parse_group(std::string_view text);

}  // namespace imgbuild::runtime
