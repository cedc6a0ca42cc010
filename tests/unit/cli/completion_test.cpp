#include "cli/completion.h"

#include <catch2/catch.hpp>

#include "base/fs.h"
#include "base/subprocess.h"
#include "tests/unit/cli/test_app.h"

namespace imgbuild::cli {
namespace {

TEST_CASE("describe_app reads commands, options and argument kinds off CLI11", "[unit]") {
  TestApp t;
  CommandSpec spec = describe_app(t.app);
  CHECK(spec.name == "imgbuild");
  CHECK(visible_command_names(spec) ==
        std::vector<std::string>{"build", "completion", "container", "rm", "remove", "run"});
  CHECK(visible_option_names(spec) ==
        std::vector<std::string>{"-h", "--help", "--root", "-D", "--debug"});
  const CommandSpec& build = spec.subcommands[1];
  REQUIRE(build.name == "build");
  REQUIRE(build.options.size() == 4);
  CHECK(build.options[1].names == std::vector<std::string>{"-f", "--file"});
  CHECK(build.options[1].value_name == "TEXT");
  CHECK(build.options[1].kind == ArgKind::kFile);
  CHECK(build.options[3].value_name.empty());  // -q is a flag
  REQUIRE(build.positionals.size() == 1);
  CHECK(build.positionals[0].kind == ArgKind::kDirectory);
  CHECK_FALSE(build.positionals[0].repeated);
  const CommandSpec& completion = spec.subcommands[2];
  REQUIRE(completion.name == "completion");
  CHECK(completion.positionals[0].choices == std::vector<std::string>{"bash", "zsh"});
  CHECK(completion.positionals[0].kind == ArgKind::kFile);
  const CommandSpec& rm = spec.subcommands[4];
  REQUIRE(rm.name == "rm");
  CHECK(rm.aliases == std::vector<std::string>{"remove"});
  CHECK(rm.positionals[0].kind == ArgKind::kContainer);
  CHECK(rm.positionals[0].repeated);
  CHECK(rm.positionals[0].required);
  const CommandSpec& run = spec.subcommands[5];
  CHECK(run.takes_command);
  CHECK(run.command_target == ArgKind::kImage);
  CHECK(spec.subcommands[0].name == "__man");
  CHECK(spec.subcommands[0].hidden);
  CHECK(spec.subcommands[3].subcommands[0].name == "prune");
}

// Runs the bash completion for the words (the last one is being completed) and returns the
// candidates, one per line. A fake imgbuild lists containers c1 c2 and images busybox:latest.
class Completer {
 public:
  Completer() : dir_(std::move(*fs::TempDir::create())) {
    TestApp t;
    REQUIRE(fs::write_file_atomic(dir_.path() + "/completion.bash",
                                  bash_completion(describe_app(t.app))));
    REQUIRE(fs::write_file_atomic(dir_.path() + "/imgbuild",
                                  "#!/bin/sh\n"
                                  "case \"$*\" in\n"
                                  "  *ps\\ -a*) printf 'c1\\nc2\\n' ;;\n"
                                  "  *images*) printf 'busybox:latest\\n<none>:<none>\\n' ;;\n"
                                  "esac\n",
                                  0755));
  }

  std::string complete(std::vector<std::string> words) {
    words.insert(words.begin(), dir_.path() + "/imgbuild");
    std::string array;
    for (const auto& w : words) array += " '" + w + "'";
    std::string script = "cd '" + dir_.path() + "' && source completion.bash && COMP_WORDS=(" +
                         array + ") && COMP_CWORD=" + std::to_string(words.size() - 1) +
                         " && _imgbuild && printf '%s\\n' \"${COMPREPLY[@]}\" | LC_ALL=C sort && " +
                         "for x in \"${COMPREPLY[@]}\"; do [[ $x != *$'\\n'* ]] || " +
                         "echo \"two in one: $x\" >&2; done";
    auto r = run_process({"bash", "-c", script});
    REQUIRE(r);
    INFO(r->err);
    CHECK(r->err.empty());
    return r->out;
  }

  const std::string& dir() const { return dir_.path(); }

 private:
  fs::TempDir dir_;
};

TEST_CASE("bash completion completes commands, aliases and flags", "[unit]") {
  Completer c;
  CHECK(c.complete({"ru"}) == "run\n");
  CHECK(c.complete({"re"}) == "remove\n");
  CHECK(c.complete({"__"}) == "\n");  // hidden
  CHECK(c.complete({"--r"}) == "--root\n");
  CHECK(c.complete({"--root", "/store", "b"}) == "build\n");
  CHECK(c.complete({"-D", "build", "--"}) == "--file\n--help\n--quiet\n--tag\n");
  CHECK(c.complete({"container", "p"}) == "prune\n");
  CHECK(c.complete({"container", "prune", "-"}) == "--force\n--help\n-f\n-h\n");
}

TEST_CASE("bash completion completes containers, images and paths by kind", "[unit]") {
  Completer c;
  CHECK(c.complete({"rm", ""}) == "c1\nc2\n");
  CHECK(c.complete({"completion", ""}) == "bash\nzsh\n");        // CLI::IsMember's choices
  CHECK(c.complete({"remove", "-f", "c1", "c"}) == "c1\nc2\n");  // repeated
  CHECK(c.complete({"run", "--name", "x", "-d", "b"}) == "busybox:latest\n");
  CHECK(c.complete({"run", "busybox", ":", "l"}) == "latest\n");  // bash split at ':'
  CHECK(c.complete({"run", "busybox:latest", ""}) == "\n");       // the command: nothing
  CHECK(c.complete({"run", "busybox:latest", "-"}) == "\n");      // not run's flags
  CHECK(c.complete({"run", "--name", ""}) == "\n");               // a free-form value
  CHECK(c.complete({"build", "-f", "compl"}) == "completion.bash\n");
  CHECK(c.complete({"build", "--file", "=", "compl"}) == "completion.bash\n");
  CHECK(c.complete({"build", "-t", "x", "--root", "/s", "compl"}) == "\n");  // a directory
}

TEST_CASE("zsh completion wraps the bash one through bashcompinit", "[unit]") {
  TestApp t;
  std::string zsh = zsh_completion(describe_app(t.app));
  CHECK(zsh.starts_with("#compdef imgbuild\n"));
  CHECK(zsh.find("autoload -U +X bashcompinit && bashcompinit\n") != std::string::npos);
  CHECK(zsh.find("complete -F __imgbuild_bash imgbuild\n") != std::string::npos);
}

}  // namespace
}  // namespace imgbuild::cli
