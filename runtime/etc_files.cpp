#include "runtime/etc_files.h"

#include <arpa/inet.h>

#include "base/fs.h"
#include "base/sys.h"
#include "runtime/user_network.h"

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

// The host's resolv.conf for a private network namespace, as Docker does for its bridge: loopback
// nameservers (a resolver on the host's 127.0.0.x, unreachable from the namespace) are dropped;
// when none is left, slirp4netns's forwarder (which asks the host's resolver) takes their place.
std::string private_resolv_conf(const std::string& host) {
  std::string out;
  bool have_server = false;
  size_t pos = 0;
  while (pos < host.size()) {
    size_t end = host.find('\n', pos);
    if (end == std::string::npos) end = host.size();
    std::string line = host.substr(pos, end - pos);
    pos = end + 1;
    if (line.starts_with("nameserver")) {
      std::string addr = line.substr(10);
      addr.erase(0, addr.find_first_not_of(" \t"));
      if (addr.starts_with("127.") || addr.starts_with("::1")) continue;
      have_server = true;
    }
    out += line + "\n";
  }
  if (!have_server) out += std::string("nameserver ") + kUserNetworkDns + "\n";
  return out;
}

}  // namespace

Status write_etc_files(const std::string& dir, const std::string& hostname, NetworkMode network,
                       const std::vector<std::string>& extra_hosts) {
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
  for (const auto& entry : extra_hosts) {
    // "HOST:IP" (the IP may itself contain colons): written as Docker does, "IP\tHOST".
    auto colon = entry.find(':');
    if (colon == std::string::npos) continue;
    hosts += entry.substr(colon + 1) + "\t" + entry.substr(0, colon) + "\n";
  }
  TRY(write_plain(fs::join(dir, "hosts"), hosts));
  std::string resolv = host_resolv_conf();
  if (network == NetworkMode::kPrivate) resolv = private_resolv_conf(resolv);
  TRY(write_plain(fs::join(dir, "resolv.conf"), resolv));
  TRY(write_plain(fs::join(dir, "hostname"), hostname + "\n"));
  return {};
}

Result<std::string> parse_extra_host(std::string_view entry) {
  std::string text(entry);
  auto sep = text.find_first_of(":=");
  std::string ip = sep == std::string::npos ? "" : text.substr(sep + 1);
  if (ip == "host-gateway") {
    return fail(ErrorKind::kUnsupported,
                "--add-host is not supported: \"" + text +
                    "\": host-gateway needs a bridge network (the host is not reachable here)");
  }
  in6_addr addr{};
  bool valid_ip =
      ::inet_pton(AF_INET, ip.c_str(), &addr) == 1 || ::inet_pton(AF_INET6, ip.c_str(), &addr) == 1;
  if (sep == 0 || !valid_ip) {
    return fail(ErrorKind::kInvalidArgument,
                "--add-host \"" + text + "\": expected HOST:IP with a valid IP address");
  }
  text[sep] = ':';
  return text;
}

}  // namespace imgbuild::runtime
