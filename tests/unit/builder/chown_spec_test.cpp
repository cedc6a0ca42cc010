#include "builder/chown_spec.h"

#include <catch2/catch.hpp>

#include "base/fs.h"

using namespace imgbuild;
using namespace imgbuild::builder;

namespace {

struct Image {
  fs::TempDir root = fs::TempDir::create().value();
  Image(const std::string& passwd, const std::string& group) {
    REQUIRE(fs::make_dirs(root.path() + "/etc"));
    REQUIRE(fs::write_file_atomic(root.path() + "/etc/passwd", passwd, 0644));
    REQUIRE(fs::write_file_atomic(root.path() + "/etc/group", group, 0644));
  }
  LayerView view() const { return LayerView({root.path()}); }
};

}  // namespace

TEST_CASE("--chown reads passwd and group with the runtime's parser") {
  Image image(
      "# app:x:1:1:::\n"
      "#app:x:2:2:::\n"
      "\n"
      "application:x:1002:1003::/a:/bin/sh\n"
      "app:x:1000:1001::/home/app:/bin/sh\n",
      "#staff:x:1:\n"
      "staffers:x:51:\n"
      "staff:x:50:app\n");
  LayerView view = image.view();
  CHECK(resolve_chown("app", view).value() == Owner{1000, 1001});
  CHECK(resolve_chown("application:staff", view).value() == Owner{1002, 50});
  CHECK(resolve_chown("app:51", view).value() == Owner{1000, 51});
  CHECK(resolve_chown("42", view).value() == Owner{42, 42});
  auto commented = resolve_chown("#app", view);
  REQUIRE_FALSE(commented);
  CHECK(commented.error().message() ==
        "--chown: unable to find user #app: no matching entries in passwd file");
  auto group = resolve_chown("app:#staff", view);
  REQUIRE_FALSE(group);
  CHECK(group.error().message() ==
        "--chown: unable to find group #staff: no matching entries in group file");
  CHECK_FALSE(resolve_chown("ap", view));
}
