// The communicator a training job runs on: its ranks, and the collectives training needs.
// defines: ipm::Communicator, ipm::SingleProcessCommunicator
//
// One communicator per job group. Collectives act in place on dense tensors (CPU tensors on
// every backend; CUDA tensors of device() on NCCL's) and must be called by every rank of the
// group in the same order (MPI semantics). Time spent in
// all-reduces is accumulated so training can report compute and communication apart.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <torch/torch.h>

namespace ipm {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual void allreduce_sum(torch::Tensor& t) = 0;
  virtual void allreduce_max(torch::Tensor& t) = 0;
  virtual void broadcast(torch::Tensor& t, int root) = 0;
  virtual const char* backend() const = 0;
  // Where training's tensors live for this communicator (a CUDA device for NCCL's).
  virtual torch::Device device() const { return torch::kCPU; }

  // Seconds and bytes of all-reduce since the last take_comm_stats() (then reset).
  struct CommStats {
    double seconds = 0.0;
    int64_t bytes = 0;
    int64_t calls = 0;
  };
  CommStats take_comm_stats() {
    CommStats s = stats_;
    stats_ = {};
    return s;
  }

 protected:
  void add_comm_time(std::chrono::steady_clock::time_point t0, int64_t bytes) {
    stats_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    stats_.bytes += bytes;
    ++stats_.calls;
  }

 private:
  CommStats stats_;
};

// A group of one: every collective is the identity. Plain single-process runs use it (on
// a GPU when run.backend chooses CUDA).
class SingleProcessCommunicator final : public Communicator {
 public:
  explicit SingleProcessCommunicator(torch::Device device = torch::kCPU) : device_(device) {}
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allreduce_sum(torch::Tensor&) override {}
  void allreduce_max(torch::Tensor&) override {}
  void broadcast(torch::Tensor&, int) override {}
  const char* backend() const override { return "single"; }
  torch::Device device() const override { return device_; }

 private:
  torch::Device device_;
};

}  // namespace ipm
