// `cmake --install` of the build tree into a temporary prefix: the files land where they belong,
// the installed programs run, the generated completion and man pages work, and
// `mount -t fuse.imgfs` runs the installed imgfs (mount.fuse3 runs the program named after the
// subtype).
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>

#include "base/dir_reader.h"
#include "base/fs.h"
#include "base/subprocess.h"
#include "tests/support/skip.h"

using namespace imgbuild;

namespace {

ProcessResult run(const std::vector<std::string>& argv, const ProcessOptions& options = {}) {
  auto r = run_process(argv, options);
  REQUIRE(r);
  return *r;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string read(const std::string& path) {
  auto data = fs::read_file(path);
  REQUIRE(data);
  return *data;
}

// The install prefix, installed once for all test cases.
const std::string& prefix() {
  static fs::TempDir dir = *fs::TempDir::create("/tmp", "imgbuild-install-");
  static bool installed = [] {
    auto r = run({"cmake", "--install", IMGBUILD_BUILD_DIR, "--prefix", dir.path()});
    INFO(r.out + r.err);
    REQUIRE(r.exit_code == 0);
    return true;
  }();
  (void)installed;
  return dir.path();
}

}  // namespace

TEST_CASE("cmake --install puts programs, completions, man pages and docs under the prefix",
          "[integration][install]") {
  const std::string& p = prefix();
  for (const char* file :
       {"bin/imgbuild", "bin/imgfs", "share/bash-completion/completions/imgbuild",
        "share/zsh/vendor-completions/_imgbuild", "share/man/man1/imgbuild.1",
        "share/man/man1/imgbuild-build.1", "share/man/man1/imgbuild-run.1",
        "share/man/man1/imgbuild-completion.1", "share/doc/imgbuild/README.md"}) {
    INFO(file);
    CHECK(exists(p + "/" + file));
  }
  CHECK_FALSE(exists(p + "/share/man/man1/imgbuild-__man.1"));  // hidden

  auto version = run({p + "/bin/imgbuild", "version"});
  CHECK(version.exit_code == 0);
  CHECK(version.out == "imgbuild 0.1.0\n");
  auto imgfs = run({p + "/bin/imgfs", "--version"});
  CHECK(imgfs.out == "imgfs 0.1.0\n");
}

TEST_CASE("installed man pages render without warnings", "[integration][install]") {
  std::string dir = prefix() + "/share/man/man1";
  auto names = fs::list_dir(dir, fs::MissingDir::kIsError);
  REQUIRE(names);
  CHECK(names->size() > 20);
  for (const auto& name : *names) {
    INFO(name);
    auto r = run({"groff", "-man", "-Tutf8", "-ww", "-z", dir + "/" + name});
    CHECK(r.exit_code == 0);
    CHECK(r.err == "");
  }
  // man(1) itself, as a user reads it (its output to a pipe still overstrikes: "X\bX" is bold).
  auto man = run({"man", "-l", dir + "/imgbuild-run.1"},
                 {.env = std::vector<std::string>{"MANWIDTH=80", "PATH=/usr/bin:/bin"}});
  INFO(man.err);
  CHECK(man.exit_code == 0);
  CHECK(man.err == "");
  std::string text;
  for (char c : man.out) {
    if (c != '\b') {
      text += c;
    } else if (!text.empty()) {
      text.pop_back();
    }
  }
  CHECK(text.find("imgbuild run [OPTIONS] IMAGE [COMMAND [ARG...]]") != std::string::npos);
  CHECK(text.find("-d, --detach\n") != std::string::npos);
}

TEST_CASE("installed bash completion loads and completes commands", "[integration][install]") {
  std::string bin = prefix() + "/bin/imgbuild";
  auto r = run({"bash", "-c", "source <('" + bin + "' completion bash) && complete -p imgbuild"});
  INFO(r.err);
  CHECK(r.out == "complete -F _imgbuild imgbuild\n");
  r = run({"bash", "-c",
           "source '" + prefix() +
               "/share/bash-completion/completions/imgbuild' && "
               "COMP_WORDS=('" +
               bin + "' ru) && COMP_CWORD=1 && _imgbuild && echo \"${COMPREPLY[@]}\""});
  INFO(r.err);
  CHECK(r.out == "run\n");
  // Names come from the store on the line (--root) at completion time.
  auto store = fs::TempDir::create();
  REQUIRE(store);
  std::string root = store->path();
  auto complete = [&](const std::string& words) {
    auto out =
        run({"bash", "-c",
             "source <('" + bin + "' completion bash) && COMP_WORDS=('" + bin + "' --root '" +
                 root + "' " + words + ") && COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) && " +
                 "_imgbuild && echo \"[${COMPREPLY[*]}]\""});
    INFO(out.err);
    return out.out;
  };
  CHECK(complete("rm ''") == "[]\n");  // no containers yet
  REQUIRE(fs::make_dirs(root + "/tree"));
  REQUIRE(fs::write_file_atomic(root + "/tree/f", "x"));
  REQUIRE(run({"tar", "-C", root + "/tree", "-cf", root + "/t.tar", "."}).exit_code == 0);
  auto imported = run({bin, "--root", root, "import", root + "/t.tar", "app:1"});
  INFO(imported.err);
  REQUIRE(imported.exit_code == 0);
  CHECK(complete("run a") == "[app:1]\n");
  CHECK(complete("rmi app : ''") == "[1]\n");  // bash split the word at ':'
  CHECK(complete("completion ''") == "[bash zsh]\n");
}

TEST_CASE("mount -t fuse.imgfs runs the installed imgfs", "[integration][install]") {
  if (::geteuid() != 0 || ::access("/dev/fuse", R_OK | W_OK) != 0) {
    testing::skip("mount -t fuse.imgfs needs root and /dev/fuse");
    return;
  }
  auto dir = fs::TempDir::create();
  REQUIRE(dir);
  const std::string& d = dir->path();
  for (const char* sub : {"/lower1", "/lower2", "/upper", "/work", "/mnt"}) {
    REQUIRE(fs::make_dirs(d + sub));
  }
  REQUIRE(fs::write_file_atomic(d + "/lower1/top", "top\n"));
  REQUIRE(fs::write_file_atomic(d + "/lower2/bottom", "bottom\n"));
  REQUIRE(fs::write_file_atomic(d + "/lower2/top", "hidden\n"));
  // libmount runs mount.fuse3 without PATH, so /bin/sh's default PATH (/usr/local/sbin:
  // /usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin) finds the subtype's program: a default
  // `cmake --install` (/usr/local) or the .deb (/usr). The prefix's bin/ stands in for
  // /usr/local/sbin in a private mount namespace, which the imgfs server keeps until unmounted.
  std::string mnt = d + "/mnt";
  std::string script =
      "set -e\ntrap 'umount -l " + mnt + " 2>/dev/null || true' EXIT\n" + "mount --bind " +
      prefix() + "/bin /usr/local/sbin\n" + "mount -t fuse.imgfs -o lowerdir=" + d +
      "/lower1:" + d + "/lower2,upperdir=" + d + "/upper,workdir=" + d + "/work imgfs " + mnt +
      "\n" + "grep -q 'imgfs " + mnt + " fuse.imgfs ' /proc/mounts\n" + "cat " + mnt + "/top " +
      mnt + "/bottom\n" + "echo new > " + mnt + "/new\n" +
      "readlink /proc/$(pgrep -n -f 'imgfs imgfs[ ]" + mnt + "')/exe\n" + "umount " + mnt + "\n";
  auto r = run({"unshare", "-m", "sh", "-c", script});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "top\nbottom\n/usr/local/sbin/imgfs\n");
  CHECK(read(d + "/upper/new") == "new\n");
  for (int i = 0; i < 250 && run({"pgrep", "-f", "imgfs imgfs " + mnt}).exit_code == 0; ++i) {
    ::usleep(20000);
  }
  CHECK(run({"pgrep", "-f", "imgfs imgfs " + mnt}).exit_code == 1);  // the server exited
}
