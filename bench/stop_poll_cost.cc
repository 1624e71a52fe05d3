// What the preemption check costs: trainer/stop_request.h's agree_to_stop (an all-reduce max
// of one int64 over the job group) runs before every training step. Times N calls on
// MPI_COMM_WORLD and prints microseconds per call, to set against a step's step_s in
// metrics.jsonl. Timings are printed, never asserted.
//
//   mpirun --oversubscribe -np 2 build/bench/stop_poll_cost [N]
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "dist/mpi_communicator.h"
#include "trainer/stop_request.h"

int main(int argc, char** argv) {
  ipm::MpiRuntime mpi(&argc, &argv);
  ipm::MpiCommunicator comm(MPI_COMM_WORLD);
  const int n = argc > 1 ? std::atoi(argv[1]) : 20000;
  for (int i = 0; i < 100; ++i) ipm::agree_to_stop(comm);  // warm-up
  const auto t0 = std::chrono::steady_clock::now();
  int stops = 0;
  for (int i = 0; i < n; ++i) stops += ipm::agree_to_stop(comm) ? 1 : 0;
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (comm.rank() == 0) {
    std::printf("agree_to_stop on %d ranks: %.2f us per call (%d calls, %d stops)\n",
                comm.size(), 1e6 * s / n, n, stops);
  }
  return 0;
}
