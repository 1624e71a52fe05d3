#include "trainer/stop_request.h"

#include <atomic>
#include <csignal>

#include <unistd.h>  // write: async-signal-safe

namespace ipm {
namespace {

std::atomic<int> g_stop{0};
static_assert(std::atomic<int>::is_always_lock_free, "a signal handler needs a lock-free flag");

std::atomic<int> g_announce{1};

extern "C" void on_stop_signal(int) { g_stop.store(1, std::memory_order_relaxed); }

// Ctrl-C: the first asks for a graceful stop, as SIGTERM does; a second one kills at once
// (the default action, so the shell sees "killed by SIGINT"). Only async-signal-safe calls.
extern "C" void on_interrupt(int sig) {
  if (g_stop.exchange(1, std::memory_order_relaxed) != 0) {
    signal(sig, SIG_DFL);
    raise(sig);
    return;
  }
  static const char kMsg[] = "\nipm-dist: stopping after this step; Ctrl-C again to abort\n";
  if (g_announce.load(std::memory_order_relaxed) != 0) {
    [[maybe_unused]] const ssize_t n = write(STDERR_FILENO, kMsg, sizeof kMsg - 1);
  }
}

}  // namespace

void install_stop_handlers() {
  struct sigaction sa = {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  struct sigaction si = sa;
  si.sa_handler = on_interrupt;
  sigaction(SIGINT, &si, nullptr);
}

void announce_interrupts(bool on) { g_announce.store(on ? 1 : 0, std::memory_order_relaxed); }

void request_stop() { g_stop.store(1, std::memory_order_relaxed); }
bool stop_requested() { return g_stop.load(std::memory_order_relaxed) != 0; }
void clear_stop_request() { g_stop.store(0, std::memory_order_relaxed); }

bool agree_to_stop(Communicator& comm) {
  if (comm.size() == 1) return stop_requested();
  torch::Tensor flag = torch::tensor({int64_t{stop_requested() ? 1 : 0}}, torch::kInt64);
  comm.allreduce_max(flag);
  const bool stop = flag.item<int64_t>() != 0;
  if (stop) request_stop();  // ranks that had not seen the signal follow the others
  return stop;
}

}  // namespace ipm
