#include "registry-client/endpoint.h"

#include <arpa/inet.h>

#include <cctype>
#include <cstdlib>

namespace imgbuild::registry {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_docker_hub(std::string_view host) {
  return host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io" ||
         host == "registry.hub.docker.com";
}

}  // namespace

std::string api_host(std::string_view registry) {
  if (is_docker_hub(registry)) return "registry-1.docker.io";
  return std::string(registry);
}

std::string credential_key(std::string_view registry) {
  if (is_docker_hub(registry)) return "https://index.docker.io/v1/";
  return std::string(registry);
}

std::string normalize_registry(std::string_view text) {
  std::string_view t = text;
  if (size_t p = t.find("://"); p != std::string_view::npos) t = t.substr(p + 3);
  if (size_t p = t.find('/'); p != std::string_view::npos) t = t.substr(0, p);
  std::string out = lower(t);
  if (is_docker_hub(out)) return "docker.io";
  return out;
}

void split_host_port(std::string_view hostport, std::string* host, std::string* port) {
  host->clear();
  port->clear();
  if (hostport.starts_with('[')) {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) {
      *host = std::string(hostport);
      return;
    }
    *host = std::string(hostport.substr(1, close - 1));
    if (close + 1 < hostport.size() && hostport[close + 1] == ':') {
      *port = std::string(hostport.substr(close + 2));
    }
    return;
  }
  // More than one ':' means a bare IPv6 address without a port.
  size_t first = hostport.find(':');
  if (first != std::string_view::npos && hostport.find(':', first + 1) == std::string_view::npos) {
    *host = std::string(hostport.substr(0, first));
    *port = std::string(hostport.substr(first + 1));
    return;
  }
  *host = std::string(hostport);
}

bool is_loopback_host(std::string_view host) {
  std::string h = lower(host);
  if (h == "localhost" || h.ends_with(".localhost")) return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    static const in6_addr kLoop = IN6ADDR_LOOPBACK_INIT;
    return std::equal(std::begin(v6.s6_addr), std::end(v6.s6_addr), std::begin(kLoop.s6_addr));
  }
  return false;
}

bool allows_insecure(std::string_view registry, const std::vector<std::string>& insecure) {
  std::string host, port;
  split_host_port(lower(registry), &host, &port);
  if (is_loopback_host(host)) return true;
  for (const auto& entry : insecure) {
    std::string eh, ep;
    split_host_port(normalize_registry(entry), &eh, &ep);
    if (eh == host && (ep.empty() || ep == port)) return true;
  }
  return false;
}

std::vector<std::string> insecure_registries_from_env() {
  std::vector<std::string> out;
  const char* env = std::getenv("IMGBUILD_INSECURE_REGISTRIES");
  if (env == nullptr) return out;
  std::string cur;
  for (const char* p = env;; ++p) {
    if (*p == '\0' || *p == ',' || *p == ' ' || *p == '\t' || *p == '\n') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
      if (*p == '\0') break;
    } else {
      cur += *p;
    }
  }
  return out;
}

std::string url_authority(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  std::string_view rest = url.substr(scheme + 3);
  return std::string(rest.substr(0, rest.find_first_of("/?#")));
}

}  // namespace imgbuild::registry
