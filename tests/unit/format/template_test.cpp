// The template engine against the examples of Docker's docs ("Format command and log output",
// `docker inspect`, `docker ps`, `docker images`) and Go's text/template behaviour.
#include "format/template.h"

#include <catch2/catch.hpp>

namespace imgbuild::format {
namespace {

using Json = nlohmann::json;

std::string run(const std::string& text, const Json& data) {
  auto t = Template::parse(text);
  REQUIRE(t);
  auto out = t->execute(data);
  REQUIRE(out);
  return *out;
}

std::string parse_error(const std::string& text) {
  auto t = Template::parse(text);
  REQUIRE_FALSE(t);
  return t.error().message();
}

std::string exec_error(const std::string& text, const Json& data) {
  auto t = Template::parse(text);
  REQUIRE(t);
  auto out = t->execute(data);
  REQUIRE_FALSE(out);
  return out.error().message();
}

const Json kContainer = Json::parse(R"({
  "Name": "/web",
  "LogPath": "/var/lib/docker/containers/abc/abc-json.log",
  "Args": ["-g", "daemon off;"],
  "State": {"Status": "running", "Running": true, "Pid": 4242, "ExitCode": 0},
  "Config": {
    "Image": "nginx:1.25",
    "Env": ["PATH=/usr/bin", "NGINX_VERSION=1.25.3"],
    "ExposedPorts": {"80/tcp": {}},
    "Labels": {"com.example.team": "web", "maintainer": "NGINX"}
  },
  "NetworkSettings": {
    "Networks": {"bridge": {"IPAddress": "172.17.0.2"}},
    "Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}
  },
  "Mounts": []
})");

TEST_CASE("template prints fields and nested fields", "[unit]") {
  CHECK(run("{{.LogPath}}", kContainer) == "/var/lib/docker/containers/abc/abc-json.log");
  CHECK(run("{{.Config.Image}}", kContainer) == "nginx:1.25");
  CHECK(run("{{.State.Pid}} {{.State.Running}}", kContainer) == "4242 true");
  CHECK(run("id={{.Missing}}", kContainer) == "id=<no value>");
  CHECK(run("{{.Missing.Deeper}}", kContainer) == "<no value>");
  CHECK(run("{{.}}", Json("plain")) == "plain");
}

TEST_CASE("template prints values as Go's fmt does", "[unit]") {
  CHECK(run("{{.Config.Env}}", kContainer) == "[PATH=/usr/bin NGINX_VERSION=1.25.3]");
  CHECK(run("{{.Config.ExposedPorts}}", kContainer) == "map[80/tcp:{}]");
  CHECK(run("{{.Config.Labels}}", kContainer) == "map[com.example.team:web maintainer:NGINX]");
  CHECK(run("{{.A}} {{.B}} {{.C}} {{.D}}",
            Json{{"A", 1.0}, {"B", 2.5}, {"C", Json::array()}, {"D", Json::object()}}) ==
        "1 2.5 [] map[]");
  CHECK(run("{{.L}}", Json{{"L", Json::array({nullptr, 3})}}) == "[<nil> 3]");
}

TEST_CASE("template json function prints compact JSON", "[unit]") {
  CHECK(run("{{json .Config.Labels}}", kContainer) ==
        R"({"com.example.team":"web","maintainer":"NGINX"})");
  CHECK(run("{{json .Mounts}}", kContainer) == "[]");
  CHECK(run("{{json .Name}}", kContainer) == R"("/web")");
  CHECK(run("{{json .}}", Json{{"b", "<&>"}, {"a", 1}}) == R"({"a":1,"b":"<&>"})");
}

TEST_CASE("template range over maps and slices", "[unit]") {
  CHECK(run("{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", kContainer) ==
        "172.17.0.2");
  CHECK(run("{{range $p, $conf := .NetworkSettings.Ports}} {{$p}} -> {{(index $conf "
            "0).HostPort}} {{end}}",
            kContainer) == " 80/tcp -> 8080 ");
  CHECK(run("{{range $i, $e := .Args}}{{$i}}={{$e}};{{end}}", kContainer) == "0=-g;1=daemon off;;");
  CHECK(run("{{range .Mounts}}x{{else}}none{{end}}", kContainer) == "none");
  CHECK(run("{{range .Config.Env}}{{println .}}{{end}}", kContainer) ==
        "PATH=/usr/bin\nNGINX_VERSION=1.25.3\n");
  CHECK(run("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}} {{end}}", kContainer) ==
        "com.example.team=web maintainer=NGINX ");
  CHECK(run("{{range .Args}}{{$.Name}}{{end}}", kContainer) == "/web/web");
}

TEST_CASE("template if, else if, else and with", "[unit]") {
  CHECK(run("{{if .State.Running}}up{{else}}down{{end}}", kContainer) == "up");
  CHECK(run("{{if eq .State.Status \"exited\"}}x{{else if eq .State.Status \"running\"}}r"
            "{{else}}?{{end}}",
            kContainer) == "r");
  CHECK(run("{{if not .Mounts}}no mounts{{end}}", kContainer) == "no mounts");
  CHECK(run("{{if and .State.Running (gt .State.Pid 1)}}ok{{end}}", kContainer) == "ok");
  CHECK(run("{{with .Config}}{{.Image}}{{end}}", kContainer) == "nginx:1.25");
  CHECK(run("{{with .Nope}}x{{else}}y{{end}}", kContainer) == "y");
  CHECK(run("{{if or .Missing \"\"}}a{{else}}b{{end}}", kContainer) == "b");
}

TEST_CASE("template Docker string functions", "[unit]") {
  CHECK(run("{{join .Args \" , \"}}", kContainer) == "-g , daemon off;");
  CHECK(run("{{lower .State.Status}} {{upper .State.Status}}", kContainer) == "running RUNNING");
  CHECK(run("{{title \"hello wide world\"}}", kContainer) == "Hello Wide World");
  CHECK(run("{{split .Config.Image \":\"}}", kContainer) == "[nginx 1.25]");
  CHECK(run("{{index (split .Config.Image \":\") 1}}", kContainer) == "1.25");
  CHECK(run("[{{pad .State.Status 1 2}}]", kContainer) == "[ running  ]");
  CHECK(run("{{truncate .LogPath 8}}", kContainer) == "/var/lib");
  CHECK(run("{{.State.Status | upper}}", kContainer) == "RUNNING");
  CHECK(run("{{.Config.Image | printf \"%s!\" | upper}}", kContainer) == "NGINX:1.25!");
}

TEST_CASE("template builtins index len print printf println", "[unit]") {
  CHECK(run("{{index .Config.Labels \"maintainer\"}}", kContainer) == "NGINX");
  CHECK(run("{{index .Args 1}}", kContainer) == "daemon off;");
  CHECK(run("{{index .Config.Labels \"nope\"}}", kContainer) == "<no value>");
  CHECK(run("{{len .Args}} {{len .Config.Labels}} {{len .Name}}", kContainer) == "2 2 4");
  CHECK(run("{{printf \"%s has pid %d\" .Name .State.Pid}}", kContainer) == "/web has pid 4242");
  CHECK(run("{{printf \"%-6s|%5d|%q|%v|%x\" \"ab\" 42 \"q\" .Args 255}}", kContainer) ==
        "ab    |   42|\"q\"|[-g daemon off;]|ff");
  CHECK(run("{{printf \"%d\" \"x\"}}", kContainer) == "%!d(string=x)");
  CHECK(run("{{print 1 2 \"a\" \"b\"}}", kContainer) == "1 2ab");
  CHECK(run("{{println .Name .State.Pid}}", kContainer) == "/web 4242\n");
  CHECK(run("{{$n := .Name}}{{$n}}{{$n = \"x\"}}{{$n}}", kContainer) == "/webx");
  CHECK(run("{{/* a comment */}}ok", kContainer) == "ok");
  CHECK(run("{{`raw \\n`}}", kContainer) == "raw \\n");
}

TEST_CASE("template trim markers remove surrounding whitespace", "[unit]") {
  CHECK(run("a  {{- .State.Status -}}  \n b", kContainer) == "arunningb");
  CHECK(run("{{range .Args -}}\n  [{{.}}]\n{{- end}}", kContainer) == "[-g][daemon off;]");
  CHECK(run("{{-3}}", kContainer) == "-3");
}

TEST_CASE("template parse errors are Go's", "[unit]") {
  CHECK(parse_error("{{.ID}") == "template: :1: unexpected \"}\" in operand");
  CHECK(parse_error("{{.ID") == "template: :1: unclosed action");
  CHECK(parse_error("{{nope .ID}}") == "template: :1: function \"nope\" not defined");
  CHECK(parse_error("{{if .A}}x") == "template: :1: unexpected EOF");
  CHECK(parse_error("a\n{{end}}") == "template: :2: unexpected {{end}}");
  CHECK(parse_error("{{if}}{{end}}") == "template: :1: missing value for if");
  CHECK(parse_error("{{$x}}") == "template: :1: undefined variable \"$x\"");
  CHECK(parse_error("{{\"abc}}") == "template: :1: unterminated quoted string");
  CHECK(parse_error("{{template \"x\"}}") ==
        "template: :1: {{template}} is not supported in --format templates");
}

TEST_CASE("template execution errors name the position and operand", "[unit]") {
  CHECK(exec_error("{{.Name.First}}", kContainer) ==
        "template: :1:2: executing \"\" at <.Name.First>: can't evaluate field First in type "
        "string");
  CHECK(exec_error("ab\n {{index .Args 5}}", kContainer) ==
        "template: :2:3: executing \"\" at <index>: error calling index: index out of range: 5");
  CHECK(exec_error("{{lower .Args}}", kContainer) ==
        "template: :1:2: executing \"\" at <lower>: error calling lower: wrong type for value; "
        "expected string; got []interface {}");
}

TEST_CASE("template header functions return the column title", "[unit]") {
  auto t = Template::parse("{{.Names | lower}}\t{{json .Labels}}");
  REQUIRE(t);
  auto out = t->execute(Json{{"Names", "NAMES"}, {"Labels", "LABELS"}}, Functions::kHeader);
  REQUIRE(out);
  CHECK(*out == "NAMES\tLABELS");
}

}  // namespace
}  // namespace imgbuild::format
