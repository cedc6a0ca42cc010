// Build secrets: `imgbuild build --secret id=ID,src=FILE` (or `id=ID,env=VAR`), exposed to
// `RUN --mount=type=secret,id=ID` as a read-only file, as BuildKit does.
//
// A secret never enters a layer, the cache key, the history or the logs: its content is read
// when a RUN mounts it, written to a private file on a tmpfs (/dev/shm) with the mount's mode,
// uid and gid (default 0400 root:root), bound read-only at the target (default /run/secrets/ID)
// and deleted when the step ends. The mount target stub the runtime creates is removed too.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "base/error.h"
#include "base/fs.h"

namespace imgbuild::builder {

struct BuildSecret {
  std::string file;  // host file with the value, or
  std::string env;   // environment variable with the value
};

// One --secret value: "id=ID[,src|source=PATH][,env=VAR][,type=file|env]". Without src and env,
// the variable named ID is used when set, else the file ./ID, as buildx does.
Result<std::pair<std::string, BuildSecret>> parse_secret_flag(std::string_view text);

// The secret's value (read now; env secrets from this process's environment).
Result<std::string> read_secret(const std::string& id, const BuildSecret& secret);

// Writes value as file `name` in a new private directory on a tmpfs; the TempDir removes it.
struct SecretFile {
  fs::TempDir dir;
  std::string path;
};
Result<SecretFile> materialize_secret(const std::string& value, unsigned mode, unsigned uid,
                                      unsigned gid);

}  // namespace imgbuild::builder
