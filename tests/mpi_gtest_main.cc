// main() of the GoogleTest executables that run under mpirun (dist_test, work_counter_test):
// MPI is started around the tests, only rank 0 prints the report, and every rank exits with
// the worst result of all ranks, so a failure on any rank fails the run.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdio>

#include "dist/mpi_communicator.h"  // MpiRuntime

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ipm::MpiRuntime mpi(&argc, &argv);
  if (mpi.world_rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  const int rc = RUN_ALL_TESTS();
  int worst = rc;
  MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (mpi.world_rank() == 0 && worst != rc) std::fprintf(stderr, "a test failed on another rank\n");
  return worst;
}
