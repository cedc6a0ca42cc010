#include "cli/run_mounts.h"

#include <catch2/catch.hpp>

#include "cli/container_filter.h"

namespace imgbuild::cli {
namespace {

std::string error_of(const Result<MountRequest>& r) {
  REQUIRE_FALSE(r);
  return r.error().message();
}

}  // namespace

TEST_CASE("-v: a host path binds, a name is a volume, a lone path an anonymous one", "[unit]") {
  auto bind = parse_volume_flag("/tmp:/data:ro");
  REQUIRE(bind);
  CHECK(bind->type == MountRequest::Type::kBind);
  CHECK(bind->source == "/tmp");
  CHECK(bind->read_only);
  auto named = parse_volume_flag("cache:/var/cache:nocopy");
  REQUIRE(named);
  CHECK(named->type == MountRequest::Type::kVolume);
  CHECK(named->source == "cache");
  CHECK(named->target == "/var/cache");
  CHECK(named->no_copy);
  auto anonymous = parse_volume_flag("/scratch");
  REQUIRE(anonymous);
  CHECK(anonymous->type == MountRequest::Type::kVolume);
  CHECK(anonymous->source.empty());
  CHECK(anonymous->target == "/scratch");
}

TEST_CASE("-v refuses with Docker's messages", "[unit]") {
  CHECK(error_of(parse_volume_flag("/no/such/dir/here:/data")) ==
        "invalid volume specification: '/no/such/dir/here:/data': bind source path does not "
        "exist: /no/such/dir/here");
  CHECK(error_of(parse_volume_flag("./rel:/data"))
            .starts_with(
                "create ./rel: \"./rel\" includes invalid characters for a local volume name"));
  CHECK(error_of(parse_volume_flag("data:rel")) ==
        "invalid volume specification: 'data:rel': invalid mount config for type \"volume\": "
        "invalid mount path: 'rel' mount path must be absolute");
  CHECK(error_of(parse_volume_flag("a:b:c:d")) == "invalid volume specification: 'a:b:c:d'");
}

TEST_CASE("--mount takes Docker's keys and aliases", "[unit]") {
  auto bind = parse_mount_flag("type=bind,src=/tmp,dst=/data,readonly");
  REQUIRE(bind);
  CHECK(bind->type == MountRequest::Type::kBind);
  CHECK(bind->source == "/tmp");
  CHECK(bind->target == "/data");
  CHECK(bind->read_only);
  auto volume = parse_mount_flag("source=cache,target=/cache,ro=false,volume-nocopy");
  REQUIRE(volume);
  CHECK(volume->type == MountRequest::Type::kVolume);
  CHECK(volume->source == "cache");
  CHECK_FALSE(volume->read_only);
  CHECK(volume->no_copy);
  auto tmpfs = parse_mount_flag("type=tmpfs,destination=/run/x,tmpfs-size=1m");
  REQUIRE(tmpfs);
  CHECK(tmpfs->type == MountRequest::Type::kTmpfs);
  CHECK(tmpfs->tmpfs_size == 1024 * 1024);
}

TEST_CASE("--mount refuses with Docker's messages", "[unit]") {
  CHECK(error_of(parse_mount_flag("type=bind,src=/tmp,dst=/d,colour=red")) ==
        "invalid argument \"type=bind,src=/tmp,dst=/d,colour=red\" for \"--mount\" flag: "
        "unexpected key 'colour' in 'colour=red'");
  CHECK(error_of(parse_mount_flag("type=bind,src=/tmp")) ==
        "invalid mount config for type \"bind\": field Target must not be empty");
  CHECK(error_of(parse_mount_flag("type=bind,dst=/d")) ==
        "invalid mount config for type \"bind\": field Source must not be empty");
  CHECK(error_of(parse_mount_flag("type=bind,src=/no/such/dir/here,dst=/d")) ==
        "invalid mount config for type \"bind\": bind source path does not exist: "
        "/no/such/dir/here");
  CHECK(error_of(parse_mount_flag("type=tmpfs,src=x,dst=/d")) ==
        "invalid mount config for type \"tmpfs\": field Source must not be specified");
  CHECK(error_of(parse_mount_flag("type=bind,src=/tmp,dst=/d,tmpfs-size=1m")) ==
        "invalid argument \"type=bind,src=/tmp,dst=/d,tmpfs-size=1m\" for \"--mount\" flag: "
        "cannot mix 'tmpfs-*' options with mount type 'bind'");
  CHECK(error_of(parse_mount_flag("type=nfs,dst=/d")) ==
        "invalid argument \"type=nfs,dst=/d\" for \"--mount\" flag: invalid type 'nfs' "
        "(supported: bind, volume, tmpfs)");
}

TEST_CASE("ps filters: labels all match, names are regular expressions", "[unit]") {
  ContainerRecord r;
  r.id = std::string(64, 'a');
  r.name = "web_1";
  r.labels = {{"tier", "front"}, {"team", "a"}};
  r.volumes = {"cache"};
  auto check = [&](std::vector<std::string> filters) {
    auto f = ContainerFilter::parse(filters);
    REQUIRE(f);
    return f->matches(r);
  };
  CHECK(check({"label=tier"}));
  CHECK(check({"label=tier=front", "label=team=a"}));
  CHECK_FALSE(check({"label=tier=front", "label=team=b"}));
  CHECK(check({"name=^/web"}));
  CHECK_FALSE(check({"name=^/db"}));
  CHECK(check({"name=db", "name=web"}));
  CHECK(check({"id=aaa"}));
  CHECK(check({"volume=cache"}));
  CHECK(check({"status=created"}));
  CHECK_FALSE(check({"status=exited"}));
  CHECK(ContainerFilter::parse({"colour=red"}).error().message() == "invalid filter 'colour'");
  CHECK(ContainerFilter::parse({"status=sleeping"}).error().message() ==
        "invalid filter 'status=sleeping'");
  CHECK(ContainerFilter::parse({"label"}).error().message() ==
        "bad format of filter (expected name=value)");
}

}  // namespace imgbuild::cli
