// libfuse 3.14 reports /dev/fuse read and write errors with perror(3), and fuse_session_loop_mt
// ends by cancelling its worker threads (pthread_cancel), which may be inside that perror: a read
// fails with ECONNABORTED right when Mount aborts a busy connection (fs/mount.cpp), so the workers
// print while the loop thread cancels them. A worker cancelled inside perror leaves stdio's
// stderr lock held by a thread that no longer exists, and the next fprintf(stderr) or the
// flush at exit() in any thread of the process waits forever (seen as builds hanging at exit).
//
// This definition takes the place of libc's for the whole process (the executable's symbol wins
// over libc's for libfuse's calls): the same text, written with one write(2), no lock, no
// allocation. The connection abort imgfs performs itself is not reported.
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <cstdio>

namespace imgbuild::fs {

// Referenced from fs/mount.cpp so that the linker keeps this file (and the definition below).
bool quiet_perror_linked() { return true; }

}  // namespace imgbuild::fs

extern "C" void perror(const char* s) {
  int err = errno;
  if (err == ECONNABORTED) return;  // imgfs aborted the connection itself
  char msg[512];
  const char* text = strerror_r(err, msg, sizeof msg);  // GNU: returns the text
  char line[768];
  int n = (s != nullptr && *s != '\0') ? std::snprintf(line, sizeof line, "%s: %s\n", s, text)
                                       : std::snprintf(line, sizeof line, "%s\n", text);
  if (n > 0)
    (void)!::write(STDERR_FILENO, line, static_cast<size_t>(n) < sizeof line ? n : sizeof line - 1);
  errno = err;
}
