#include "trainer/trainer.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

#include <c10/core/DeviceGuard.h>  // the reader thread pins on the rank's GPU

#include "common/error.h"
#include "common/hash_rng.h"
#include "common/text.h"  // json_number
#include "dist/grad_reducer.h"
#include "io/h5_split.h"
#include "trainer/batch_reader.h"
#include "trainer/batch_slicer.h"
#include "trainer/checkpoint.h"
#include "trainer/finite_guard.h"
#include "trainer/lagged_loss.h"
#include "trainer/normalizer_factory.h"
#include "trainer/step_context.h"
#include "trainer/stop_request.h"
#include "trainer/task.h"
#include "trainer/train_common.h"

namespace ipm {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// A mid-epoch checkpoint keeps every rank's sums, one row each (the task's sums, then
// train_s), so the resumed epoch adds up in the same order as an uninterrupted one and its
// metrics come out bit-identical.
torch::Tensor gather_partial(const EpochSums& mine, Communicator& comm) {
  const int64_t k = static_cast<int64_t>(mine.values.size());
  torch::Tensor rows = torch::zeros({comm.size(), k + 1}, torch::kFloat64);
  for (int64_t i = 0; i < k; ++i) rows[comm.rank()][i] = mine.values[static_cast<size_t>(i)];
  rows[comm.rank()][k] = mine.train_s;
  comm.allreduce_sum(rows);  // x + 0 = x: every row arrives exactly
  return rows;
}

// This rank's sums (k values) from a mid-epoch checkpoint, or zeros when the epoch starts
// afresh. Resumed on another number of ranks, rank 0 takes the totals (counts stay exact;
// the loss may differ in its last bits).
EpochSums resumed_sums(const TrainState& state, bool resumes_mid_epoch, int64_t k,
                       Communicator& comm) {
  EpochSums s;
  s.values.assign(static_cast<size_t>(k), 0.0);
  if (!resumes_mid_epoch) return s;
  s.steps_done = state.steps_done;
  IPM_CHECK(state.partial.dim() == 2 && state.partial.size(1) == k + 1,
            "checkpoint: mid-epoch sums of " << (state.partial.dim() == 2 ? state.partial.size(1) : 0)
                << " fields, this job's task keeps " << k + 1 << " (was the data changed?)");
  torch::Tensor row;
  if (state.partial.size(0) == comm.size()) {
    row = state.partial[comm.rank()];
  } else if (comm.rank() == 0) {
    row = state.partial.sum(0);
  } else {
    return s;
  }
  for (int64_t i = 0; i < k; ++i) s.values[static_cast<size_t>(i)] = row[i].item<double>();
  s.train_s = row[k].item<double>();
  return s;
}

// Before step s of an epoch whose loop began at step `start` (0, or where a mid-epoch
// checkpoint left off) and whose first step is step `first_step` of the job: whether the
// group stops here (preemption), or throws JobFailed when a rank's last step went bad
// (trainer/finite_guard.h). A collective: every rank of the group calls it each step.
bool stop_before_step(StepContext& c, int64_t s, int64_t start, int64_t first_step) {
  // (not at the step a run resumes from: a rerun with the hook set would never advance)
  if (c.comm.rank() == 0 && first_step + s == c.hooks.stop_at_step && (s > start || start == 0)) {
    request_stop();
  }
  return agree_before_step(c.comm, *c.guard);  // the stop flag and the guard, one all-reduce
}

// The steps of one epoch over `order` (the epoch's permutation of the task's units), from
// `sums.steps_done` on; each rank takes its slice of every global batch, read `prefetch`
// batches ahead (trainer/batch_reader.h). When the group agrees to stop, the returned
// steps_done is short of `steps`.
EpochSums train_epoch(StepContext& c, TaskRun& task, const std::vector<int64_t>& order,
                      int64_t steps, EpochSums sums, int64_t first_step, int64_t prefetch) {
  const int64_t start = sums.steps_done;
  auto units_of = [&](int64_t s) {
    const auto* at = order.data() + s * c.t.batch + c.mine.begin;
    return std::vector<int64_t>(at, at + c.mine.size());
  };
  auto load = [&](int64_t s, const std::vector<int64_t>& units) {
    IPM_CHECK(first_step + s != c.hooks.fail_read_at_step,
              c.train.where() << "/x: read failed (injected: IPM_TEST_FAIL_READ_AT_STEP)");
    Batch b = task.load(c.train, units, c.dtype);
    // Pinned, so that the step's copies to the GPU need not wait (on_device, step_context.h).
    // The guard makes the reader thread use the rank's GPU: without it the pinning would
    // open a CUDA context on GPU 0 for every rank.
    if (c.comm.device().is_cuda()) {
      const c10::DeviceGuard on_rank_gpu(c.comm.device());
      for (torch::Tensor& t : b.t) t = t.pin_memory();
    }
    return b;
  };
  BatchReader reader(units_of, load, start, steps, prefetch,
                     task.units_are_rows() ? "rows" : "pairs");
  // The sums add up on the device and are read once, after the loop: on a GPU a read per
  // step would wait for that step to finish before the next could be queued. Float64 adds
  // in the same order as the doubles they replace, so the metrics are bit-identical.
  torch::Tensor acc = torch::tensor(sums.values, torch::kFloat64).to(c.comm.device());
  // The finite guard reads each step's loss one step late, once the next step is queued,
  // and without waiting for that one (trainer/lagged_loss.h): on a GPU the host keeps a step
  // ahead. A bad step is still named and fails the job before anything is saved: its loss is
  // noted before the group's next-but-one agreement, and the loop's last loss before the
  // agreement that precedes any checkpoint (below on a stop; train_job's at the epoch end).
  LaggedLoss unread;
  const auto note_unread = [&] {
    if (unread.empty()) return;
    const int64_t step = unread.step();
    c.guard->note_step(unread.take(), c.comm.size(), c.epoch, step);
  };
  bool stopped = false;
  for (int64_t s = start; s < steps; ++s) {
    if (stop_before_step(c, s, start, first_step)) {
      stopped = true;
      break;
    }
    if (c.hooks.step_delay_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(c.hooks.step_delay_ms));
    }
    const torch::Tensor loss = task.step(c, reader.next(), acc);
    note_unread();  // the previous step's, now that this one is queued
    unread.put(loss, s + 1);
    sums.steps_done = s + 1;
  }
  note_unread();
  // A stop agreed before the last step's loss was noted: agree once more (every rank of the
  // group stopped at the same step), so that a bad last step throws before the checkpoint.
  if (stopped && sums.steps_done > start) c.guard->agree(c.comm, true);
  const torch::Tensor host = acc.cpu();
  sums.values.assign(host.data_ptr<double>(), host.data_ptr<double>() + host.numel());
  sums.read_wait_s = reader.wait_s();
  sums.read_bytes = reader.bytes();
  return sums;
}

