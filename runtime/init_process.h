// `run --init`: the container's pid 1 as a minimal init, with the semantics of Docker's
// docker-init (tini): it reaps every zombie reparented to it, forwards the signals it receives to
// its one child (the command), and exits with the command's exit status (128+N when signal N
// killed it) as soon as the command exits, which ends the pid namespace.
//
// Design: the container's first process, once the root, stdio, rlimits and credentials are set,
// forks once more. The child goes on to exec the command (seccomp is installed there, right before
// execve, as without --init); the parent never execs and stays pid 1. So no init binary has to be
// shipped, found or bind-mounted into the container, and the init shares every restriction of the
// command (user, capabilities, no_new_privs). Because pid 1 is then a copy of imgbuild, it makes
// itself non-dumpable (its memory, environ and /proc/1/exe are out of reach of the container's
// processes unless they hold CAP_SYS_PTRACE) and rewrites its command line to
// "init -- COMMAND..." so `ps` in the container shows no host path.
//
// Code between clone and exec: only syscalls, no allocation (see child.h).
#pragma once

#include <string>
#include <vector>

#include "runtime/child.h"

namespace imgbuild::runtime {

// In the parent, before clone: sets plan.init and, when this process's argv area can be found
// (/proc/self/cmdline matches the bytes at argv[0]), the title fields, whose text is kept in
// title (which must outlive the clone).
void prepare_init(ChildPlan& plan, const std::vector<std::string>& args, std::string& title);

// "init\0--\0ARG0\0ARG1..." cut or NUL-padded to exactly size bytes, the last one a NUL.
std::string init_command_line(const std::vector<std::string>& args, size_t size);

}  // namespace imgbuild::runtime

namespace imgbuild::runtime::child {

// Called with every signal blocked. Returns only in the forked child (its own process group, the
// terminal's foreground group with a tty), which then execs the command; the calling process
// becomes the init and leaves with _exit.
void become_init(const ChildPlan& plan);

}  // namespace imgbuild::runtime::child
