// ARG/ENV scoping and dispatch-time expansion, one rule per test.
#include <catch2/catch.hpp>

#include "builder/dockerfile/build_plan.h"
#include "builder/dockerfile/parser.h"

namespace df = imgbuild::builder::dockerfile;

namespace {

df::BuildPlan plan(std::string_view text, std::map<std::string, std::string> args = {},
                   std::string target = "") {
  auto parsed = df::parse_dockerfile(text, "Dockerfile");
  if (!parsed) FAIL(parsed.error().message());
  df::PlanOptions options;
  options.build_args = std::move(args);
  options.target = std::move(target);
  options.platform = df::PlatformArgs{"linux", "amd64", "", "linux", "arm64", "v8"};
  auto p = df::make_build_plan(*parsed, options);
  if (!p) FAIL(p.error().message());
  return std::move(*p);
}

// Expanded instructions of the last planned stage, rendered.
std::vector<std::string> expanded(std::string_view text,
                                  std::map<std::string, std::string> args = {}) {
  df::BuildPlan p = plan(text, std::move(args));
  auto stages = df::expand_stages(p);
  if (!stages) FAIL(stages.error().message());
  std::vector<std::string> out;
  for (const auto& i : stages->back().instructions) out.push_back(df::describe(i));
  return out;
}

using V = std::vector<std::string>;

}  // namespace

TEST_CASE("scope: global ARGs are visible in FROM but not inside the stage") {
  df::BuildPlan p = plan("ARG TAG=3.19\nFROM alpine:$TAG\nRUN true\nENV T=\"[$TAG]\"\n");
  CHECK(p.stages[0].base.image == "alpine:3.19");
  CHECK(expanded("ARG TAG=3.19\nFROM alpine:$TAG\nENV T=\"[$TAG]\"\n") == V{"ENV T=[]"});
}

TEST_CASE("scope: a global ARG redeclared without default inside a stage takes its value") {
  CHECK(expanded("ARG TAG=3.19\nFROM a\nARG TAG\nENV T=$TAG\n") == V{"ARG TAG=3.19", "ENV T=3.19"});
  CHECK(expanded("ARG TAG=3.19\nFROM a\nARG TAG\nENV T=$TAG\n", {{"TAG", "edge"}}) ==
        V{"ARG TAG=edge", "ENV T=edge"});
}

TEST_CASE("scope: an ARG default is used unless a build arg is given") {
  CHECK(expanded("FROM a\nARG V=1\nENV X=$V\n") == V{"ARG V=1", "ENV X=1"});
  CHECK(expanded("FROM a\nARG V=1\nENV X=$V\n", {{"V", "2"}}) == V{"ARG V=2", "ENV X=2"});
  CHECK(expanded("ARG V=g\nFROM a\nARG V=1\nENV X=$V\n") == V{"ARG V=1", "ENV X=1"});
}

TEST_CASE("scope: a build arg overrides a global ARG default in FROM") {
  df::BuildPlan p = plan("ARG BASE=alpine\nFROM $BASE\n", {{"BASE", "debian"}});
  CHECK(p.stages[0].base.image == "debian");
}

TEST_CASE("scope: global ARG defaults expand earlier global ARGs") {
  df::BuildPlan p = plan("ARG R=docker.io\nARG IMG=$R/library/alpine\nFROM ${IMG}\n");
  CHECK(p.stages[0].base.image == "docker.io/library/alpine");
}

TEST_CASE("scope: an undeclared ARG is not visible") {
  CHECK(expanded("FROM a\nENV X=\"<$V>\"\n", {{"V", "1"}}) == V{"ENV X=<>"});
}

TEST_CASE("scope: ENV overrides ARG of the same name, whatever the order") {
  CHECK(expanded("FROM a\nARG V=arg\nENV V=env\nENV X=$V\n") ==
        V{"ARG V=arg", "ENV V=env", "ENV X=env"});
  CHECK(expanded("FROM a\nENV V=env\nARG V=arg\nENV X=$V\n", {{"V", "given"}}) ==
        V{"ENV V=env", "ARG V=given", "ENV X=env"});
}

TEST_CASE("scope: ENV pairs on one line see the environment before the line") {
  CHECK(expanded("FROM a\nENV A=1\nENV A=2 B=$A\n") == V{"ENV A=1", "ENV A=2 B=1"});
}

