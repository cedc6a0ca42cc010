// Typed instructions: fields, flags and every error message, with file and line.
#include <catch2/catch.hpp>

#include "builder/dockerfile/instructions.h"
#include "builder/dockerfile/parser.h"

namespace df = imgbuild::builder::dockerfile;

namespace {

df::Stages stages(std::string_view text) {
  auto parsed = df::parse_dockerfile(text, "Dockerfile");
  if (!parsed) FAIL(parsed.error().message());
  auto s = df::parse_stages(*parsed);
  if (!s) FAIL(s.error().message());
  return std::move(*s);
}

// The error for the instruction(s) after "FROM a\n" (so the culprit is on line 2).
std::string error_of(std::string_view body) {
  std::string text = "FROM a\n" + std::string(body);
  auto parsed = df::parse_dockerfile(text, "Dockerfile");
  if (!parsed) return parsed.error().message();
  auto s = df::parse_stages(*parsed);
  REQUIRE_FALSE(s);
  return s.error().message();
}

}  // namespace

TEST_CASE("instructions reject an unknown instruction with a suggestion") {
  CHECK(error_of("COPPY a b\n") == "Dockerfile:2: unknown instruction: COPPY (did you mean copy?)");
  CHECK(error_of("FOOBAR x\n") == "Dockerfile:2: unknown instruction: FOOBAR");
}

