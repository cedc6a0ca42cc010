#include "cli/man_page.h"

#include <algorithm>
#include <cctype>

namespace imgbuild::cli {
namespace {

// Option and command names: '-' is a minus sign in roff (\-), so it copies and searches as '-'.
std::string roff_name(const std::string& name) {
  std::string out;
  for (char c : roff_escape(name)) out += c == '-' ? std::string("\\-") : std::string(1, c);
  return out;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

std::string title_header(const std::string& page, const std::string& source) {
  return ".TH \"" + roff_name(upper(page)) + "\" \"1\" \"\" \"" + roff_escape(source) +
         "\" \"imgbuild manual\"\n";
}

// "Build an image" stays as written; a description ends with a full stop in the page.
std::string sentence(const std::string& text) {
  if (text.empty()) return text;
  std::string out = roff_escape(text);
  if (out.back() != '.') out += '.';
  return out;
}

std::string option_item(const OptionSpec& opt) {
  std::string line = ".TP\n";
  for (size_t i = 0; i < opt.names.size(); ++i) {
    line += (i ? ", " : "") + std::string("\\fB") + roff_name(opt.names[i]) + "\\fR";
  }
  if (!opt.value_name.empty()) line += " \\fI" + roff_escape(opt.value_name) + "\\fR";
  line += "\n" + (opt.description.empty() ? std::string("\\&") : sentence(opt.description)) + "\n";
  return line;
}

std::string positional_word(const PositionalSpec& p) {
  std::string word = "\\fI" + roff_name(upper(p.name)) + "\\fR";
  if (p.repeated) word += "...";
  return p.required ? word : "[" + word + "]";
}

std::string target_word(ArgKind kind) {
  switch (kind) {
    case ArgKind::kImage: return "IMAGE";
    case ArgKind::kContainer: return "CONTAINER";
    default: return "ARG";
  }
}

std::string options_section(const CommandSpec& spec) {
  std::string out;
  for (const auto& opt : spec.options) {
    if (!opt.hidden) out += option_item(opt);
  }
  return out.empty() ? out : ".SH OPTIONS\n" + out;
}

std::string synopsis(const std::string& words, const CommandSpec& spec) {
  std::string out = ".SH SYNOPSIS\n.B " + words + "\n";
  std::vector<std::string> parts;
  if (std::any_of(spec.options.begin(), spec.options.end(),
                  [](const OptionSpec& o) { return !o.hidden; })) {
    parts.push_back("[\\fIOPTIONS\\fR]");
  }
  if (!visible_command_names(spec).empty()) parts.push_back("\\fICOMMAND\\fR");
  for (const auto& p : spec.positionals) parts.push_back(positional_word(p));
  if (spec.takes_command) {
    parts.push_back("\\fI" + target_word(spec.command_target) +
                    "\\fR [\\fICOMMAND\\fR [\\fIARG\\fR...]]");
  }
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? " " : "") + parts[i];
  if (!parts.empty()) out += "\n";
  return out;
}

std::string command_list(const CommandSpec& spec, const std::string& prefix, bool link) {
  std::string out;
  for (const auto& sub : spec.subcommands) {
    if (sub.hidden) continue;
    out += ".TP\n";
    out += link ? ".BR " + roff_name(prefix + "-" + sub.name) + " (1)\n"
                : ".B " + roff_name(prefix + " " + sub.name) + "\n";
    std::string text = sentence(sub.description);
    if (!sub.aliases.empty()) {
      std::string names;
      for (const auto& a : sub.aliases) names += (names.empty() ? "" : ", ") + roff_name(a);
      text += (text.empty() ? "" : " ") + std::string("Alias: ") + names + ".";
    }
    out += (text.empty() ? "\\&" : text) + "\n";
  }
  return out;
}

ManPage command_page(const CommandSpec& app, const CommandSpec& cmd, const std::string& source) {
  std::string page = app.name + "-" + cmd.name;
  std::string text = title_header(page, source);
  text += ".SH NAME\n" + roff_name(page) + " \\- " + roff_escape(cmd.description) + "\n";
  text += synopsis(roff_name(app.name + " " + cmd.name), cmd);
  text += ".SH DESCRIPTION\n" + sentence(cmd.description) + "\n";
  if (!cmd.aliases.empty()) {
    std::string names;
    for (const auto& a : cmd.aliases) names += (names.empty() ? "" : ", ") + roff_name(a);
    text += ".PP\nAlso available as: " + names + ".\n";
  }
  std::string commands = command_list(cmd, app.name + " " + cmd.name, false);
  if (!commands.empty()) text += ".SH COMMANDS\n" + commands;
  text += options_section(cmd);
  for (const auto& sub : cmd.subcommands) {
    if (sub.hidden || std::none_of(sub.options.begin(), sub.options.end(),
                                   [](const OptionSpec& o) { return !o.hidden; })) {
      continue;
    }
    text += ".SS \"" + roff_name(app.name + " " + cmd.name + " " + sub.name) + " options\"\n";
    for (const auto& opt : sub.options) {
      if (!opt.hidden) text += option_item(opt);
    }
  }
  text += ".SH SEE ALSO\n.BR " + roff_name(app.name) + " (1)\n";
  return {page + ".1", text};
}

}  // namespace

std::string roff_escape(const std::string& text) {
  std::string out;
  bool line_start = true;
  for (char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    if (c == '\\') {
      out += "\\e";
    } else {
      out += c;
    }
    line_start = c == '\n';
  }
  return out;
}

std::vector<ManPage> man_pages(const CommandSpec& app, const std::string& source) {
  std::vector<ManPage> pages;
  std::string text = title_header(app.name, source);
  // CLI11's app description reads "imgbuild: what it does"; NAME wants just what it does.
  std::string summary = app.description;
  if (summary.starts_with(app.name + ": ")) summary.erase(0, app.name.size() + 2);
  text += ".SH NAME\n" + roff_name(app.name) + " \\- " + roff_escape(summary) + "\n";
  text += synopsis(roff_name(app.name), app);
  text += ".SH DESCRIPTION\n\\fB" + roff_name(app.name) + "\\fR: " + sentence(summary) + "\n";
  text +=
      ".PP\nWith no command, or when the first argument is a directory, a flag or \\fB\\-\\fR, " +
      roff_name(app.name) + " runs \\fBbuild\\fR.\n";
  text += ".SH COMMANDS\n" + command_list(app, app.name, true);
  text += options_section(app);
  text +=
      ".SH ENVIRONMENT\n.TP\n.B IMGBUILD_ROOT\nThe store directory, when \\fB\\-\\-root\\fR is "
      "not given.\n";
  pages.push_back({app.name + ".1", text});
  for (const auto& cmd : app.subcommands) {
    if (!cmd.hidden) pages.push_back(command_page(app, cmd, source));
  }
  return pages;
}

}  // namespace imgbuild::cli
