// Typed Dockerfile instructions, built from syntax-tree nodes with BuildKit's rules
// (frontend/dockerfile/instructions/parse.go): argument counts, flags per instruction, heredoc
// sources, HEALTHCHECK options, ARG/ENV/LABEL key-value forms, stage grouping.
//
// Nothing is expanded here: values are as written (quotes still in ENV/LABEL/ARG values, `$X`
// untouched). Expansion happens at dispatch time, per stage, in stage_scope.h, because it
// depends on the ENV and ARG instructions that come before and on the base image's environment.
//
// Errors are kParse and name file and line, e.g.
//   "Dockerfile:7: unknown instruction: COPPY (did you mean copy?)"
//   "Dockerfile:3: ENV names can not be blank"
//   "Dockerfile:2: unknown flag: fro (did you mean from?)"
//   "Dockerfile:4: COPY requires at least two arguments, but only one was provided. Destination
//   could not be determined."
// Plain copyable values; thread-safe functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/error.h"
#include "builder/dockerfile/ast.h"

namespace imgbuild::builder::dockerfile {

struct KeyValue {
  std::string key;
  std::string value;
  bool no_delim = false;  // legacy `ENV key value` form
};

struct ArgDecl {
  std::string key;
  std::optional<std::string> value;  // default, when given (`ARG k=v`)
};

// A file given inline as a heredoc (COPY/ADD sources, RUN/CMD/ENTRYPOINT scripts).
struct InlineFile {
  std::string name;     // heredoc delimiter, used as the file name for COPY/ADD
  std::string data;     // content; for COPY/ADD already chomped when `<<-` was used
  bool expand = false;  // COPY/ADD: expand variables in data at dispatch (unquoted delimiter)
  bool chomp = false;   // RUN/CMD: strip leading tabs when writing the script
};

// A shell-form command keeps its single text for the shell; exec form keeps the JSON items.
struct CommandLine {
  std::vector<std::string> args;
  bool prepend_shell = false;  // shell form: run as SHELL + [text]
  std::vector<InlineFile> files;
};

struct FromInstr {
  std::string base_name;   // image reference, stage name or "scratch", unexpanded
  std::string stage_name;  // lower-cased `AS name`, empty when none
  std::string platform;    // --platform, unexpanded
};
struct RunInstr {
  CommandLine command;
  std::vector<std::string> mounts;   // each --mount value, e.g. "type=cache,target=/root/.cache"
  std::string network;               // --network (default|none|host), empty when not given
  std::string security;              // --security (sandbox|insecure), empty when not given
  std::vector<std::string> devices;  // --device values
};
struct CmdInstr {
  CommandLine command;
};
struct EntrypointInstr {
  CommandLine command;
};
struct ShellInstr {
  std::vector<std::string> shell;
};
struct EnvInstr {
  std::vector<KeyValue> env;
};
struct LabelInstr {
  std::vector<KeyValue> labels;
};
struct MaintainerInstr {
  std::string maintainer;
};
struct ExposeInstr {
  std::vector<std::string> ports;  // as written (sorted, as BuildKit does); split after expansion
  // The config entries ("80/tcp"), one per port of each range, filled by StageScope::dispatch
  // after expansion and validation (port_spec.h).
  std::vector<std::string> entries = {};
};
struct CopyInstr {  // COPY and ADD
  bool is_add = false;
  std::vector<std::string> sources;        // paths / URLs / git refs
  std::vector<InlineFile> inline_sources;  // heredocs
  std::string dest;
  std::string from;  // COPY --from (stage name, index or image), unexpanded
  std::string chown;
  std::string chmod;
  bool link = false;
  bool parents = false;
  std::vector<std::string> excludes;
  std::string checksum;              // ADD --checksum
  std::optional<bool> keep_git_dir;  // ADD --keep-git-dir
  std::optional<bool> unpack;        // ADD --unpack
};
struct VolumeInstr {
  std::vector<std::string> volumes;
};
struct UserInstr {
  std::string user;
};
struct WorkdirInstr {
  std::string path;
};
struct ArgInstr {
  std::vector<ArgDecl> args;
};
struct OnbuildInstr {
  std::string expression;  // the trigger text stored in the image config (heredocs appended)
};
struct StopsignalInstr {
  std::string signal;
};
struct HealthcheckInstr {
  // {"NONE"}, {"CMD", args...} (exec form) or {"CMD-SHELL", text}.
  std::vector<std::string> test;
  int64_t interval_ns = 0;  // 0: inherit / default
  int64_t timeout_ns = 0;
  int64_t start_period_ns = 0;
  int64_t start_interval_ns = 0;
  int retries = 0;
};

using InstructionData =
    std::variant<FromInstr, RunInstr, CmdInstr, EntrypointInstr, ShellInstr, EnvInstr, LabelInstr,
                 MaintainerInstr, ExposeInstr, CopyInstr, VolumeInstr, UserInstr, WorkdirInstr,
                 ArgInstr, OnbuildInstr, StopsignalInstr, HealthcheckInstr>;

struct Instruction {
  std::string name;      // upper case: "RUN", "COPY", "ADD", ...
  std::string original;  // the logical source line, for history and messages
  int start_line = 0;
  int end_line = 0;
  InstructionData data;

  template <class T>
  const T* get() const {
    return std::get_if<T>(&data);
  }
  template <class T>
  T* get() {
    return std::get_if<T>(&data);
  }
};

// One FROM and the instructions up to the next FROM.
struct Stage {
  size_t index = 0;  // position among the Dockerfile's stages (COPY --from=<index>)
  Instruction from;  // holds a FromInstr
  std::vector<Instruction> instructions;
};

struct Stages {
  std::vector<ArgInstr> meta_args;  // ARGs before the first FROM (global scope)
  std::vector<Instruction> meta_arg_instructions;
  std::vector<Stage> stages;
};

// One node -> one typed instruction. `filename` only labels errors.
Result<Instruction> parse_instruction(const Node& node, std::string_view filename);

// The whole tree -> global ARGs + stages. Fails when an instruction other than ARG comes before
// the first FROM ("Dockerfile:1: no build stage in current context"), or when there is no FROM.
Result<Stages> parse_stages(const ParsedDockerfile& parsed);

// Go's time.ParseDuration, in nanoseconds (HEALTHCHECK flags). Error text is Go's.
Result<int64_t> parse_go_duration(std::string_view text);

// The canonical text of an instruction ("COPY --from=build /out /app"), for listings.
std::string describe(const Instruction& instruction);

}  // namespace imgbuild::builder::dockerfile
