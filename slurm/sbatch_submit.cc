#include "slurm/sbatch_submit.h"

#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"

extern char** environ;

namespace ipm {
namespace {

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// Reads both pipes to their end (poll, so a chatty stderr cannot block stdout).
void drain(int out_fd, int err_fd, std::string& out, std::string& err) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open_fds = 2;
  char buf[4096];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        (i == 0 ? out : err).append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
}

}  // namespace

std::string submit_sbatch(const std::string& script) {
  int out_pipe[2], err_pipe[2];
  IPM_CHECK(pipe(out_pipe) == 0 && pipe(err_pipe) == 0,
            "cannot start sbatch: pipe: " << std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
  posix_spawn_file_actions_addclose(&actions, err_pipe[0]);
  std::string a0 = "sbatch", a1 = "--parsable", a2 = script;
  char* argv[] = {a0.data(), a1.data(), a2.data(), nullptr};
  pid_t pid = 0;
  const int spawn_err = posix_spawnp(&pid, "sbatch", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (spawn_err != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    throw Error(std::string("cannot run sbatch: ") + std::strerror(spawn_err) +
                (spawn_err == ENOENT ? " (is this a Slurm login node? sbatch is not on PATH)"
                                     : "") +
                "; the script is written: " + script);
  }
  std::string out, err;
  drain(out_pipe[0], err_pipe[0], out, err);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string why = trim(err);
    for (char& c : why) {
      if (c == '\n') c = ' ';  // one line
    }
    throw Error("sbatch refused " + script + " (" +
                (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                   : std::string("killed by a signal")) +
                "): " + (why.empty() ? "no message" : why));
  }
  // --parsable prints "JOBID" or "JOBID;CLUSTER".
  const std::string line = trim(out.substr(0, out.find('\n')));
  const std::string id = line.substr(0, line.find(';'));
  IPM_CHECK(!id.empty() && id.find_first_not_of("0123456789") == std::string::npos,
            "sbatch printed no job id for " << script << " (stdout: '" << trim(out) << "')");
  return id;
}

}  // namespace ipm
