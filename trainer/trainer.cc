#include "trainer/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/hash_rng.h"
#include "common/text.h"  // json_number
#include "dist/grad_reducer.h"
#include "io/h5_split.h"
#include "losses/implicit_losses.h"
#include "trainer/batch_slicer.h"
#include "trainer/checkpoint.h"
#include "trainer/finite_guard.h"
#include "trainer/job_check.h"
#include "trainer/metrics_log.h"
#include "trainer/normalizer_factory.h"
#include "trainer/pair_training.h"
#include "trainer/segmentation.h"
#include "trainer/small_cnn.h"
#include "trainer/step_context.h"
#include "trainer/train_common.h"
#include "trainer/test_hooks.h"

namespace ipm {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

constexpr int64_t kEvalBatch = 1000;

// Accuracy of q over rows [0, n): each rank evaluates a contiguous block, counts all-reduced.
double accuracy(torch::nn::AnyModule& model, const H5Split& split, int64_t n, Communicator& comm,
                torch::ScalarType dtype) {
  torch::NoGradGuard no_grad;
  model.ptr()->eval();
  const RankSlice mine = rank_slice(n, comm.rank(), comm.size());
  int64_t correct = 0;
  std::vector<int64_t> rows;
  for (int64_t s = mine.begin; s < mine.end; s += kEvalBatch) {
    rows.clear();
    for (int64_t i = s; i < std::min(s + kEvalBatch, mine.end); ++i) rows.push_back(i);
    const torch::Tensor logits =
        model.forward(to_model_layout(split.x(rows).to(comm.device(), dtype)));
    correct += logits.argmax(1).eq(split.y(rows).to(comm.device())).sum().item<int64_t>();
  }
  model.ptr()->train();
  torch::Tensor c = torch::tensor({static_cast<double>(correct)}, torch::kFloat64);
  comm.allreduce_sum(c);
  return c.item<double>() / static_cast<double>(n);
}

// A mid-epoch checkpoint keeps every rank's sums, one row each, so the resumed epoch adds up
// in the same order as an uninterrupted one and its metrics come out bit-identical.
constexpr int64_t kPartialFields = 4;  // loss, correct_q, correct_r, train_s

torch::Tensor gather_partial(const EpochSums& mine, Communicator& comm) {
  torch::Tensor rows = torch::zeros({comm.size(), kPartialFields}, torch::kFloat64);
  rows[comm.rank()] = torch::tensor({mine.loss, static_cast<double>(mine.correct_q),
                                     static_cast<double>(mine.correct_r), mine.train_s},
                                    torch::kFloat64);
  comm.allreduce_sum(rows);  // x + 0 = x: every row arrives exactly
  return rows;
}

// This rank's sums from a mid-epoch checkpoint. Resumed on another number of ranks, rank 0
// takes the totals (counts stay exact; the loss may differ in its last bits).
EpochSums partial_sums(const TrainState& state, Communicator& comm) {
  EpochSums s;
  s.steps_done = state.steps_done;
  torch::Tensor row;
  if (state.partial.size(0) == comm.size()) {
    row = state.partial[comm.rank()];
  } else if (comm.rank() == 0) {
    row = state.partial.sum(0);
  } else {
    return s;
  }
  s.loss = row[0].item<double>();
  s.correct_q = static_cast<int64_t>(row[1].item<double>());
  s.correct_r = static_cast<int64_t>(row[2].item<double>());
  s.train_s = row[3].item<double>();
  return s;
}

// The steps of one epoch over `order` (the epoch's permutation of the training rows), from
// `sums.steps_done` on. Before each step the group agrees whether to stop (preemption); then
// the returned steps_done is short of `steps`. first_step numbers the epoch's first step in
// the job, for the test hook.
EpochSums train_epoch(StepContext& c, const std::vector<int64_t>& order, int64_t steps,
                      EpochSums sums, int64_t first_step) {
  std::vector<int64_t> rows(static_cast<size_t>(c.mine.size()));
  const torch::Tensor no_stored;
  const int64_t start = sums.steps_done;
  for (int64_t s = start; s < steps; ++s) {
    if (stop_before_step(c, s, start, first_step)) break;
    for (int64_t i = 0; i < c.mine.size(); ++i) rows[i] = order[s * c.t.batch + c.mine.begin + i];
    const torch::Tensor x = to_model_layout(c.train.x(rows).to(c.comm.device(), c.dtype));
    const torch::Tensor y_cpu = c.train.y(rows);
    const torch::Tensor y = y_cpu.to(c.comm.device());
    const torch::Tensor stored = c.priors.needs_stored() ? c.train.prior(rows) : no_stored;
    const torch::Tensor prior = c.priors.prior({rows, y_cpu, stored}).to(c.comm.device(), c.dtype);

    const torch::Tensor log_q = torch::log_softmax(c.model.forward(x), 1);
    const LossTerms terms = loss_terms(c.loss_kind, log_q, prior, c.normalizer);
    const torch::Tensor loss = terms.per_sample.sum() / static_cast<double>(c.t.batch);
    c.opt.zero_grad();
    loss.backward();
    c.reducer.sum_gradients();  // each rank's loss is its share of the global mean
    c.opt.step();

    const double share = loss.item<double>();
    sums.loss += share;
    note_step_loss(c, share, s);
    sums.correct_q += log_q.argmax(1).eq(y).sum().item<int64_t>();
    // CE and NLL have no r of their own: read r with this rank's batch as the normalizer.
    const torch::Tensor log_r = terms.log_r.defined()
        ? terms.log_r
        : implied_log_posterior(log_q.detach(), prior, torch::logsumexp(log_q.detach(), 0));
    sums.correct_r += log_r.argmax(1).eq(y).sum().item<int64_t>();
    sums.steps_done = s + 1;
  }
  return sums;
}

}  // namespace

