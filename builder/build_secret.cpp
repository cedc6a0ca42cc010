#include "builder/build_secret.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "base/sys.h"

namespace imgbuild::builder {

Result<std::pair<std::string, BuildSecret>> parse_secret_flag(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return fail(ErrorKind::kInvalidArgument, "--secret \"" + std::string(text) + "\": " + why);
  };
  std::string id, type;
  BuildSecret secret;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view field = text.substr(start, comma - start);
    start = comma + 1;
    if (field.empty()) continue;
    size_t eq = field.find('=');
    if (eq == std::string_view::npos) return bad("expected KEY=VALUE fields");
    std::string key(field.substr(0, eq)), value(field.substr(eq + 1));
    if (key == "id") {
      id = value;
    } else if (key == "src" || key == "source") {
      secret.file = value;
    } else if (key == "env") {
      secret.env = value;
    } else if (key == "type") {
      if (value != "file" && value != "env") return bad("type must be file or env");
      type = value;
    } else {
      return bad("unknown field " + key);
    }
  }
  if (id.empty()) return bad("id= is required");
  if (!secret.file.empty() && !secret.env.empty()) return bad("give src= or env=, not both");
  if (secret.file.empty() && secret.env.empty()) {
    if (type == "env" || (type.empty() && std::getenv(id.c_str()) != nullptr)) {
      secret.env = id;
    } else {
      secret.file = id;
    }
  }
  if (type == "env" && secret.env.empty()) {
    secret.env = secret.file;
    secret.file.clear();
  }
  return std::make_pair(id, secret);
}

Result<std::string> read_secret(const std::string& id, const BuildSecret& secret) {
  if (!secret.env.empty()) {
    const char* v = std::getenv(secret.env.c_str());
    if (v == nullptr) {
      return fail(ErrorKind::kNotFound,
                  "secret " + id + ": environment variable " + secret.env + " is not set");
    }
    return std::string(v);
  }
  return TRY_CTX(fs::read_file(secret.file), "secret " + id);
}

Result<SecretFile> materialize_secret(const std::string& value, unsigned mode, unsigned uid,
                                      unsigned gid) {
  // A tmpfs keeps the value off disk; the store's tmp is the fallback where /dev/shm is missing.
  std::string base = fs::is_dir("/dev/shm") ? "/dev/shm" : "/tmp";
  SecretFile out{TRY(fs::TempDir::create(base, "imgbuild-secret-")), ""};
  out.path = fs::join(out.dir.path(), "secret");
  UniqueFd fd = TRY(sys::open(out.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  TRY(sys::write_all(fd.get(), value, out.path));
  if (::fchown(fd.get(), uid, gid) < 0) return fail_errno("chown", out.path);
  if (::fchmod(fd.get(), mode & 07777) < 0) return fail_errno("chmod", out.path);
  // The directory must be searchable by the step's user for the bind source to resolve.
  if (::chmod(out.dir.path().c_str(), 0711) < 0) return fail_errno("chmod", out.dir.path());
  return out;
}

}  // namespace imgbuild::builder
