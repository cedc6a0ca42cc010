#include <catch2/catch.hpp>

#include "runtime/process_config.h"
#include "runtime/safe_path.h"

namespace imgbuild::runtime {

TEST_CASE("merge_env replaces in place, appends new keys and unsets bare keys", "[unit]") {
  CHECK(merge_env({"A=1", "B=2", "C=3"}, {"B=x", "D=4", "C"}) ==
        std::vector<std::string>{"A=1", "B=x", "D=4"});
  CHECK(merge_env({}, {"A=1", "A=2"}) == std::vector<std::string>{"A=2"});
}

TEST_CASE("clean_relative cleans lexically and never climbs above the top", "[unit]") {
  CHECK(clean_relative("/a/./b//c/../d") == "a/b/d");
  CHECK(clean_relative("/") == "");
  CHECK(clean_relative("../../etc/hosts") == "etc/hosts");
  CHECK(clean_relative("x/../../y") == "y");
}

}  // namespace imgbuild::runtime
