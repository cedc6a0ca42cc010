// imgbuild login [-u USER] [-p PASS | --password-stdin] [REGISTRY]: verifies credentials against
// the registry and stores them in $DOCKER_CONFIG/config.json (or ~/.docker/config.json, mode
// 0600), or in the configured credential helper.
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "base/sys.h"
#include "cli/command.h"
#include "registry-client/client.h"
#include "registry-client/credentials.h"
#include "registry-client/endpoint.h"
#include "registry-client/session.h"

namespace imgbuild::cli {
namespace {

struct LoginArgs {
  std::string registry = "docker.io";
  std::string username;
  std::string password;
  bool password_stdin = false;
  std::vector<std::string> insecure;
};

// Restores the terminal's echo on every path out.
class EchoOff {
 public:
  EchoOff() {
    if (::tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios t = saved_;
      t.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      active_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
    }
  }
  ~EchoOff() {
    if (active_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }

 private:
  termios saved_{};
  bool active_ = false;
};

std::string trim_newlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

Result<int> run_login(LoginArgs args) {
  bool tty = ::isatty(STDIN_FILENO) == 1;
  if (!args.password.empty() && args.password_stdin) {
    return fail(ErrorKind::kInvalidArgument, "--password and --password-stdin are exclusive");
  }
  if (!args.password.empty()) {
    std::fputs("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n",
               stderr);
  }
  if (args.password_stdin) {
    if (args.username.empty()) {
      return fail(ErrorKind::kInvalidArgument, "--password-stdin requires --username");
    }
    args.password = trim_newlines(TRY(sys::read_all(STDIN_FILENO, "stdin")));
  }
  if (args.username.empty()) {
    if (!tty) return fail(ErrorKind::kInvalidArgument, "username required (-u) without a terminal");
    std::fputs("Username: ", stderr);
    std::getline(std::cin, args.username);
  }
  if (args.password.empty()) {
    if (!tty) return fail(ErrorKind::kInvalidArgument, "password required without a terminal");
    std::fputs("Password: ", stderr);
    {
      EchoOff echo_off;
      std::getline(std::cin, args.password);
    }
    std::fputs("\n", stderr);
  }
  if (args.username.empty() || args.password.empty()) {
    return fail(ErrorKind::kInvalidArgument, "username and password must not be empty");
  }
  std::string reg = registry::normalize_registry(args.registry);
  registry::Credential credential{.username = args.username, .password = args.password};
  registry::ClientOptions options;
  options.insecure_registries = args.insecure;
  options.credential = credential;
  auto conn = TRY(registry::Connection::open(reg, "", registry::Access::kPull, options));
  TRY_CTX(conn->session().ping(), "login to " + reg);
  auto store = TRY(registry::CredentialStore::load(registry::CredentialStore::default_dir()));
  TRY(store.store(reg, credential));
  std::string helper = store.helper_for(reg);
  if (helper.empty()) {
    std::printf("WARNING! Your password will be stored unencrypted in %s.\n", store.path().c_str());
  }
  std::printf("Login Succeeded\n");
  return 0;
}

}  // namespace

IMGBUILD_COMMAND(login, Command{
                            .name = "login",
                            .description = "Log in to a registry",
                            .setup = [](CLI::App& sub, const GlobalOptions&) -> Runner {
                              auto args = std::make_shared<LoginArgs>();
                              sub.add_option("REGISTRY", args->registry,
                                             "Registry host[:port] (default docker.io)");
                              sub.add_option("-u,--username", args->username, "Username");
                              sub.add_option("-p,--password", args->password, "Password");
                              sub.add_flag("--password-stdin", args->password_stdin,
                                           "Read the password from stdin");
                              sub.add_option("--insecure-registry", args->insecure,
                                             "Allow plain HTTP / unverified TLS for HOST[:PORT]");
                              return [args] {
                                auto r = run_login(*args);
                                if (!r) return report_error(r.error());
                                return *r;
                              };
                            },
                            .host_namespaces = true,
                        });

}  // namespace imgbuild::cli
