#include "cli/completion.h"

#include <numeric>

namespace imgbuild::cli {
namespace {

const char* kind_word(ArgKind kind) {
  switch (kind) {
    case ArgKind::kNone: return "none";
    case ArgKind::kFile: return "file";
    case ArgKind::kDirectory: return "dir";
    case ArgKind::kImage: return "image";
    case ArgKind::kContainer: return "container";
    case ArgKind::kImageOrContainer: return "any";
  }
  return "none";
}

// The completion kind word of a value: its choices ("w:a,b") when listed, else its kind.
std::string value_word(ArgKind kind, const std::vector<std::string>& choices) {
  if (choices.empty()) return kind_word(kind);
  std::string out = "w:";
  for (size_t i = 0; i < choices.size(); ++i) out += (i ? "," : "") + choices[i];
  return out;
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// Single-quoted for the shell (command and option names are plain words, but be safe).
std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// One `case` arm per command path, matching every spelling (aliases) of each level.
void emit_spec(const CommandSpec& spec, const std::vector<std::string>& labels, std::string& specs,
               std::string& kinds) {
  std::vector<std::string> valued;
  for (const auto& opt : spec.options) {
    if (opt.value_name.empty()) continue;
    valued.insert(valued.end(), opt.names.begin(), opt.names.end());
    if (opt.kind == ArgKind::kNone && opt.choices.empty()) continue;
    for (const auto& label : labels) {
      for (const auto& name : opt.names) {
        kinds += "    " + quote(label.empty() ? name : label + " " + name) + ") echo " +
                 quote(value_word(opt.kind, opt.choices)) + " ;;\n";
      }
    }
  }
  std::vector<std::string> positions;
  if (spec.takes_command) {
    positions.push_back(std::string(kind_word(spec.command_target)) + "!");
  } else {
    for (const auto& p : spec.positionals) {
      positions.push_back(value_word(p.kind, p.choices) + (p.repeated ? "+" : ""));
    }
  }
  std::string pattern;
  for (const auto& label : labels) pattern += (pattern.empty() ? "" : "|") + quote(label);
  specs += "    " + pattern + ")\n";
  specs += "      subs=" + quote(join(visible_command_names(spec))) + "\n";
  specs += "      flags=" + quote(join(visible_option_names(spec))) + "\n";
  specs += "      valued=" + quote(" " + join(valued) + " ") + "\n";
  specs += "      positions=" + quote(join(positions)) + " ;;\n";
  for (const auto& sub : spec.subcommands) {
    if (sub.hidden) continue;
    std::vector<std::string> sub_labels;
    for (const auto& label : labels) {
      std::vector<std::string> spellings = {sub.name};
      spellings.insert(spellings.end(), sub.aliases.begin(), sub.aliases.end());
      for (const auto& s : spellings) sub_labels.push_back(label.empty() ? s : label + " " + s);
    }
    emit_spec(sub, sub_labels, specs, kinds);
  }
}

constexpr const char* kBashBody = R"BASH(
# Container or image names from the store named by the --root on the line, if any.
__imgbuild_names() {
  local root=() i
  for ((i = 1; i < ${#COMP_WORDS[@]}; i++)); do
    case "${COMP_WORDS[i]}" in
      --root) root=(--root "${COMP_WORDS[i + 1]}") ;;
      --root=*) root=("${COMP_WORDS[i]}") ;;
    esac
  done
  case "$1" in
    container) "${COMP_WORDS[0]}" "${root[@]}" ps -a --format '{{.Names}}' 2>/dev/null ;;
    image) "${COMP_WORDS[0]}" "${root[@]}" images --format '{{.Repository}}:{{.Tag}}' \
      2>/dev/null | grep -v '<none>' ;;
  esac
}

# Sets COMPREPLY to the completions of the word $2 of kind $1 (w:A,B: one of the words A, B).
__imgbuild_complete_kind() {
  local IFS=$'\n'
  case "$1" in
    file) COMPREPLY=($(compgen -f -- "$2")); compopt -o filenames 2>/dev/null ;;
    dir) COMPREPLY=($(compgen -d -- "$2")); compopt -o filenames 2>/dev/null ;;
    image|container) COMPREPLY=($(compgen -W "$(__imgbuild_names "$1")" -- "$2")) ;;
    any) COMPREPLY=($(compgen -W "$(__imgbuild_names image; __imgbuild_names container)" -- "$2")) ;;
    w:*) local choices="${1#w:}"; COMPREPLY=($(compgen -W "${choices//,/$'\n'}" -- "$2")) ;;
    *) COMPREPLY=() ;;
  esac
}

