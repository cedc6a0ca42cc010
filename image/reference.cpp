#include "image/reference.h"

#include <cctype>

namespace imgbuild::image {
namespace {

constexpr size_t kNameTotalLengthMax = 255;
constexpr size_t kTagLengthMax = 128;

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_word(char c) { return is_alnum(c) || c == '_'; }

std::unexpected<Error> invalid(std::string_view text, std::string_view why) {
  return fail(ErrorKind::kInvalidArgument,
              "invalid reference \"" + std::string(text) + "\": " + std::string(why));
}

// domain-component: [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool valid_domain_component(std::string_view c) {
  if (c.empty() || !is_alnum(c.front()) || !is_alnum(c.back())) return false;
  for (char ch : c) {
    if (!is_alnum(ch) && ch != '-') return false;
  }
  return true;
}

bool valid_registry(std::string_view reg) {
  std::string_view host = reg;
  std::string_view port;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos || close < 2) return false;
    for (char c : host.substr(1, close - 1)) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
    }
    std::string_view rest = host.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
      if (port.empty()) return false;
    }
  } else {
    size_t colon = host.find(':');
    if (colon != std::string_view::npos) {
      port = host.substr(colon + 1);
      host = host.substr(0, colon);
      if (port.empty()) return false;
    }
    size_t start = 0;
    while (true) {
      size_t dot = host.find('.', start);
      std::string_view comp =
          host.substr(start, dot == std::string_view::npos ? host.npos : dot - start);
      if (!valid_domain_component(comp)) return false;
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
  }
  for (char c : port) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// path-component: [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)*. Returns an error text or empty.
std::string check_path_component(std::string_view c) {
  if (c.empty()) return "empty path component (\"//\", or a leading or trailing \"/\")";
  for (char ch : c) {
    if (ch >= 'A' && ch <= 'Z') return "repository name must be lowercase";
  }
  if (!is_lower_alnum(c.front()) || !is_lower_alnum(c.back())) {
    return "path component \"" + std::string(c) + "\" must start and end with [a-z0-9]";
  }
  size_t i = 0;
  while (i < c.size()) {
    if (is_lower_alnum(c[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < c.size() && !is_lower_alnum(c[j])) ++j;
    std::string_view sep = c.substr(i, j - i);
    bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
    if (!(sep == "." || sep == "_" || sep == "__" || dashes)) {
      return "invalid separator \"" + std::string(sep) + "\" in \"" + std::string(c) +
             "\" (allowed: [a-z0-9] joined by '.', '_', '__' or '-')";
    }
    i = j;
  }
  return {};
}

}  // namespace

bool is_valid_tag(std::string_view text) {
  if (text.empty() || text.size() > kTagLengthMax || !is_word(text.front())) return false;
  for (char c : text) {
    if (!is_word(c) && c != '.' && c != '-') return false;
  }
  return true;
}

Result<Reference> Reference::parse(std::string_view text) {
  if (text.empty()) return invalid(text, "empty reference");
  if (is_sha256_hex(text)) {
    return invalid(text, "a 64-character hexadecimal string is an image ID, not a repository name");
  }
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c)) ||
        std::iscntrl(static_cast<unsigned char>(c))) {
      return invalid(text, "contains whitespace or control characters");
    }
  }
  Reference ref;
  std::string_view rest = text;
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    std::string_view dig = rest.substr(at + 1);
    auto d = Digest::parse(dig);
    if (!d) return invalid(text, d.error().message());
    ref.digest = *d;
    rest = rest.substr(0, at);
    if (rest.empty()) return invalid(text, "missing repository name before \"@\"");
  }
  size_t last_slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos &&
      (last_slash == std::string_view::npos || colon > last_slash)) {
    std::string_view tag = rest.substr(colon + 1);
    if (tag.empty()) return invalid(text, "empty tag after \":\"");
    if (tag.size() > kTagLengthMax) {
      return invalid(text, "tag is longer than 128 characters");
    }
    if (!is_valid_tag(tag)) {
      return invalid(text, "invalid tag \"" + std::string(tag) +
                               "\" (allowed: [A-Za-z0-9_] then [A-Za-z0-9_.-])");
    }
    ref.tag = std::string(tag);
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return invalid(text, "missing repository name");

  std::string_view remote = rest;
  size_t slash = rest.find('/');
  if (slash != std::string_view::npos) {
    std::string_view first = rest.substr(0, slash);
    if (first.find_first_of(".:") != std::string_view::npos || first == "localhost" ||
        (!first.empty() && first.front() == '[')) {
      if (!valid_registry(first)) {
        return invalid(text, "invalid registry host \"" + std::string(first) + "\"");
      }
      ref.registry = std::string(first);
      remote = rest.substr(slash + 1);
    }
  }
  if (ref.registry.empty() || ref.registry == "index.docker.io") {
    ref.registry = std::string(kDockerHubRegistry);
  }
  if (remote.empty()) return invalid(text, "missing repository name after the registry");
  size_t start = 0;
  while (true) {
    size_t next = remote.find('/', start);
    std::string_view comp =
        remote.substr(start, next == std::string_view::npos ? remote.npos : next - start);
    std::string why = check_path_component(comp);
    if (!why.empty()) return invalid(text, why);
    if (next == std::string_view::npos) break;
    start = next + 1;
  }
  ref.repository = std::string(remote);
  if (ref.registry == kDockerHubRegistry && ref.repository.find('/') == std::string::npos) {
    ref.repository = "library/" + ref.repository;
  }
  if (ref.name().size() > kNameTotalLengthMax) {
    return invalid(text, "repository name must not be more than 255 characters");
  }
  if (ref.tag.empty() && !ref.digest) ref.tag = std::string(kDefaultTag);
  return ref;
}

std::string Reference::name() const { return registry + "/" + repository; }

std::string Reference::str() const {
  std::string out = name();
  if (!tag.empty()) out += ":" + tag;
  if (digest) out += "@" + digest->str();
  return out;
}

std::string Reference::familiar_name() const {
  if (registry != kDockerHubRegistry) return name();
  std::string_view repo = repository;
  if (repo.starts_with("library/") && repo.find('/', 8) == std::string_view::npos) {
    repo.remove_prefix(8);
  }
  return std::string(repo);
}

std::string Reference::familiar() const {
  std::string out = familiar_name();
  if (!tag.empty()) out += ":" + tag;
  if (digest) out += "@" + digest->str();
  return out;
}

Reference Reference::with_tag(std::string new_tag) const {
  Reference r = *this;
  r.tag = std::move(new_tag);
  r.digest.reset();
  return r;
}

}  // namespace imgbuild::image