TEST_CASE("scope: ARG and ENV are per stage; FROM <stage> inherits ENV but not ARG") {
  CHECK(expanded("FROM a AS one\nENV E=e\nARG A=a\nFROM one\nENV X=\"$E-$A\"\n") == V{"ENV X=e-"});
}

TEST_CASE("scope: automatic platform args are global and need ARG inside a stage") {
  df::BuildPlan p = plan("FROM --platform=$BUILDPLATFORM a\nARG TARGETARCH\nENV T=$TARGETARCH\n");
  CHECK(p.stages[0].platform == "linux/amd64");
  CHECK(expanded(
            "FROM a\nENV T=\"[$TARGETPLATFORM]\"\nARG TARGETPLATFORM\nENV U=$TARGETPLATFORM\n") ==
        V{"ENV T=[]", "ARG TARGETPLATFORM=linux/arm64/v8", "ENV U=linux/arm64/v8"});
}

TEST_CASE("scope: proxy build args reach RUN undeclared and stay out of history") {
  df::BuildPlan p = plan("FROM a\nARG V=1\nRUN env\n", {{"HTTP_PROXY", "http://p:3128"}});
  CHECK(p.warnings.empty());
  df::StageScope scope(p.global, {{"PATH", "/bin"}});
  for (const auto& i : p.stages[0].instructions) REQUIRE(scope.dispatch(i));
  CHECK(scope.run_env() ==
        df::EnvList{{"PATH", "/bin"}, {"V", "1"}, {"HTTP_PROXY", "http://p:3128"}});
  CHECK(scope.history_args() == df::EnvList{{"V", "1"}});
  CHECK(scope.env() == df::EnvList{{"PATH", "/bin"}});
}

TEST_CASE("scope: the base image env is visible and ENV replaces it in place") {
  df::BuildPlan p = plan("FROM a\nENV PATH=/opt/bin:$PATH\nWORKDIR $HOME/src\n");
  df::StageScope scope(p.global, {{"PATH", "/bin"}, {"HOME", "/root"}});
  auto env = scope.dispatch(p.stages[0].instructions[0]);
  REQUIRE(env);
  auto workdir = scope.dispatch(p.stages[0].instructions[1]);
  REQUIRE(workdir);
  CHECK(workdir->get<df::WorkdirInstr>()->path == "/root/src");
  CHECK(scope.env() == df::EnvList{{"PATH", "/opt/bin:/bin"}, {"HOME", "/root"}});
}

TEST_CASE("scope: unused build args produce a warning") {
  df::BuildPlan p =
      plan("ARG G\nFROM a\nARG USED\n",
           {{"G", "1"}, {"USED", "2"}, {"NOPE", "3"}, {"ZZZ", "4"}, {"no_proxy", "x"}});
  CHECK(p.warnings == V{"[Warning] One or more build-args [NOPE ZZZ] were not consumed"});
}

TEST_CASE("scope: dispatch expands what Docker expands and leaves shell text alone") {
  CHECK(expanded("FROM a\nARG D=/dst P=8080 U=app\n"
                 "COPY --chown=$U:$U --chmod=0755 src/$U \"$D/\"\n"
                 "RUN echo $D && ls '$P'\n"
                 "CMD echo $D\n"
                 "EXPOSE $P ${P}/udp\n"
                 "USER $U\n"
                 "VOLUME $D\n"
                 "LABEL \"$U.version\"=\"1 0\"\n"
                 "STOPSIGNAL SIG$U\n"
                 "ONBUILD RUN echo $D\n") ==
        V{"ARG D=/dst P=8080 U=app", "COPY --chown=app:app --chmod=0755 src/app /dst/",
          "RUN echo $D && ls '$P'", "CMD echo $D", "EXPOSE 8080 8080/udp", "USER app",
          "VOLUME [\"/dst\"]", "LABEL app.version=1 0", "STOPSIGNAL SIGapp",
          "ONBUILD RUN echo $D"});
}

TEST_CASE("scope: heredoc bodies expand only with an unquoted delimiter, quotes kept") {
  df::BuildPlan p = plan("FROM a\nARG V=1\nCOPY <<EOF <<'RAW' /d/\n\"$V\" '$V'\nEOF\n$V\nRAW\n");
  auto stages = df::expand_stages(p);
  REQUIRE(stages);
  const auto& copy = *stages->at(0).instructions[1].get<df::CopyInstr>();
  CHECK(copy.inline_sources[0].data == "\"1\" '1'\n");
  CHECK(copy.inline_sources[1].data == "$V\n");
}