void print_epoch(const std::string& job, int64_t epochs, const EpochMetrics& m) {
  if (m.segmentation != 0.0) {
    std::printf("[%s] epoch %lld/%lld  loss %.5f  train %.4f  test %.4f (r %.4f)  "
                "mIoU %.4f (r %.4f)  (%.0f images/s)\n",
                job.c_str(), static_cast<long long>(m.epoch), static_cast<long long>(epochs),
                m.loss, m.train_acc, m.test_acc, m.test_acc_r, m.test_miou, m.test_miou_r,
                m.samples_per_s);
  } else {
    std::printf("[%s] epoch %lld/%lld  loss %.5f  train %.4f  r %.4f  test %.4f  (%.0f samples/s)\n",
                job.c_str(), static_cast<long long>(m.epoch), static_cast<long long>(epochs),
                m.loss, m.train_acc, m.train_acc_r, m.test_acc, m.samples_per_s);
  }
  std::fflush(stdout);
}

}  // namespace

JobResult train_job(const JobSpec& spec, const std::filesystem::path& job_dir,
                    Communicator& comm, const TestHooks& hooks) {
  const TrainSpec& t = spec.train;
  const bool lead = comm.rank() == 0;
  torch::set_num_threads(static_cast<int>(spec.run.threads_per_rank));
  // Denormals appear as activations and Adam's moments decay; flushing them keeps late
  // epochs as fast as early ones.
  at::globalContext().setFlushDenormal(true);

  // --- data and the task: every check that can fail does so before training starts ------
  const Task& task = task_for(task_kind(spec));
  task.check(spec);
  IPM_CHECK(t.batch >= comm.size(), "train.batch = " << t.batch << " is smaller than the "
                                                     << comm.size() << " ranks of the job");
  const H5Split train(spec.data.file, spec.data.train, should_preload(spec.data, spec.data.train));
  const H5Split test(spec.data.file, spec.data.test, should_preload(spec.data, spec.data.test));
  const int64_t num_classes = train.num_classes();
  const std::unique_ptr<TaskRun> run = task.open(spec, train, training_rows(t, train));
  const int64_t units = run->units();
  const EpochOrderSpec order_spec = training_order(spec.data, train, run->units_are_rows());
  const int64_t steps = units / t.batch;  // the last partial batch is dropped: Eq. 2 wants full ones
  const RankSlice mine = rank_slice(t.batch, comm.rank(), comm.size());

  // --- model, optimizer, normalizer; resume ---------------------------------------------
  const torch::ScalarType dtype = training_dtype(t);
  torch::nn::AnyModule model =
      make_replicated_model(spec, train.sample_shape(), num_classes, dtype, comm);
  torch::nn::Module& net = *model.ptr();
  auto opt = make_optimizer(t, net.parameters());
  GradReducer reducer(net.parameters(), comm);
  auto normalizer = make_normalizer(t, comm);

  std::filesystem::create_directories(job_dir);
  const std::filesystem::path ckpt = job_dir / "checkpoint.pt";
  TrainState state;
  JobResult result;
  if (std::filesystem::exists(ckpt)) {
    state = load_checkpoint(ckpt, net, *opt);
    if (state.ema.running_mean.defined()) set_ema_state(*normalizer, state.ema);
    if (lead) {
      std::cout << "[" << spec.name << "] resuming after epoch " << state.epochs_done;
      if (state.steps_done > 0) {
        std::cout << ", at step " << state.steps_done << "/" << steps << " of epoch "
                  << state.epochs_done + 1;
      }
      std::cout << "\n" << std::flush;
    }
    IPM_CHECK(state.steps_done < steps, ckpt.string() << ": " << state.steps_done
              << " steps into an epoch of " << steps << " (was the data changed?)");
  }
  check_same_resume_point(state, ckpt, spec.name, comm);
  double peak = state.metrics.empty() ? 0.0 : state.metrics.back().peak_test_acc;

  // --- epochs ---------------------------------------------------------------------------
  StepContext step{t,       train, epoch_loss(t, 1), *normalizer, model, *opt,
                   reducer, mine,  dtype,            comm,        hooks};
  FiniteGuard guard(num_classes, "train.lr = " + json_number(t.lr));
  step.guard = &guard;
  for (int64_t epoch = state.epochs_done + 1; epoch <= t.epochs; ++epoch) {
    const auto epoch_t0 = Clock::now();
    comm.take_comm_stats();
    const std::vector<int64_t> order =
        epoch_order(units, t.seed, static_cast<uint64_t>(epoch), order_spec);
    IPM_CHECK(!(epoch == 2 && comm.rank() == hooks.fail_rank),
              "injected failure on rank " << comm.rank() << " (IPM_TEST_FAIL_RANK)");
    const bool mid_epoch = epoch == state.epochs_done + 1 && state.steps_done > 0;
    const EpochSums resumed = resumed_sums(state, mid_epoch, run->sum_fields(), comm);
    step.loss_kind = epoch_loss(t, epoch);
    step.epoch = epoch;
    EpochSums local = train_epoch(step, *run, order, steps, resumed, (epoch - 1) * steps,
                                  spec.data.prefetch);
    local.train_s += seconds_since(epoch_t0);
    if (local.steps_done < steps) {  // stop requested: save the epoch so far, and leave
      state.steps_done = local.steps_done;
      state.partial = gather_partial(local, comm);
      state.ema = ema_state(*normalizer);
      if (lead) {
        save_checkpoint(ckpt, net, *opt, state);
        std::cout << "[" << spec.name << "] stopped (preemption) at step " << local.steps_done
                  << "/" << steps << " of epoch " << epoch << "; checkpoint written\n"
                  << std::flush;
      }
      result.preempted = true;
      result.epochs = state.epochs_done;
      return result;
    }
    const double train_s = local.train_s;
    const double comm_s = comm.take_comm_stats().seconds;
    torch::Tensor sums = torch::tensor(local.values, torch::kFloat64);
    comm.allreduce_sum(sums);

    EpochMetrics m;
    m.epoch = epoch;
    m.loss = sums[0].item<double>() / static_cast<double>(steps);
    run->evaluate(step, test, sums.data_ptr<double>(), steps, m);
    peak = std::max(peak, m.test_acc);
    m.peak_test_acc = peak;
    const double seen = static_cast<double>(steps * t.batch * run->images_per_unit());
    m.samples_per_s = seen / train_s;
    m.step_s = train_s / static_cast<double>(steps);
    m.comm_s = comm_s / static_cast<double>(steps);
    const int64_t steps_run = steps - resumed.steps_done;  // by this run: the data path's
    m.read_wait_s = local.read_wait_s / static_cast<double>(std::max<int64_t>(steps_run, 1));
    m.read_bytes = static_cast<double>(local.read_bytes);
    m.param_norm = param_norm(net);
    m.epoch_s = seconds_since(epoch_t0);
    guard.note_epoch(m.loss, m.param_norm);
    guard.agree(comm, false);  // the epoch's last step: throws before a bad checkpoint is saved

    state.epochs_done = epoch;
    state.steps_done = 0;
    state.partial = torch::Tensor();
    state.metrics.push_back(m);
    state.ema = ema_state(*normalizer);
    if (lead) {
      // Checkpoint first: metrics.jsonl never runs ahead of what a restart resumes from.
      save_checkpoint(ckpt, net, *opt, state);
      write_metrics_file(job_dir, state.metrics);
      print_epoch(spec.name, t.epochs, m);
    }
    if (epoch == hooks.abort_after_epoch) std::abort();
  }
  if (lead) write_metrics_file(job_dir, state.metrics);  // also after a resume with nothing left
  result.epochs = state.epochs_done;
  if (!state.metrics.empty()) {
    result.final_test_acc = state.metrics.back().test_acc;
    result.peak_test_acc = state.metrics.back().peak_test_acc;
  }
  return result;
}

}  // namespace ipm
