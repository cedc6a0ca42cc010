#include "registry-client/redirect.h"

#include <cctype>
#include <optional>

#include "registry-client/endpoint.h"

namespace imgbuild::registry {
namespace {

// The five components of RFC 3986 appendix B; an absent component is nullopt, which the
// resolution algorithm distinguishes from an empty one.
struct UriParts {
  std::optional<std::string> scheme;
  std::optional<std::string> authority;
  std::string path;
  std::optional<std::string> query;
};

bool valid_scheme(std::string_view s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// ^(([^:/?#]+):)?(//([^/?#]*))?([^?#]*)(\?([^#]*))?(#(.*))?  (the fragment is dropped)
UriParts split_uri(std::string_view s) {
  UriParts p;
  size_t colon = s.find_first_of(":/?#");
  if (colon != std::string_view::npos && colon > 0 && s[colon] == ':') {
    p.scheme = std::string(s.substr(0, colon));
    s.remove_prefix(colon + 1);
  }
  if (s.starts_with("//")) {
    size_t end = s.find_first_of("/?#", 2);
    p.authority = std::string(s.substr(2, end == std::string_view::npos ? s.npos : end - 2));
    s.remove_prefix(end == std::string_view::npos ? s.size() : end);
  }
  size_t path_end = s.find_first_of("?#");
  p.path = std::string(s.substr(0, path_end));
  s.remove_prefix(path_end == std::string_view::npos ? s.size() : path_end);
  if (s.starts_with('?')) {
    size_t hash = s.find('#');
    p.query = std::string(s.substr(1, hash == std::string_view::npos ? s.npos : hash - 1));
  }
  return p;
}

// RFC 3986 section 5.2.4.
std::string remove_dot_segments(std::string_view in) {
  std::string out;
  while (!in.empty()) {
    if (in.starts_with("../")) {
      in.remove_prefix(3);
    } else if (in.starts_with("./")) {
      in.remove_prefix(2);
    } else if (in.starts_with("/./")) {
      in.remove_prefix(2);
    } else if (in == "/.") {
      in = "/";
    } else if (in.starts_with("/../") || in == "/..") {
      in = in.size() == 3 ? std::string_view("/") : in.substr(3);
      size_t slash = out.rfind('/');
      out.erase(slash == std::string::npos ? 0 : slash);
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      size_t next = in.find('/', 1);
      size_t n = next == std::string_view::npos ? in.size() : next;
      out.append(in.substr(0, n));
      in.remove_prefix(n);
    }
  }
  return out;
}

// RFC 3986 section 5.2.3.
std::string merge_paths(const UriParts& base, std::string_view ref_path) {
  if (base.authority && base.path.empty()) return "/" + std::string(ref_path);
  size_t slash = base.path.rfind('/');
  if (slash == std::string::npos) return std::string(ref_path);
  return base.path.substr(0, slash + 1) + std::string(ref_path);
}

std::string_view without_userinfo(std::string_view authority) {
  size_t at = authority.rfind('@');
  return at == std::string_view::npos ? authority : authority.substr(at + 1);
}

// The Location as given, less what may be a secret: userinfo, query (signed URLs), fragment.
std::string redacted(std::string_view location) {
  UriParts p = split_uri(location);
  std::string out;
  if (p.scheme) out += *p.scheme + ":";
  if (p.authority) out += "//" + std::string(without_userinfo(*p.authority));
  return out + p.path;
}

Error refused(std::string_view location, std::string_view why) {
  return Error(ErrorKind::kRegistry,
               "redirect to \"" + redacted(location) + "\" refused: " + std::string(why));
}

}  // namespace

Result<std::string> resolve_redirect(std::string_view base_url, std::string_view location) {
  for (char c : location) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return fail(refused(location, "not a valid URI reference"));
  }
  UriParts base = split_uri(base_url);
  UriParts ref = split_uri(location);
  if (ref.scheme && !valid_scheme(*ref.scheme)) {
    return fail(refused(location, "not a valid URI reference"));
  }

  // RFC 3986 section 5.2.2, strict: a scheme makes the reference absolute.
  UriParts target;
  if (ref.scheme) {
    target.scheme = lower(*ref.scheme);
    target.authority = ref.authority;
    target.path = remove_dot_segments(ref.path);
    target.query = ref.query;
  } else {
    target.scheme = base.scheme ? lower(*base.scheme) : std::string();
    if (ref.authority) {
      target.authority = ref.authority;
      target.path = remove_dot_segments(ref.path);
      target.query = ref.query;
    } else {
      target.authority = base.authority;
      if (ref.path.empty()) {
        target.path = base.path;
        target.query = ref.query ? ref.query : base.query;
      } else {
        target.path =
            remove_dot_segments(ref.path.starts_with('/') ? ref.path : merge_paths(base, ref.path));
        target.query = ref.query;
      }
    }
  }

  if (*target.scheme != "http" && *target.scheme != "https") {
    return fail(refused(location, "only http and https URLs are followed"));
  }
  if (!target.authority || target.authority->empty()) {
    return fail(refused(location, "the URL has no host"));
  }
  std::string host, port;
  split_host_port(without_userinfo(*target.authority), &host, &port);
  if (base.scheme && lower(*base.scheme) == "https" && *target.scheme == "http" &&
      !is_loopback_host(host)) {
    return fail(refused(location, "it leaves https for plain http on a host that is not loopback"));
  }
  std::string out = *target.scheme + "://" + *target.authority;
  out += target.path.empty() ? "/" : target.path;
  if (target.query) out += "?" + *target.query;
  return out;
}

}  // namespace imgbuild::registry
