#include "cli/man_page.h"

#include <catch2/catch.hpp>

#include "base/fs.h"
#include "base/subprocess.h"
#include "tests/unit/cli/test_app.h"

namespace imgbuild::cli {
namespace {

std::vector<ManPage> pages() {
  TestApp t;
  return man_pages(describe_app(t.app), "imgbuild 9.9");
}

TEST_CASE("man pages: one per visible command plus imgbuild(1)", "[unit]") {
  std::vector<std::string> names;
  for (const auto& p : pages()) names.push_back(p.file_name);
  CHECK(names == std::vector<std::string>{"imgbuild.1", "imgbuild-build.1", "imgbuild-completion.1",
                                          "imgbuild-container.1", "imgbuild-rm.1",
                                          "imgbuild-run.1"});
}

TEST_CASE("man page of a command: synopsis, aliases, options, see also", "[unit]") {
  CHECK(pages()[4].text ==
        ".TH \"IMGBUILD\\-RM\" \"1\" \"\" \"imgbuild 9.9\" \"imgbuild manual\"\n"
        ".SH NAME\n"
        "imgbuild\\-rm \\- Remove containers\n"
        ".SH SYNOPSIS\n"
        ".B imgbuild rm\n"
        "[\\fIOPTIONS\\fR] \\fICONTAINERS\\fR...\n"
        ".SH DESCRIPTION\n"
        "Remove containers.\n"
        ".PP\n"
        "Also available as: remove.\n"
        ".SH OPTIONS\n"
        ".TP\n"
        "\\fB\\-h\\fR, \\fB\\-\\-help\\fR\n"
        "Print this help message and exit.\n"
        ".TP\n"
        "\\fB\\-f\\fR, \\fB\\-\\-force\\fR\n"
        "Force.\n"
        ".SH SEE ALSO\n"
        ".BR imgbuild (1)\n");
  CHECK(pages()[5].text.find(".B imgbuild run\n[\\fIOPTIONS\\fR] \\fIIMAGE\\fR [\\fICOMMAND\\fR "
                             "[\\fIARG\\fR...]]\n") != std::string::npos);
  CHECK(pages()[3].text.find(".SH COMMANDS\n.TP\n.B imgbuild container prune\nRemove all stopped "
                             "containers.\n") != std::string::npos);
}

TEST_CASE("imgbuild(1) lists the commands and the global options", "[unit]") {
  std::string text = pages()[0].text;  // a copy: pages() is a temporary
  CHECK(text.find(".SH NAME\nimgbuild \\- build and run images\n") != std::string::npos);
  CHECK(text.find(".TP\n.BR imgbuild\\-rm (1)\nRemove containers. Alias: remove.\n") !=
        std::string::npos);
  CHECK(text.find("\\fB\\-\\-root\\fR \\fITEXT\\fR\nStore directory.\n") != std::string::npos);
  CHECK(text.find("__man") == std::string::npos);
  CHECK(pages()[2].text.find(".B imgbuild completion\n[\\fIOPTIONS\\fR] [\\fISHELL\\fR]\n") !=
        std::string::npos);
}

TEST_CASE("roff_escape keeps backslashes and leading dots literal", "[unit]") {
  CHECK(roff_escape("a\\b") == "a\\eb");
  CHECK(roff_escape(".hidden\n'quote") == "\\&.hidden\n\\&'quote");
  CHECK(roff_escape("x.y") == "x.y");
}

TEST_CASE("groff renders every page without a warning", "[unit]") {
  auto dir = fs::TempDir::create();
  REQUIRE(dir);
  for (const auto& page : pages()) {
    std::string path = dir->path() + "/" + page.file_name;
    REQUIRE(fs::write_file_atomic(path, page.text));
    auto r = run_process({"groff", "-man", "-Tutf8", "-ww", "-z", path});
    REQUIRE(r);
    INFO(page.file_name);
    CHECK(r->exit_code == 0);
    CHECK(r->err == "");
  }
}

}  // namespace
}  // namespace imgbuild::cli
