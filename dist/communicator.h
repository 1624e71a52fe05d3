// The communicator a training job runs on: its ranks, and the collectives training needs.
// defines: ipm::Communicator, ipm::SingleProcessCommunicator
//
// One communicator per job group. Collectives act in place on contiguous CPU tensors and
// must be called by every rank of the group in the same order (MPI semantics).
#pragma once

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
};

// A group of one: every collective is the identity. Plain single-process runs use it.
class SingleProcessCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allreduce_sum(torch::Tensor&) override {}
  void allreduce_max(torch::Tensor&) override {}
  void broadcast(torch::Tensor&, int) override {}
  const char* backend() const override { return "single"; }
};

}  // namespace ipm
