// Golden values for KeyInputs::key(), the format docs/cache_key.md describes. Cache keys are
// shared across machines and exported to registries, so a change here invalidates every shared
// cache: if one of these fails, the format changed. Change the expected values only together with
// docs/cache_key.md, on purpose.
#include <catch2/catch.hpp>
#include <string>
#include <utility>

#include "base/sha256.h"
#include "builder/build_cache.h"

using namespace imgbuild;
using namespace imgbuild::builder;

namespace {

// The parent key of a stage's first step on `FROM scratch` for linux/amd64.
const std::string kScratchAmd64 =
    "048cea675a49db586fc3f348f8d14d13696823ba4d67269e93f645d6e149a23c";

}  // namespace

TEST_CASE("cache key of empty inputs is pinned") {
  CHECK(KeyInputs{}.key() == "05bccb962d65b668273c3d76ccffb9c67af3c347cad5dea224896a722586be52");
}

TEST_CASE("cache key is sha256 over length-prefixed fields, as docs/cache_key.md says") {
  // The encoding spelled out by hand for a small case, so the document is checked too.
  KeyInputs in;
  in.parent = "p";
  in.instruction = "RUN x";
  in.env = {{"A", "1"}};
  in.files = {{"f", "d"}};
  in.extra = "e";
  CHECK(in.key() ==
        Sha256::hex_of("parent1:pinstruction5:RUN xenv1:A=1:1file1:fdigest1:dextra1:e"));
}

TEST_CASE("cache key of a RUN step is pinned") {
  CHECK(Sha256::hex_of("scratch linux/amd64") == kScratchAmd64);
  KeyInputs in;
  in.parent = kScratchAmd64;
  in.instruction = "RUN /bin/sh -c echo hi > /greeting";
  // Lengths count bytes: "héllo" is 6.
  in.env = {{"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
            {"GREETING", "h\xc3\xa9llo"}};
  in.extra = "user= workdir=/ network=0";
  CHECK(in.key() == "c3e35e0fec9f6a0eefb362af91215806359583dff61d09a9464b875da6680403");
}

TEST_CASE("cache key of a COPY step with context files is pinned") {
  KeyInputs in;
  std::string manifest = "sha256:";
  for (int i = 0; i < 32; ++i) manifest += "ab";
  in.parent = Sha256::hex_of("image " + manifest);  // FROM an image with that manifest digest
  in.instruction = "COPY app/ /srv/app/";
  // Entry digests as BuildContext::digests gives them: a directory 0755 0:0, a file 0644 0:0.
  in.files = {{"app", "63b45f820ce12cf6f276a997ca243368915d9867bd6f2560a1ec47cf7ead9ccc"},
              {"app/main.sh", "9b418ca4db973a8c330c87f8b65b8431e14d910b399cbbd6927629792b2ccc49"}};
  CHECK(in.key() == "6f0febea72cbbd0b46a5030ae2d34c3fcdcb867365ce647dbb2e102366191cdf");
}

TEST_CASE("cache key of a COPY --from step is pinned") {
  KeyInputs in;
  in.parent = std::string(64, 'f');
  in.instruction = "COPY --from=builder /out/bin /usr/local/bin/tool";
  in.extra = "stage " + std::string(64, 'e');
  CHECK(in.key() == "2bed4eeafe9babbd65ba8c0fb95dfcc7f821923cef4f9783922d27395d053a1c");
}

TEST_CASE("cache key keeps field order and boundaries") {
  KeyInputs in;
  in.parent = "p";
  in.instruction = "COPY . /ap";
  in.env = {{"A", "1"}};
  in.files = {{"x", "d1"}, {"y", "d2"}};
  in.extra = "p";
  CHECK(in.key() == "bbb8dd02158fb1ace98723d7a5c1b51523cf8a1f3d31a3a124ec5a0640e76851");
  KeyInputs swapped = in;
  std::swap(swapped.files[0], swapped.files[1]);
  CHECK(swapped.key() != in.key());
}
