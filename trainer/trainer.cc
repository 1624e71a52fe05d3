#include "trainer/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/hash_rng.h"
#include "dist/grad_reducer.h"
#include "io/h5_split.h"
#include "losses/implicit_losses.h"
#include "trainer/batch_slicer.h"
#include "trainer/checkpoint.h"
#include "trainer/job_check.h"
#include "trainer/metrics_log.h"
#include "trainer/normalizer_factory.h"
#include "trainer/small_cnn.h"
#include "trainer/test_hooks.h"

namespace ipm {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

constexpr int64_t kAutoPreloadBytes = int64_t{4} << 30;
constexpr int64_t kEvalBatch = 1000;

bool should_preload(const DataSpec& d, const std::string& split) {
  if (d.preload == "always") return true;
  if (d.preload == "never") return false;
  return H5Split::preload_bytes(d.file, split) <= kAutoPreloadBytes;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainSpec& t,
                                                        std::vector<torch::Tensor> params) {
  if (t.optimizer == "adam") {
    return std::make_unique<torch::optim::Adam>(
        params, torch::optim::AdamOptions(t.lr).weight_decay(t.weight_decay));
  }
  if (t.optimizer == "adamw") {
    return std::make_unique<torch::optim::AdamW>(
        params, torch::optim::AdamWOptions(t.lr).weight_decay(t.weight_decay));
  }
  throw Error("train.optimizer = '" + t.optimizer + "' is unknown (expected adam or adamw)");
}

double param_norm(torch::nn::Module& m) {
  double sq = 0.0;
  for (const auto& p : m.parameters()) sq += p.detach().to(torch::kFloat64).pow(2).sum().item<double>();
  return std::sqrt(sq);
}

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

void write_metrics_file(const std::filesystem::path& job_dir,
                        const std::vector<EpochMetrics>& history) {
  std::string s;
  for (const auto& m : history) s += to_json_line(m) + "\n";
  write_file_atomic(job_dir / "metrics.jsonl", s);
}

// What one epoch's steps add up to on this rank.
struct EpochSums {
  double loss = 0.0;          // sum over steps of this rank's share of the batch loss
  int64_t correct_q = 0, correct_r = 0;
};

// Everything a training step needs, set up once per job.
struct StepContext {
  const TrainSpec& t;
  const H5Split& train;
  const PriorSource& priors;
  LossKind loss_kind;
  Normalizer& normalizer;
  torch::nn::AnyModule& model;
  torch::optim::Optimizer& opt;
  GradReducer& reducer;
  RankSlice mine;  // this rank's rows of every global batch
  torch::ScalarType dtype;
  torch::Device device;  // the communicator's: CPU, or this rank's GPU under NCCL
};

// The steps of one epoch over `order` (the epoch's permutation of the training rows).
EpochSums train_epoch(StepContext& c, const std::vector<int64_t>& order, int64_t steps) {
  EpochSums sums;
  std::vector<int64_t> rows(static_cast<size_t>(c.mine.size()));
  const torch::Tensor no_stored;
  for (int64_t s = 0; s < steps; ++s) {
    for (int64_t i = 0; i < c.mine.size(); ++i) rows[i] = order[s * c.t.batch + c.mine.begin + i];
    const torch::Tensor x = to_model_layout(c.train.x(rows).to(c.device, c.dtype));
    const torch::Tensor y_cpu = c.train.y(rows);
    const torch::Tensor y = y_cpu.to(c.device);
    const torch::Tensor stored = c.priors.needs_stored() ? c.train.prior(rows) : no_stored;
    const torch::Tensor prior = c.priors.prior({rows, y_cpu, stored}).to(c.device, c.dtype);

    const torch::Tensor log_q = torch::log_softmax(c.model.forward(x), 1);
    const LossTerms terms = loss_terms(c.loss_kind, log_q, prior, c.normalizer);
    const torch::Tensor loss = terms.per_sample.sum() / static_cast<double>(c.t.batch);
    c.opt.zero_grad();
    loss.backward();
    c.reducer.sum_gradients();  // each rank's loss is its share of the global mean
    c.opt.step();

    sums.loss += loss.item<double>();
    sums.correct_q += log_q.argmax(1).eq(y).sum().item<int64_t>();
    // CE and NLL have no r of their own: read r with this rank's batch as the normalizer.
    const torch::Tensor log_r = terms.log_r.defined()
        ? terms.log_r
        : implied_log_posterior(log_q.detach(), prior, torch::logsumexp(log_q.detach(), 0));
    sums.correct_r += log_r.argmax(1).eq(y).sum().item<int64_t>();
  }
  return sums;
}

}  // namespace

