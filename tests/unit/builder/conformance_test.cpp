// BuildKit's own test vectors (testdata/conformance/buildkit, see its NOTICE.md): AST dumps,
// rejected files, line numbers, and the shell lexer's envVarTest / wordsTest tables.
#include <dirent.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "builder/dockerfile/parser.h"
#include "builder/dockerfile/shell_lexer.h"
#include "builder/dockerfile/text_util.h"

namespace df = imgbuild::builder::dockerfile;

namespace {

std::string conformance_dir() {
#ifdef IMGBUILD_CONFORMANCE_DIR
  return std::string(IMGBUILD_CONFORMANCE_DIR) + "/buildkit";
#else
  return "";
#endif
}

// The vectors are part of the repository: their absence is a failure, never a skip.
bool available() {
  std::string dir = conformance_dir();
  if (!dir.empty() && std::ifstream(dir + "/NOTICE.md").good()) return true;
  FAIL("BuildKit conformance vectors not found at '" << dir << "' (IMGBUILD_CONFORMANCE_DIR)");
  return false;
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> subdirs(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") out.push_back(name);
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// BuildKit's Node.Dump(): "(name [flags] "arg" ...)" per instruction, Go %q quoting; an ONBUILD
// trigger is dumped nested.
std::string dump(const df::Node& node) {
  std::string s = df::text::to_lower(node.value);
  if (!node.flags.empty()) {
    s += " [";
    for (size_t i = 0; i < node.flags.size(); ++i) {
      if (i) s += " ";
      s += df::text::go_quote(node.flags[i]);
    }
    s += "]";
  }
  for (const df::Node& sub : node.sub) s += " (" + dump(sub) + ")";
  for (const std::string& arg : node.args) s += " " + df::text::go_quote(arg);
  return s;
}

std::string dump(const df::ParsedDockerfile& parsed) {
  std::string out;
  for (const df::Node& node : parsed.nodes) out += "(" + dump(node) + ")\n";
  return out;
}

std::string trim(const std::string& s) { return std::string(df::text::trim_space(s)); }

}  // namespace

TEST_CASE("conformance: every parser testfile dumps exactly like BuildKit's result") {
  if (!available()) return;
  std::string root = conformance_dir() + "/parser/testfiles";
  std::vector<std::string> cases = subdirs(root);
  REQUIRE(cases.size() >= 30);
  for (const std::string& name : cases) {
    INFO("case " << name);
    std::string text = read(root + "/" + name + "/Dockerfile");
    auto parsed = df::parse_dockerfile(text, "Dockerfile");
    if (!parsed) FAIL(parsed.error().message());
    CHECK(dump(*parsed) == read(root + "/" + name + "/result"));
  }
}

TEST_CASE("conformance: every negative testfile is rejected") {
  if (!available()) return;
  std::string root = conformance_dir() + "/parser/testfiles-negative";
  std::vector<std::string> cases = subdirs(root);
  REQUIRE(cases.size() >= 4);
  for (const std::string& name : cases) {
    INFO("case " << name);
    std::string text = read(root + "/" + name + "/Dockerfile");
    auto parsed = df::parse_dockerfile(text, "Dockerfile");
    CHECK_FALSE(parsed.has_value());
  }
}

TEST_CASE("conformance: testfile-line start and end lines match BuildKit") {
  if (!available()) return;
  std::string text = read(conformance_dir() + "/parser/testfile-line/Dockerfile");
  auto parsed = df::parse_dockerfile(text, "Dockerfile");
  REQUIRE(parsed);
  REQUIRE(parsed->nodes.size() == 3);
  const int expected[3][2] = {{5, 5}, {11, 12}, {17, 31}};
  for (size_t i = 0; i < 3; ++i) {
    CHECK(parsed->nodes[i].start_line == expected[i][0]);
    CHECK(parsed->nodes[i].end_line == expected[i][1]);
  }
}

TEST_CASE("conformance: every A and U line of shell/envVarTest") {
  if (!available()) return;
  std::istringstream in(read(conformance_dir() + "/shell/envVarTest"));
  auto env =
      df::env_lookup({{"PWD", "/home"}, {"SHELL", "bash"}, {"KOREAN", "한국어"}, {"NULL", ""}});
  std::string line;
  int checked = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t first = line.find('|');
    size_t last = line.rfind('|');
    REQUIRE(first != std::string::npos);
    REQUIRE(last != first);
    std::string platform = trim(line.substr(0, first));
    if (platform != "A" && platform != "U") continue;
    std::string source = trim(line.substr(first + 1, last - first - 1));
    std::string expected = trim(line.substr(last + 1));
    INFO("input " << source);
    auto result = df::expand_word(source, env);
    std::string got = result ? *result : "error";
    CHECK(got == expected);
    ++checked;
  }
  CHECK(checked > 200);
}

TEST_CASE("conformance: every shell/wordsTest case") {
  if (!available()) return;
  std::istringstream in(read(conformance_dir() + "/shell/wordsTest"));
  std::vector<std::pair<std::string, std::string>> vars;
  std::string line;
  int checked = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("ENV ", 0) == 0) {
      std::string kv = line.substr(3);
      kv.erase(0, kv.find_first_not_of(' '));
      size_t eq = kv.find('=');
      vars.emplace_back(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
      continue;
    }
    size_t bar = line.find('|');
    REQUIRE(bar != std::string::npos);
    std::string source = trim(line.substr(0, bar));
    std::string rest = line.substr(bar + 1);
    rest.erase(0, rest.find_first_not_of(' '));
    std::vector<std::string> expected;
    size_t start = 0;
    for (;;) {
      size_t comma = rest.find(',', start);
      expected.push_back(rest.substr(start, comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    INFO("input " << source);
    auto result = df::expand_words(source, df::env_lookup(vars));
    std::vector<std::string> got = result ? *result : std::vector<std::string>{"error"};
    CHECK(got == expected);
    ++checked;
  }
  CHECK(checked >= 20);
}