TEST_CASE("instructions report BuildKit's argument errors") {
  CHECK(error_of("ENV =x\n") == "Dockerfile:2: ENV names can not be blank");
  CHECK(error_of("ENV\n") == "Dockerfile:2: ENV requires at least one argument");
  CHECK(error_of("LABEL\n") == "Dockerfile:2: LABEL requires at least one argument");
  CHECK(error_of("ARG =x\n") == "Dockerfile:2: ARG names can not be blank");
  CHECK(error_of("ARG\n") == "Dockerfile:2: ARG requires at least one argument");
  CHECK(error_of("COPY x\n") ==
        "Dockerfile:2: COPY requires at least two arguments, but only one was provided. "
        "Destination could not be determined.");
  CHECK(error_of("ADD x\n") ==
        "Dockerfile:2: ADD requires at least two arguments, but only one was provided. "
        "Destination could not be determined.");
  CHECK(error_of("USER\n") == "Dockerfile:2: USER requires exactly one argument");
  CHECK(error_of("WORKDIR\n") == "Dockerfile:2: WORKDIR requires exactly one argument");
  CHECK(error_of("STOPSIGNAL\n") == "Dockerfile:2: STOPSIGNAL requires exactly one argument");
  CHECK(error_of("MAINTAINER\n") == "Dockerfile:2: MAINTAINER requires exactly one argument");
  CHECK(error_of("EXPOSE\n") == "Dockerfile:2: EXPOSE requires at least one argument");
  CHECK(error_of("VOLUME\n") == "Dockerfile:2: VOLUME requires at least one argument");
  CHECK(error_of("RUN\n") == "Dockerfile:2: RUN requires at least one argument");
  CHECK(error_of("ONBUILD\n") == "Dockerfile:2: ONBUILD requires at least one argument");
  CHECK(error_of("SHELL sh -c\n") ==
        "Dockerfile:2: SHELL requires the arguments to be in JSON form");
  CHECK(error_of("SHELL []\n") == "Dockerfile:2: SHELL requires at least one argument");
  CHECK(error_of("ONBUILD ONBUILD RUN x\n") ==
        "Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  CHECK(error_of("ONBUILD FROM x\n") == "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger");
  CHECK(error_of("COPY a <<EOF\nx\nEOF\n") ==
        "Dockerfile:2: COPY cannot accept a heredoc as a destination");
  CHECK(error_of("RUN --network=foo x\n") == "Dockerfile:2: unsupported network mode: foo");
}

TEST_CASE("instructions report FROM errors") {
  CHECK(error_of("FROM a AS 1x\n") ==
        "Dockerfile:2: invalid name for build stage: \"1x\", name can't start with a number or "
        "contain symbols");
  CHECK(error_of("FROM a b\n") == "Dockerfile:2: FROM requires either one or three arguments");
  CHECK(error_of("FROM --platfrom=x a\n") ==
        "Dockerfile:2: unknown flag: platfrom (did you mean platform?)");
}

TEST_CASE("instructions report flag errors") {
  CHECK(error_of("COPY --fro=x a b\n") == "Dockerfile:2: unknown flag: fro (did you mean from?)");
  CHECK(error_of("ADD --from=x a b\n") == "Dockerfile:2: unknown flag: from");
  CHECK(error_of("COPY --from a b\n") == "Dockerfile:2: missing a value on flag: from");
  CHECK(error_of("COPY --link=maybe a b\n") ==
        "Dockerfile:2: expecting boolean value for flag link, not: maybe");
  CHECK(error_of("COPY --link= a b\n") == "Dockerfile:2: missing a value on flag: link");
  CHECK(error_of("COPY --chown=a --chown=b a b\n") ==
        "Dockerfile:2: duplicate flag specified: chown");
  CHECK(error_of("ENV --x=1 a=b\n") == "Dockerfile:2: unknown flag: x");
}

TEST_CASE("instructions report HEALTHCHECK errors") {
  CHECK(error_of("HEALTHCHECK --interval=1us CMD x\n") ==
        "Dockerfile:2: Interval \"interval\" cannot be less than 1ms");
  CHECK(error_of("HEALTHCHECK --timeout=5 CMD x\n") ==
        "Dockerfile:2: time: missing unit in duration \"5\"");
  CHECK(error_of("HEALTHCHECK --timeout=abc CMD x\n") ==
        "Dockerfile:2: time: invalid duration \"abc\"");
  CHECK(error_of("HEALTHCHECK --timeout=5y CMD x\n") ==
        "Dockerfile:2: time: unknown unit \"y\" in duration \"5y\"");
  CHECK(error_of("HEALTHCHECK --retries=-1 CMD x\n") ==
        "Dockerfile:2: --retries cannot be negative (-1)");
  CHECK(error_of("HEALTHCHECK CONNECT x\n") ==
        "Dockerfile:2: Unknown type \"CONNECT\" in HEALTHCHECK (try CMD)");
  CHECK(error_of("HEALTHCHECK NONE x\n") == "Dockerfile:2: HEALTHCHECK NONE takes no arguments");
  CHECK(error_of("HEALTHCHECK CMD\n") == "Dockerfile:2: Missing command after HEALTHCHECK CMD");
}

TEST_CASE("instructions outside a stage are rejected") {
  auto parsed = df::parse_dockerfile("ARG A=1\nRUN x\nFROM a\n", "Dockerfile");
  REQUIRE(parsed);
  auto s = df::parse_stages(*parsed);
  REQUIRE_FALSE(s);
  CHECK(s.error().message() == "Dockerfile:2: no build stage in current context");
  auto only_args = df::parse_stages(*df::parse_dockerfile("ARG A\n", "Dockerfile"));
  REQUIRE_FALSE(only_args);
  CHECK(only_args.error().message() == "Dockerfile: dockerfile contains no stages to build");
}

TEST_CASE("instructions carry typed fields") {
  auto s = stages(
      "ARG V=1\n"
      "FROM --platform=$BUILDPLATFORM golang:${V} AS Build\n"
      "COPY --from=x --chown=1:1 --chmod=755 --link --parents --exclude=*.md --exclude=.git "
      "a b /dst/\n"
      "ADD --checksum=sha256:abc --keep-git-dir=true https://x/y.git /src\n"
      "RUN --mount=type=cache,target=/c --network=none --security=insecure make\n"
      "CMD [\"run\", \"--now\"]\n"
      "ENTRYPOINT exec app\n"
      "HEALTHCHECK --interval=5s --timeout=1m30s --retries=3 CMD curl -f http://x/\n"
      "ENV A=1 B=\"two words\"\n"
      "ENV LEGACY one two\n"
      "EXPOSE 8080/tcp 80\n"
      "VOLUME [\"/data\", \"/logs\"]\n"
      "ONBUILD RUN echo hi\n"
      "STOPSIGNAL SIGTERM\n"
      "SHELL [\"/bin/bash\", \"-c\"]\n"
      "ARG X Y=2\n");
  REQUIRE(s.meta_args.size() == 1);
  CHECK(s.meta_args[0].args[0].key == "V");
  REQUIRE(s.stages.size() == 1);
  const auto& from = *s.stages[0].from.get<df::FromInstr>();
  CHECK(from.base_name == "golang:${V}");
  CHECK(from.stage_name == "build");
  CHECK(from.platform == "$BUILDPLATFORM");
  const auto& ins = s.stages[0].instructions;
  REQUIRE(ins.size() == 14);

  const auto& copy = *ins[0].get<df::CopyInstr>();
  CHECK(ins[0].name == "COPY");
  CHECK(copy.from == "x");
  CHECK(copy.chown == "1:1");
  CHECK(copy.chmod == "755");
  CHECK(copy.link);
  CHECK(copy.parents);
  CHECK(copy.excludes == std::vector<std::string>{"*.md", ".git"});
  CHECK(copy.sources == std::vector<std::string>{"a", "b"});
  CHECK(copy.dest == "/dst/");

  const auto& add = *ins[1].get<df::CopyInstr>();
  CHECK(add.is_add);
  CHECK(add.checksum == "sha256:abc");
  CHECK(add.keep_git_dir == std::optional<bool>(true));

  const auto& run = *ins[2].get<df::RunInstr>();
  CHECK(run.mounts == std::vector<std::string>{"type=cache,target=/c"});
  CHECK(run.network == "none");
  CHECK(run.security == "insecure");
  CHECK(run.command.prepend_shell);
  CHECK(run.command.args == std::vector<std::string>{"make"});

  const auto& cmd = *ins[3].get<df::CmdInstr>();
  CHECK_FALSE(cmd.command.prepend_shell);
  CHECK(cmd.command.args == std::vector<std::string>{"run", "--now"});
  CHECK(ins[4].get<df::EntrypointInstr>()->command.args == std::vector<std::string>{"exec app"});

  const auto& hc = *ins[5].get<df::HealthcheckInstr>();
  CHECK(hc.test == std::vector<std::string>{"CMD-SHELL", "curl -f http://x/"});
  CHECK(hc.interval_ns == 5000000000);
  CHECK(hc.timeout_ns == 90000000000);
  CHECK(hc.retries == 3);

  const auto& env = *ins[6].get<df::EnvInstr>();
  REQUIRE(env.env.size() == 2);
  CHECK(env.env[1].key == "B");
  CHECK(env.env[1].value == "\"two words\"");  // expanded (quotes removed) at dispatch
  const auto& legacy = *ins[7].get<df::EnvInstr>();
  CHECK(legacy.env[0].value == "one two");
  CHECK(legacy.env[0].no_delim);

  CHECK(ins[8].get<df::ExposeInstr>()->ports == std::vector<std::string>{"80", "8080/tcp"});
  CHECK(ins[9].get<df::VolumeInstr>()->volumes == std::vector<std::string>{"/data", "/logs"});
  CHECK(ins[10].get<df::OnbuildInstr>()->expression == "RUN echo hi");
  CHECK(ins[11].get<df::StopsignalInstr>()->signal == "SIGTERM");
  CHECK(ins[12].get<df::ShellInstr>()->shell == std::vector<std::string>{"/bin/bash", "-c"});
  const auto& arg = *ins[13].get<df::ArgInstr>();
  REQUIRE(arg.args.size() == 2);
  CHECK_FALSE(arg.args[0].value);
  CHECK(arg.args[1].value == std::optional<std::string>("2"));
  CHECK(ins[13].start_line == 16);
}

TEST_CASE("instructions turn COPY heredocs into inline sources") {
  auto s = stages("FROM a\nCOPY <<-EOF <<'RAW' src /dst/\n\tone $X\nEOF\n$Y\nRAW\n");
  const auto& copy = *s.stages[0].instructions[0].get<df::CopyInstr>();
  CHECK(copy.sources == std::vector<std::string>{"src"});
  REQUIRE(copy.inline_sources.size() == 2);
  CHECK(copy.inline_sources[0].name == "EOF");
  CHECK(copy.inline_sources[0].data == "one $X\n");
  CHECK(copy.inline_sources[0].expand);
  CHECK(copy.inline_sources[1].data == "$Y\n");
  CHECK_FALSE(copy.inline_sources[1].expand);
}

TEST_CASE("describe renders instructions canonically") {
  auto s = stages("FROM a AS b\nCOPY --from=b --link x /y\nCMD [\"a\"]\nRUN echo hi\n");
  CHECK(df::describe(s.stages[0].from) == "FROM a AS b");
  CHECK(df::describe(s.stages[0].instructions[0]) == "COPY --from=b --link x /y");
  CHECK(df::describe(s.stages[0].instructions[1]) == "CMD [\"a\"]");
  CHECK(df::describe(s.stages[0].instructions[2]) == "RUN echo hi");
}

TEST_CASE("parse_go_duration follows Go's syntax") {
  CHECK(df::parse_go_duration("1h2m3.5s").value() == 3723500000000);
  CHECK(df::parse_go_duration("0").value() == 0);
  CHECK(df::parse_go_duration("250ms").value() == 250000000);
  CHECK(df::parse_go_duration(".5us").value() == 500);
  CHECK_FALSE(df::parse_go_duration(""));
  CHECK_FALSE(df::parse_go_duration("1.s.").has_value());
}