@ENTRY@() {
  local subs flags valued positions path="" i w glue=0 npos=0
  # bash splits words at ':' and '=' (COMP_WORDBREAKS): glue them back, so that
  # busybox:latest and --root=/x are one word each.
  local start=$COMP_CWORD
  while ((start > 1)) && [[ ${COMP_WORDS[start]} == [:=] || ${COMP_WORDS[start - 1]} == [:=] ]]; do
    ((start--))
  done
  local cur="" args=()
  for ((i = start; i <= COMP_CWORD; i++)); do cur+="${COMP_WORDS[i]}"; done
  for ((i = 1; i < start; i++)); do
    w="${COMP_WORDS[i]}"
    if [[ $w == [:=] && ${#args[@]} -gt 0 ]]; then
      args[${#args[@]} - 1]+="$w"; glue=1
    elif ((glue)); then
      args[${#args[@]} - 1]+="$w"; glue=0
    else
      args+=("$w")
    fi
  done

  __imgbuild_spec ""
  local prev="" kind
  for ((i = 0; i < ${#args[@]}; i++)); do
    w="${args[i]}"
    if [[ $w == -?* ]] && { ((npos == 0)) || [[ $positions != *'!'* ]]; }; then
      if [[ $w != *=* && $valued == *" $w "* ]]; then
        ((i++))
        ((i == ${#args[@]})) && prev="$w"
      fi
      continue
    fi
    if ((npos == 0)) && [[ " $subs " == *" $w "* ]]; then
      path="${path:+$path }$w"
      __imgbuild_spec "$path"
      continue
    fi
    ((npos++))
  done

  local reply_prefix=""
  if [[ -n $prev ]]; then
    kind=$(__imgbuild_kind "$path" "$prev")
  elif [[ $cur == -*=* ]]; then
    kind=$(__imgbuild_kind "$path" "${cur%%=*}")
    reply_prefix="${cur%%=*}="
    cur="${cur#*=}"
  elif [[ $cur == -* ]] && { ((npos == 0)) || [[ $positions != *'!'* ]]; }; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    return 0
  elif ((npos == 0)) && [[ -n $subs ]]; then
    COMPREPLY=($(compgen -W "$subs" -- "$cur"))
    return 0
  else
    local kinds=($positions)
    if ((npos < ${#kinds[@]})); then
      kind="${kinds[npos]}"
    elif [[ ${kinds[${#kinds[@]} - 1]} == *+ ]]; then
      kind="${kinds[${#kinds[@]} - 1]}"
    else
      kind=none
    fi
    [[ $kind == *'!' && $npos -gt 0 ]] && kind=none
    kind="${kind%[+!]}"
  fi
  __imgbuild_complete_kind "$kind" "$cur"
  # bash replaces only the text after the last ':' or '=' of the word.
  local whole="$reply_prefix$cur"
  local strip="${whole%"${whole##*[:=]}"}"
  for ((i = 0; i < ${#COMPREPLY[@]}; i++)); do
    COMPREPLY[i]="$reply_prefix${COMPREPLY[i]}"
    COMPREPLY[i]="${COMPREPLY[i]#"$strip"}"
  done
  return 0
}
)BASH";

// The bash script with its entry point named `entry`.
std::string bash_script(const CommandSpec& app, const std::string& entry) {
  std::string specs;
  std::string kinds;
  emit_spec(app, {""}, specs, kinds);
  std::string out = "# bash completion for " + app.name + ", generated by `" + app.name +
                    " completion bash`.\n# Load it with: source <(" + app.name +
                    " completion bash)\n\n";
  out +=
      "# Sets subs, flags, valued (flags taking a value) and positions (the kinds of the\n"
      "# positional arguments; + repeats, ! ends the options) for the command path $1.\n";
  out += "__imgbuild_spec() {\n  case \"$1\" in\n" + specs +
         "    *) subs='' flags='' valued=' ' positions='' ;;\n  esac\n}\n\n";
  out += "# The kind of the value of flag $2 of the command path $1.\n";
  out += "__imgbuild_kind() {\n  case \"${1:+$1 }$2\" in\n" + kinds +
         "    *) echo none ;;\n  esac\n}\n";
  std::string body = kBashBody;
  body.replace(body.find("@ENTRY@"), 7, entry);
  out += body;
  out += "\ncomplete -F " + entry + " " + app.name + "\n";
  return out;
}

}  // namespace

std::string bash_completion(const CommandSpec& app) { return bash_script(app, "_imgbuild"); }

std::string zsh_completion(const CommandSpec& app) {
  std::string out = "#compdef " + app.name + "\n# zsh completion for " + app.name +
                    ", generated by `" + app.name +
                    " completion zsh`: the bash completion through bashcompinit.\n# Load it "
                    "with: source <(" +
                    app.name + " completion zsh)\n";
  out += "autoload -U +X bashcompinit && bashcompinit\n";
  out += bash_script(app, "__imgbuild_bash");
  // Autoloaded from fpath (vendor-completions/_imgbuild), this file is the body of _imgbuild:
  // `complete` above took over for later calls; answer this one too.
  out += "[[ ${funcstack[1]-} == _imgbuild ]] && _bash_complete -F __imgbuild_bash\n";
  return out;
}

}  // namespace imgbuild::cli