JobResult train_job(const JobSpec& spec, const std::filesystem::path& job_dir,
                    Communicator& comm) {
  // Per-pixel labels ([N, H, W]): the segmentation loop (trainer/segmentation.h).
  if (is_segmentation_data(spec.data)) return train_segmentation_job(spec, job_dir, comm);
  const TrainSpec& t = spec.train;
  const bool lead = comm.rank() == 0;
  torch::set_num_threads(static_cast<int>(spec.run.threads_per_rank));
  // Denormals appear as activations and Adam's moments decay; flushing them keeps late
  // epochs as fast as early ones.
  at::globalContext().setFlushDenormal(true);

  // --- data and priors: every check that can fail does so before training starts -------
  check_job(spec);
  IPM_CHECK(t.batch >= comm.size(), "train.batch = " << t.batch << " is smaller than the "
                                                     << comm.size() << " ranks of the job");
  const H5Split train(spec.data.file, spec.data.train, should_preload(spec.data, spec.data.train));
  const H5Split test(spec.data.file, spec.data.test, should_preload(spec.data, spec.data.test));
  const int64_t num_classes = train.num_classes();
  const int64_t n = t.train_subset > 0 ? std::min(t.train_subset, train.size()) : train.size();
  const auto prior_source = make_prior_source(spec.prior, num_classes);
  // Ranking jobs (§4.2) step over pairs: train.batch counts pairs, each rank takes whole ones.
  const std::unique_ptr<RankedPairs> pairs = make_job_pairs(spec, train, n);
  const int64_t units = pairs ? pairs->size() : n;
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
  StepContext step{t,       train, *prior_source, epoch_loss(t, 1), *normalizer, model, *opt,
                   reducer, mine,  dtype,         comm, test_hook_value("IPM_TEST_STOP_AT_STEP")};
  FiniteGuard guard(num_classes, "train.lr = " + json_number(t.lr));
  step.guard = &guard;
  for (int64_t epoch = state.epochs_done + 1; epoch <= t.epochs; ++epoch) {
    const auto epoch_t0 = Clock::now();
    comm.take_comm_stats();
    const std::vector<int64_t> order = shuffled_order(units, t.seed, static_cast<uint64_t>(epoch));
    IPM_CHECK(!(epoch == 2 && comm.rank() == test_hook_value("IPM_TEST_FAIL_RANK")),
              "injected failure on rank " << comm.rank() << " (IPM_TEST_FAIL_RANK)");
    const EpochSums resumed = epoch == state.epochs_done + 1 && state.steps_done > 0
                                  ? partial_sums(state, comm)
                                  : EpochSums{};
    const int64_t first_step = (epoch - 1) * steps;
    step.loss_kind = epoch_loss(t, epoch);
    step.epoch = epoch;
    EpochSums local = pairs
        ? train_pair_epoch(step, spec.prior, *pairs, order, steps, resumed, first_step)
        : train_epoch(step, order, steps, resumed, first_step);
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
    torch::Tensor sums = torch::tensor({local.loss, static_cast<double>(local.correct_q),
                                        static_cast<double>(local.correct_r)}, torch::kFloat64);
    comm.allreduce_sum(sums);

    EpochMetrics m;
    m.epoch = epoch;
    const double seen = static_cast<double>(steps * t.batch * (pairs ? 2 : 1));  // images
    m.loss = sums[0].item<double>() / static_cast<double>(steps);
    m.train_acc_r = sums[2].item<double>() / seen;
    m.train_acc = t.train_eval == "running" ? sums[1].item<double>() / seen
                                            : accuracy(model, train, n, comm, dtype);
    m.test_acc = accuracy(model, test, test.size(), comm, dtype);
    peak = std::max(peak, m.test_acc);
    m.peak_test_acc = peak;
    m.samples_per_s = seen / train_s;
    m.step_s = train_s / static_cast<double>(steps);
    m.comm_s = comm_s / static_cast<double>(steps);
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
      std::printf("[%s] epoch %lld/%lld  loss %.5f  train %.4f  r %.4f  test %.4f  (%.0f samples/s)\n",
                  spec.name.c_str(), static_cast<long long>(epoch), static_cast<long long>(t.epochs),
                  m.loss, m.train_acc, m.train_acc_r, m.test_acc, m.samples_per_s);
      std::fflush(stdout);
    }
    if (epoch == test_hook_value("IPM_TEST_ABORT_AFTER_EPOCH")) std::abort();
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
