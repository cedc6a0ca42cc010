#include "runtime/etc_files.h"

#include "base/fs.h"
#include "base/sys.h"

namespace imgbuild::runtime {
namespace {

Status write_plain(const std::string& path, const std::string& data) {
  auto fd = TRY(sys::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644));
  return sys::write_all(fd.get(), data, path);
}

std::string host_resolv_conf() {
  auto text = fs::read_file("/etc/resolv.conf");
  if (!text) return "";
  if (text->find("nameserver 127.0.0.53") != std::string::npos) {
    if (auto upstream = fs::read_file("/run/systemd/resolve/resolv.conf")) return *upstream;
  }
  return *text;
}

}  // namespace

Status write_etc_files(const std::string& dir, const std::string& hostname, NetworkMode network) {
  std::string hosts;
  if (network == NetworkMode::kHost) {
    auto host = fs::read_file("/etc/hosts");
    hosts = host ? *host : "127.0.0.1\tlocalhost\n";
  } else {
    hosts =
        "127.0.0.1\tlocalhost\n"
        "::1\tlocalhost ip6-localhost ip6-loopback\n"
        "fe00::0\tip6-localnet\n"
        "ff00::0\tip6-mcastprefix\n"
        "ff02::1\tip6-allnodes\n"
        "ff02::2\tip6-allrouters\n";
    hosts += "127.0.1.1\t" + hostname + "\n";
  }
  TRY(write_plain(fs::join(dir, "hosts"), hosts));
  TRY(write_plain(fs::join(dir, "resolv.conf"), host_resolv_conf()));
  TRY(write_plain(fs::join(dir, "hostname"), hostname + "\n"));
  return {};
}

}  // namespace imgbuild::runtime
