// Volumes: named and anonymous, -v and --mount, Docker's first-use copy, volume
// create/ls/inspect/rm/prune, rm -v, and system df counting them; image/container aliases.
#include <catch2/catch.hpp>

#include "containers_fixture.h"

namespace imgbuild::containers::testing {

TEST_CASE("named volumes keep data across containers; rm refused while in use", "[integration]") {
  if (cannot_run()) return;
  Cli cli;
  CHECK(cli.run({"volume", "create", "--label", "tier=db", "data"}).out == "data\n");
  auto r = cli.run({"run", "--name", "writer", "-v", "data:/data", "busybox:test", "sh", "-c",
                    "echo hi > /data/f"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  // --mount with Docker's aliases; readonly is enforced.
  r = cli.run({"run", "--rm", "--mount", "type=volume,src=data,dst=/d,readonly", "busybox:test",
               "sh", "-c", "cat /d/f; touch /d/g 2>/dev/null || echo ro"});
  INFO(r.err);
  CHECK(r.out == "hi\nro\n");
  std::string mountpoint = cli.root + "/volumes/data/_data";
  CHECK(cli.run({"volume", "inspect", "--format", "{{.Name}} {{.Mountpoint}} {{.Labels.tier}}",
                 "data"})
            .out == "data " + mountpoint + " db\n");
  CHECK(*fs::read_file(mountpoint + "/f") == "hi\n");
  CHECK(cli.run({"volume", "ls"}).out == "DRIVER    VOLUME NAME\nlocal     data\n");
  CHECK(cli.run({"inspect", "--format",
                 "{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}}"
                 "{{end}}",
                 "writer"})
            .out == "volume data /data\n");
  CHECK(cli.run({"ps", "-a", "--filter", "volume=data", "--format", "{{.Names}}"}).out ==
        "writer\n");

  std::string id = cli.run({"ps", "-aq", "--no-trunc"}).out;
  r = cli.run({"volume", "rm", "data"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "imgbuild: remove data: volume is in use - [" + id.substr(0, 64) + "]\n");
  // Neither prune touches a volume.
  CHECK(cli.run({"prune"}).exit_code == 0);
  CHECK(cli.run({"volume", "prune", "-a", "-f"}).out == "Total reclaimed space: 0B\n");
  REQUIRE(cli.run({"rm", "writer"}).exit_code == 0);
  CHECK(fs::exists(mountpoint + "/f"));
  CHECK(cli.run({"volume", "rm", "data"}).out == "data\n");
  CHECK_FALSE(fs::exists(cli.root + "/volumes/data"));
  r = cli.run({"volume", "inspect", "data"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "imgbuild: get data: no such volume\n");
  CHECK(cli.run({"volume", "rm", "-f", "data"}).exit_code == 0);
}

TEST_CASE("an empty volume gets the image's content first; anonymous volumes and rm -v",
          "[integration]") {
  if (cannot_run()) return;
  Cli cli;
  // /home/app is owned by 1000 in the image: the copy keeps owners.
  auto r = cli.run({"run", "--rm", "-v", "home:/home/app", "-v", "/etc", "busybox:test", "sh", "-c",
                    "stat -c %u /home/app; grep -c app /etc/group; echo new > /etc/new"});
  INFO(r.err);
  CHECK(r.out == "1000\n2\n");
  // The image's VOLUME gets an anonymous volume, seeded from the image; -v covers the other.
  r = cli.run({"build", "-t", "vol:test", "-"}, "FROM busybox:test\nVOLUME /etc /srv\n");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  r = cli.run({"run", "--name", "anon", "-v", "srv:/srv", "vol:test", "sh", "-c",
               "head -1 /etc/passwd; echo kept > /srv/k"});
  CHECK(r.out == "root:x:0:0:root:/root:/bin/sh\n");
  auto names = cli.run({"volume", "ls", "-q"}).out;
  // home, srv and anon's /etc (--rm removed its container's anonymous /etc volume).
  CHECK(std::count(names.begin(), names.end(), '\n') == 3);
  std::string anon = cli.run({"inspect", "--format",
                              "{{range .Mounts}}{{if eq .Destination \"/etc\"}}{{.Name}}{{end}}"
                              "{{end}}",
                              "anon"})
                         .out;
  REQUIRE(anon.size() == 65);
  anon.pop_back();
  CHECK(fs::exists(cli.root + "/volumes/" + anon + "/_data/passwd"));
  REQUIRE(cli.run({"rm", "-v", "anon"}).exit_code == 0);
  CHECK_FALSE(fs::exists(cli.root + "/volumes/" + anon));
  CHECK(fs::exists(cli.root + "/volumes/srv/_data/k"));
  // rm without -v keeps the anonymous volume; prune without -a removes only that one.
  REQUIRE(cli.run({"run", "--name", "p", "-v", "/x", "busybox:test", "true"}).exit_code == 0);
  REQUIRE(cli.run({"rm", "p"}).exit_code == 0);
  r = cli.run({"volume", "prune", "-f"});
  CHECK(r.out.starts_with("Deleted Volumes:\n"));
  CHECK(r.out.size() == std::string("Deleted Volumes:\n\nTotal reclaimed space: 0B\n").size() + 65);
  CHECK(cli.run({"volume", "ls", "-q"}).out == "home\nsrv\n");
}

TEST_CASE("system df counts images, containers and volumes; management aliases", "[integration]") {
  if (cannot_run()) return;
  Cli cli;
  REQUIRE(cli.run({"run", "--name", "c1", "-v", "v1:/v", "busybox:test", "sh", "-c",
                   "head -c 1000 /dev/zero > /v/f; head -c 500 /dev/zero > /f"})
              .exit_code == 0);
  REQUIRE(cli.run({"volume", "create", "v2"}).exit_code == 0);
  auto r = cli.run({"system", "df", "--format",
                    "{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Size}}|{{.Reclaimable}}"});
  INFO(r.err);
  std::string images_line = r.out.substr(0, r.out.find('\n'));
  CHECK(images_line.starts_with("Images|1|1|"));
  CHECK(images_line.ends_with("|0B (0%)"));
  CHECK(r.out.find("\nContainers|1|0|500B|500B (100%)\n") != std::string::npos);
  CHECK(r.out.find("\nLocal Volumes|2|1|1kB|0B (0%)\n") != std::string::npos);
  CHECK(r.out.find("\nBuild Cache|0|0|0B|0B\n") != std::string::npos);
  r = cli.run({"system", "df"});
  CHECK(r.out.starts_with("TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n"));
  r = cli.run({"system", "df", "-v"});
  CHECK(r.out.find("Local Volumes space usage:\n\nVOLUME NAME   LINKS     SIZE\nv1            1"
                   "         1kB\nv2            0         0B\n") != std::string::npos);

  CHECK(cli.run({"image", "ls", "-q"}).out == cli.run({"images", "-q"}).out);
  CHECK(cli.run({"container", "ls", "-a", "--format", "{{.Names}}"}).out == "c1\n");
  CHECK(cli.run({"image", "inspect", "--format", "{{.Os}}", "busybox:test"}).out == "linux\n");
  r = cli.run({"container", "inspect", "busybox:test"});
  CHECK(r.exit_code == 1);
  // image prune -a keeps the image c1 was created from.
  CHECK(cli.run({"image", "prune", "-a", "-f"}).exit_code == 0);
  CHECK(cli.run({"images", "-q"}).out.size() == 13);
  REQUIRE(cli.run({"container", "rm", "c1"}).exit_code == 0);
  r = cli.run({"image", "prune", "-a", "-f"});
  CHECK(r.out.starts_with("untagged: busybox:test\n"));
  CHECK(cli.run({"images", "-q"}).out.empty());
  CHECK(cli.run({"volume", "ls", "-q"}).out == "v1\nv2\n");
}

}  // namespace imgbuild::containers::testing