JobResult train_job(const JobSpec& spec, const std::filesystem::path& job_dir,
                    Communicator& comm) {
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
  const LossKind loss_kind = parse_loss(t.loss);
  const int64_t steps = n / t.batch;  // the last partial batch is dropped: Eq. 2 wants full ones
  const RankSlice mine = rank_slice(t.batch, comm.rank(), comm.size());

  // --- model, optimizer, normalizer; resume ---------------------------------------------
  torch::manual_seed(t.seed);
  torch::nn::AnyModule model = make_model(spec.arch, train.sample_shape(), num_classes);
  torch::nn::Module& net = *model.ptr();
  const torch::ScalarType dtype = t.precision == "float64" ? torch::kFloat64 : torch::kFloat32;
  net.to(comm.device(), dtype);
  for (auto& p : net.parameters()) {
    torch::NoGradGuard g;
    if (p.dim() == 4) p.set_data(to_model_layout(p));
    comm.broadcast(p, 0);  // identical start on every rank
  }
  auto opt = make_optimizer(t, net.parameters());
  GradReducer reducer(net.parameters(), comm);
  auto normalizer = make_normalizer(t.normalizer, t.ema_decay, comm);
  if (lead && t.normalizer == "ema") {
    std::cerr << "ipm-dist: warning: train.normalizer = \"ema\" is experimental and was "
                 "measured to collapse RQ training (see losses/normalizer.h)\n";
  }

  std::filesystem::create_directories(job_dir);
  const std::filesystem::path ckpt = job_dir / "checkpoint.pt";
  TrainState state;
  JobResult result;
  if (std::filesystem::exists(ckpt)) {
    state = load_checkpoint(ckpt, net, *opt);
    if (state.ema_running.defined()) set_ema_state(*normalizer, state.ema_running);
    if (lead) std::cout << "[" << spec.name << "] resuming after epoch " << state.epochs_done << "\n";
  }
  {
    // Every rank must resume from the same epoch (a checkpoint on a filesystem that some
    // ranks cannot see would silently mix two trainings).
    torch::Tensor e = torch::tensor({state.epochs_done, -state.epochs_done}, torch::kInt64);
    comm.allreduce_max(e);
    IPM_CHECK(e[0].item<int64_t>() == -e[1].item<int64_t>(),
              ckpt.string() << ": the ranks of job " << spec.name << " see different checkpoints"
                            << " (is the output directory on a filesystem all ranks share?)");
  }
  double peak = state.metrics.empty() ? 0.0 : state.metrics.back().peak_test_acc;

  // --- epochs ---------------------------------------------------------------------------
  StepContext step{t, train, *prior_source, loss_kind, *normalizer, model, *opt, reducer,
                   mine, dtype, comm.device()};
  for (int64_t epoch = state.epochs_done + 1; epoch <= t.epochs; ++epoch) {
    const auto epoch_t0 = Clock::now();
    comm.take_comm_stats();
    const std::vector<int64_t> order = shuffled_order(n, t.seed, static_cast<uint64_t>(epoch));
    IPM_CHECK(!(epoch == 2 && comm.rank() == test_hook_value("IPM_TEST_FAIL_RANK")),
              "injected failure on rank " << comm.rank() << " (IPM_TEST_FAIL_RANK)");
    const EpochSums local = train_epoch(step, order, steps);
    const double train_s = seconds_since(epoch_t0);
    const double comm_s = comm.take_comm_stats().seconds;
    torch::Tensor sums = torch::tensor({local.loss, static_cast<double>(local.correct_q),
                                        static_cast<double>(local.correct_r)}, torch::kFloat64);
    comm.allreduce_sum(sums);

    EpochMetrics m;
    m.epoch = epoch;
    const double seen = static_cast<double>(steps * t.batch);
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

    state.epochs_done = epoch;
    state.metrics.push_back(m);
    state.ema_running = ema_state(*normalizer);
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