TEST_CASE("scope: expansion errors name file and line") {
  auto parsed = df::parse_dockerfile("FROM a\n\nWORKDIR ${DIR:?must be set}\n", "app.Dockerfile");
  REQUIRE(parsed);
  auto p = df::make_build_plan(*parsed, {});
  REQUIRE(p);
  auto stages = df::expand_stages(*p);
  REQUIRE_FALSE(stages);
  CHECK(stages.error().message() ==
        "app.Dockerfile:3: failed to process \"${DIR:?must be set}\": DIR: must be set");
  auto volume = df::expand_stages(
      *df::make_build_plan(*df::parse_dockerfile("FROM a\nVOLUME $NOPE\n", "Dockerfile"), {}));
  REQUIRE_FALSE(volume);
  CHECK(volume.error().message() == "Dockerfile:2: VOLUME specified can not be an empty string");
}

namespace {

// The error of expanding every stage of `text`, with its kind checked.
std::string limit_error(std::string_view text) {
  auto parsed = df::parse_dockerfile(text, "Dockerfile");
  if (!parsed) FAIL(parsed.error().message());
  auto p = df::make_build_plan(*parsed, {});
  if (!p) {
    CHECK(p.error().kind() == imgbuild::ErrorKind::kLimit);
    return p.error().message();
  }
  auto stages = df::expand_stages(*p);
  REQUIRE_FALSE(stages);
  CHECK(stages.error().kind() == imgbuild::ErrorKind::kLimit);
  return stages.error().message();
}

// ${A//A/...$A} nested `depth` times: 16^(depth+1) bytes from ARG A=AAAAAAAAAAAAAAAA.
std::string bomb(int depth) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += "${A//A/";
  return s + "$A" + std::string(static_cast<size_t>(depth), '}');
}

}  // namespace

TEST_CASE("scope: an ENV value stops at 1 MiB (the word-expansion bomb of issue 18)") {
  std::string head = "FROM a\nARG A=AAAAAAAAAAAAAAAA\n";
  auto stages = df::expand_stages(plan(head + "ENV B=" + bomb(4) + "\n"));
  REQUIRE(stages);
  CHECK(stages->at(0).env.at(0).second.size() == 1u << 20);
  // Six deep built 268 MB in 10 s; the expansion now stops as the word passes 1 MiB.
  CHECK(limit_error(head + "ENV B=" + bomb(6) + "\n") ==
        "Dockerfile:3: failed to process \"${A//A/${A//A/${A//A/${A//A/${A//A/${A//A/$A}}}}\"...: "
        "expands to more than 1 MiB");
}

TEST_CASE("scope: all the words of a build together stop at 4 MiB") {
  std::string text = "FROM a\nARG A=AAAAAAAAAAAAAAAA\n";
  for (int i = 0; i < 5; ++i) text += "LABEL l" + std::to_string(i) + "=" + bomb(4) + "\n";
  CHECK(limit_error(text) == "Dockerfile:6: expanded words exceed 4 MiB in total");
  // A stage's ARG values are repeated in the history of each of its RUN steps.
  std::string runs = "FROM a\nARG A=AAAAAAAAAAAAAAAA\nARG B=" + bomb(4) + "\n";
  for (int i = 0; i < 4; ++i) runs += "RUN true\n";
  CHECK(limit_error(runs) == "Dockerfile:6: expanded words exceed 4 MiB in total");
}

TEST_CASE("scope: the work of all the words of a build together is bounded") {
  std::string discard;
  for (int i = 0; i < 15; ++i) discard += "${B:+}";
  std::string text = "FROM a\nARG A=AAAAAAAAAAAAAAAA\nENV B=" + bomb(4) + "\n";
  for (int i = 0; i < 3; ++i) text += "ENV C=" + discard + "\n";
  CHECK(limit_error(text) == "Dockerfile:5: expansions take more than 33554432 steps in total");
}

TEST_CASE("scope: a FROM line's expansion is bounded like any word") {
  CHECK(limit_error("ARG A=AAAAAAAAAAAAAAAA\nFROM " + bomb(5) + "\n") ==
        "Dockerfile:2: failed to process \"${A//A/${A//A/${A//A/${A//A/${A//A/$A}}}}}\": expands "
        "to more than 1 MiB");
}
