// Image references with Docker's grammar and normalisation (github.com/distribution/reference):
//
//   reference  := name [ ":" tag ] [ "@" digest ]
//   name       := [ registry "/" ] path            (at most 255 characters once normalised)
//   registry   := host [ ":" port ]                (host: DNS name, "localhost", or [IPv6])
//   path       := component ( "/" component )*     (component: [a-z0-9]+ joined by . _ __ or -+)
//   tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//
// The first path element is a registry only when it contains '.' or ':' or is "localhost";
// otherwise the registry is docker.io, and single-element Docker Hub names get "library/".
// "index.docker.io" is an alias of "docker.io". Without tag and digest the tag is "latest".
//
//   app                           -> docker.io/library/app:latest
//   localhost:5000/ns/app:1.2@sha256:<hex>  (kept as given, tag and digest both present)
//
// Value type; parse() is pure and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "image/digest.h"

namespace imgbuild::image {

inline constexpr std::string_view kDockerHubRegistry = "docker.io";
inline constexpr std::string_view kDefaultTag = "latest";

struct Reference {
  std::string registry;    // "docker.io", "localhost:5000", "[::1]:5000"
  std::string repository;  // "library/app", "ns/app"
  std::string tag;         // empty only when a digest was given without a tag
  std::optional<Digest> digest;

  // Parses and normalises. Errors (kInvalidArgument) read
  // `invalid reference "Foo": repository name must be lowercase`.
  static Result<Reference> parse(std::string_view text);

  // "docker.io/library/app:latest", "localhost:5000/app:1@sha256:..."
  std::string str() const;
  // registry/repository: "docker.io/library/app"
  std::string name() const;
  // As docker prints it: "app:latest", "user/app:1", "localhost:5000/app:1".
  std::string familiar() const;
  // familiar() without tag and digest: "app", "localhost:5000/app".
  std::string familiar_name() const;
  // The same reference with the tag replaced and the digest dropped.
  Reference with_tag(std::string new_tag) const;

  bool operator==(const Reference&) const = default;
  auto operator<=>(const Reference& other) const { return str() <=> other.str(); }
};

// True when text is a valid tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}).
bool is_valid_tag(std::string_view text);

}  // namespace imgbuild::image
