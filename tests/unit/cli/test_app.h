// A small command line shaped like imgbuild's, for the generators' tests: global options, a
// build command with a file flag and a context, a prefix command, repeated container arguments
// with an alias, a nested subcommand and a hidden command.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace imgbuild::cli {

struct TestApp {
  CLI::App app{"imgbuild: build and run images", "imgbuild"};
  std::string s;
  std::vector<std::string> v;
  bool b = false;

  TestApp() {
    app.add_option("--root", s, "Store directory");
    app.add_flag("-D,--debug", b, "Debug logging");
    CLI::App* build = app.add_subcommand("build", "Build an image");
    build->add_option("-f,--file", s, "Dockerfile");
    build->add_option("-t,--tag", v, "Name");
    build->add_flag("-q,--quiet", b, "Quiet");
    build->add_option("context", s, "Context directory");
    CLI::App* run = app.add_subcommand("run", "Run a command in a new container");
    run->add_option("--name", s, "Container name");
    run->add_flag("-d,--detach", b, "Detach");
    run->prefix_command();
    CLI::App* rm = app.add_subcommand("rm", "Remove containers");
    rm->add_flag("-f,--force", b, "Force");
    rm->add_option("containers", v, "Containers")->required();
    rm->alias("remove");
    CLI::App* container = app.add_subcommand("container", "Manage containers");
    container->add_subcommand("prune", "Remove all stopped containers")
        ->add_flag("-f,--force", b, "Do not prompt");
    app.add_subcommand("__man", "hidden")->group("");
    app.add_subcommand("completion", "Print the completion script")
        ->add_option("SHELL", s, "Shell")
        ->check(CLI::IsMember({"bash", "zsh"}));
  }
};

}  // namespace imgbuild::cli
