// ipm-dist: the command line. Subcommands: run (the default for a .toml argument), report,
// pack, export-prior, slurm, keys.
// Errors print one line "ipm-dist: error: ..." and exit 1; usage errors exit 2.
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/blas_check.h"
#include "common/error.h"
#include "common/process_tuning.h"
#include "common/text.h"
#include "dist/communicator.h"
#include "dist/group_communicator.h"
#include "dist/launch_check.h"
#include "dist/rank_agreement.h"
#include "dist/mpi_communicator.h"
#include "dist/work_counter.h"
#include "io/pack_idx.h"
#include "datasets/lsr_benchmark.h"
#include "jobs/config_schema.h"
#include "jobs/export_prior.h"
#include "jobs/progress.h"
#include "jobs/report.h"
#include "jobs/run_suite.h"
#include "jobs/suite.h"
#include "slurm/slurm_spec.h"
#include "tools/pack_csv_command.h"
#include "tools/slurm_command.h"
#include "trainer/stop_request.h"
#include "trainer/test_hooks.h"

#ifndef IPM_VERSION
#define IPM_VERSION "0.0.0"
#endif

namespace {

// Ranks started with different suite files (or different versions of one) would train
// different things under one name: refuse at start-up.
void check_same_suite(const ipm::Suite& suite, ipm::Communicator& world) {
  if (world.size() == 1) return;
  const int64_t h = static_cast<int64_t>(std::hash<std::string>{}(suite.resolved_toml) >> 1);
  IPM_CHECK(ipm::same_on_all_ranks({h}, world),
            suite.file.string() << ": the ranks of this run were started with different suite "
                                   "files or contents; every rank must read the same suite");
}

// The world splits into groups of run.ranks_per_job ranks; each group trains its jobs
// data-parallel.
int64_t ranks_per_job(const ipm::Suite& suite, int world_size) {
  const int64_t r = suite.jobs.front().spec.run.ranks_per_job;
  for (const auto& j : suite.jobs) {
    IPM_CHECK(j.spec.run.ranks_per_job == r,
              suite.file.string() << ": run.ranks_per_job must be the same for every job");
  }
  IPM_CHECK(world_size % r == 0,
            suite.file.string() << ": run.ranks_per_job = " << r << " does not divide the "
                                << world_size << " ranks started; start a multiple of " << r);
  return r;
}

// run.backend, one for the whole run (a group's communicator serves all of its jobs), and
// what it resolves to on this rank; `auto` falling back to MPI says so once.
ipm::GroupBackend group_backend(
    const ipm::Suite& suite, ipm::Communicator& world,
    const std::function<ipm::GroupBackend(const std::string&)>& choose) {
  const ipm::Backend b = suite.jobs.front().spec.run.backend;
  for (const auto& j : suite.jobs) {
    IPM_CHECK(j.spec.run.backend == b,
              suite.file.string() << ": run.backend must be the same for every job");
  }
  ipm::GroupBackend g = choose(ipm::enum_to_name(b));
  // `auto` decides on each rank from the GPUs it sees; ranks that disagree (GPU nodes beside
  // CPU nodes) would build mismatched communicators and hang at their first collective.
  if (!ipm::same_on_all_ranks({int64_t{g.choice.cuda}}, world)) {
    g = ipm::GroupBackend{};
    g.choice.backend = "mpi";
    g.choice.note = "run.backend = \"auto\": some ranks see no GPU, so every rank uses MPI on "
                    "the CPU";
    g.choice.note_is_news = true;
  }
  // A CPU build on a CPU node is the expected case and stays silent: say it only where a GPU
  // is left idle (or a driver is too old), once.
  // The first rank with news says it.
  const int64_t none = -int64_t{world.size()};
  torch::Tensor first = torch::tensor({g.choice.note_is_news ? -int64_t{world.rank()} : none});
  world.allreduce_max(first);
  if (first.item<int64_t>() == -int64_t{world.rank()} && !g.choice.note.empty()) {
    ipm::print_error_line("ipm-dist: " + g.choice.note);
  }
  return g;
}

// Failure injection for the end-to-end tests (tests/e2e/*_test.sh set these variables; no
// user should): read here and nowhere else, and handed down to the driver as TestHooks.
ipm::TestHooks test_hooks_from_environment() {
  const auto value = [](const char* name) -> int64_t {
    const char* v = std::getenv(name);
    return v ? std::atoll(v) : -1;
  };
  ipm::TestHooks h;
  h.abort_after_epoch = value("IPM_TEST_ABORT_AFTER_EPOCH");
  h.fail_rank = value("IPM_TEST_FAIL_RANK");
  h.reverse_ranking = value("IPM_TEST_REVERSE_RANKING") == 1;
  h.stop_at_step = value("IPM_TEST_STOP_AT_STEP");
  h.fake_done_rank = value("IPM_TEST_FAKE_DONE_RANK");
  h.fail_read_at_step = value("IPM_TEST_FAIL_READ_AT_STEP");
  h.step_delay_ms = value("IPM_TEST_STEP_DELAY_MS");
  return h;
}

// How a run reaches its ranks: the world, a group communicator per color on the chosen
// backend, and the shared job counter (MPI under mpirun/srun; trivial for a single process).
struct Launch {
  std::unique_ptr<ipm::Communicator> world;
  std::function<std::unique_ptr<ipm::Communicator>(int color, const ipm::GroupBackend&)> split;
  std::function<std::unique_ptr<ipm::WorkCounter>()> counter;
  // run.backend -> backend and device of this rank (collective under MPI).
  std::function<ipm::GroupBackend(const std::string&)> choose_backend;
};

int run_command(const std::string& file, bool dry_run, int progress_s,
                const std::string& slice_text, Launch& launch) {
  const ipm::JobSlice slice =
      slice_text.empty() ? ipm::JobSlice{} : ipm::parse_job_slice(slice_text);
  ipm::Communicator& world = *launch.world;
  const ipm::Suite suite = ipm::load_suite(file);
  check_same_suite(suite, world);
  ipm::validate_suite(suite);  // every job, before any trains
  if (world.rank() == 0 && ipm::is_reference_blas(ipm::sgemm_library())) {
    ipm::print_error_line("ipm-dist: warning: matrix products use the reference BLAS (" +
                          ipm::sgemm_library() + "), 25-100x slower than OpenBLAS: install " +
                          "libopenblas0-pthread (scripts/install-deps.sh)");
  }
  if (dry_run) {  // lists jobs on rank 0; no collective follows, so any rank count will do
    ipm::LocalWorkCounter unused;
    if (world.rank() == 0) ipm::run_suite(suite, world, unused, /*dry_run=*/true, slice);
    return 0;
  }
  const int64_t per_job = ranks_per_job(suite, world.size());
  const int group = static_cast<int>(world.rank() / per_job);
  const ipm::GroupBackend backend = group_backend(suite, world, launch.choose_backend);
  std::unique_ptr<ipm::Communicator> comm = launch.split(group, backend);
  std::unique_ptr<ipm::WorkCounter> counter = launch.counter();
  std::unique_ptr<ipm::ProgressReporter> progress;
  if (world.rank() == 0 && progress_s > 0) {
    progress = std::make_unique<ipm::ProgressReporter>(suite, std::chrono::seconds(progress_s));
  }
  const ipm::SuiteOutcome out =
      ipm::run_suite(suite, *comm, *counter, /*dry_run=*/false, slice, test_hooks_from_environment());
  progress.reset();
  torch::Tensor counts = torch::tensor({int64_t{out.trained}, int64_t{out.done_before},
                                        static_cast<int64_t>(out.failures.size()),
                                        int64_t{out.preempted ? 1 : 0}});
  if (comm->rank() != 0) counts.zero_();  // count each group once
  world.allreduce_sum(counts);
  if (counts[3].item<int64_t>() > 0) {  // SIGUSR1/SIGTERM: checkpointed; a rerun resumes
    if (world.rank() == 0) {
      std::cout << "[" << suite.name << "] preempted: " << counts[0].item<int64_t>()
                << " jobs finished in this run, the others checkpointed; run again (or let "
                   "the requeued Slurm job run) to resume; exit code "
                << ipm::kPreemptedExitCode << "\n" << std::flush;
    }
    return ipm::kPreemptedExitCode;
  }
  if (world.rank() == 0) {
    std::cout << "\n" << ipm::write_report(suite.output) << "\n";  // summary.csv, summary.md
    std::cout << "[" << suite.name << "] " << suite.jobs.size() << " jobs"
              << (slice.count > 1 ? " (slice " + slice_text + ")" : std::string()) << ": "
              << counts[0].item<int64_t>() << " trained, " << counts[1].item<int64_t>()
              << " already done, " << counts[2].item<int64_t>() << " failed; results in "
              << suite.output.string() << "\n";
  }
  for (const auto& f : out.failures) ipm::print_error_line("ipm-dist: failed job " + f);
  return counts[2].item<int64_t>() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  ipm::tune_process_for_training();
  // `ipm-dist FILE.toml` means `ipm-dist run FILE.toml`.
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0].size() > 5 && args[0].substr(args[0].size() - 5) == ".toml") {
    args.insert(args.begin(), "run");
  }
  CLI::App app{"ipm-dist: train classifiers from prior beliefs with implicit posterior models "
               "(Rolf et al., UAI 2022), at cluster scale."};
  app.name("ipm-dist");
  app.set_version_flag("--version", std::string("ipm-dist ") + IPM_VERSION);
  app.require_subcommand(1);

  std::string suite_file;
  bool dry_run = false;
  CLI::App* run = app.add_subcommand("run", "Run a suite (or single job) described in TOML");
  run->add_option("SUITE", suite_file, "Suite file (.toml)")->required();
  run->add_flag("--dry-run", dry_run, "List the jobs and their state; train nothing");
  int progress_s = 60;
  run->add_option("--progress", progress_s,
                  "Seconds between progress lines (jobs done/running/left, ETA); 0: none")
      ->capture_default_str();
  std::string slice_text;
  run->add_option("--slice", slice_text,
                  "I/N: train only jobs j with j % N == I (Slurm array task I of N)");

  std::string run_dir;
  CLI::App* report = app.add_subcommand(
      "report", "Write RUN_DIR/summary.csv and summary.md (mean ± std over seeds) and print it");
  report->add_option("RUN_DIR", run_dir, "A suite's output directory")->required();

  CLI::App* pack = app.add_subcommand("pack", "Build an ipm-dist HDF5 data file");
  pack->require_subcommand(1);
  CLI::App* idx = pack->add_subcommand("idx", "From MNIST-format IDX files (.gz or plain)");
  std::string idx_dir, out_file;
  int64_t num_classes = 10;
  std::vector<std::string> class_names;
  idx->add_option("IDX_DIR", idx_dir, "Directory with train-/t10k- images and labels")
      ->required();
  idx->add_option("-o,--output", out_file, "HDF5 file to write")->required();
  idx->add_option("--num-classes", num_classes, "Number of classes")->capture_default_str();
  idx->add_option("--class-names", class_names, "Class names, in label order");
  PackCsvCommand pack_csv;
  add_pack_csv_command(*pack, pack_csv);
  // Label super-resolution benchmark (datasets/lsr_benchmark.h): Fashion-MNIST textures laid out as
  // regions, per-pixel labels, NLCD-like coarse block labels and their co-occurrence matrix.
  CLI::App* lsr = pack->add_subcommand(
      "lsr", "Generate a label super-resolution benchmark from Fashion-MNIST IDX files");
  ipm::LsrOptions lsr_opt;
  std::string lsr_dir;
  lsr->add_option("IDX_DIR", lsr_dir, "Directory with Fashion-MNIST train-/t10k- IDX files")
      ->required();
  lsr->add_option("-o,--output", out_file, "HDF5 file to write")->required();
  lsr->add_option("--train", lsr_opt.train, "Training images")->capture_default_str();
  lsr->add_option("--test", lsr_opt.test, "Test images")->capture_default_str();
  lsr->add_option("--size", lsr_opt.size, "Image side (pixels)")->capture_default_str();
  lsr->add_option("--block", lsr_opt.block, "Coarse block side (pixels), divides --size")
      ->capture_default_str();
  lsr->add_option("--regions", lsr_opt.regions, "At most this many regions per image")
      ->capture_default_str();
  lsr->add_option("--classes", lsr_opt.classes, "Fashion-MNIST classes used as fine classes: land classes, then the road class")
      ->delimiter(',')->capture_default_str();
  lsr->add_option("--seed", lsr_opt.seed, "Seed (the same options write the same file)")
      ->capture_default_str();
  lsr->add_flag("--color", lsr_opt.color,
                "3-channel images, each class's texture tinted by its own colour (datasets/lsr_benchmark.h)");

  CLI::App* export_cmd = app.add_subcommand(
      "export-prior", "Write a trained job's q(l|x) over splits as /<split>/prior of a new data "
                      "file (for prior.kind = \"stored\", §4.4-4.5)");
  std::string export_job, export_out;
  std::vector<std::string> export_splits = {"train"};
  export_cmd->add_option("JOB_DIR", export_job, "A job directory (config.toml, checkpoint.pt)")
      ->required();
  export_cmd->add_option("--split", export_splits, "Split(s) to write /prior for")
      ->capture_default_str();
  export_cmd->add_option("-o,--output", export_out, "HDF5 file to write")->required();
  SlurmCommand slurm;
  add_slurm_command(app, slurm);

  CLI::App* keys = app.add_subcommand(
      "keys", "Print every suite key (type, allowed values, default, help) as Markdown: "
              "the source of docs/keys.md");
  run->footer("Suite keys: `ipm-dist keys` (docs/keys.md).");

  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments reversed
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  // Under mpirun/srun every rank runs this; a plain start stays a single process.
  std::unique_ptr<ipm::MpiRuntime> mpi;
  Launch launch;
  int rank = 0;
  // Before MPI starts: a preemption signal from then on asks for a checkpoint, never kills.
  if (*run) ipm::install_stop_handlers();
  const bool under_mpirun = ipm::started_by_mpirun();  // before MPI_Init can export OMPI_*
  try {
    if (*run && ipm::launched_by_mpi()) {
      mpi = std::make_unique<ipm::MpiRuntime>(&argc, &argv);
      rank = mpi->world_rank();
      ipm::announce_interrupts(rank == 0);
      launch.world = std::make_unique<ipm::MpiCommunicator>(MPI_COMM_WORLD);
      launch.choose_backend = [](const std::string& b) {
        return ipm::choose_world_backend(b, MPI_COMM_WORLD);
      };
      launch.split = [&](int color, const ipm::GroupBackend& b) {
        MPI_Comm group;
        MPI_Comm_split(MPI_COMM_WORLD, color, rank, &group);
        return ipm::make_group_communicator(b, group);
      };
      launch.counter = [] { return std::make_unique<ipm::MpiWorkCounter>(MPI_COMM_WORLD); };
    } else {
      launch.world = std::make_unique<ipm::SingleProcessCommunicator>();
      launch.split = [](int, const ipm::GroupBackend& b) -> std::unique_ptr<ipm::Communicator> {
        if (!b.choice.cuda) return std::make_unique<ipm::SingleProcessCommunicator>();
        return std::make_unique<ipm::SingleProcessCommunicator>(
            torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(b.cuda_device)));
      };
      launch.counter = [] { return std::make_unique<ipm::LocalWorkCounter>(); };
      launch.choose_backend = [](const std::string& b) { return ipm::choose_group_backend(b, 0); };
    }
    if (*run) {
      ipm::check_launch_matches_slurm(under_mpirun, launch.world->size(), launch.world->rank());
      return run_command(suite_file, dry_run, progress_s, slice_text, launch);
    }
    if (*slurm.app) return run_slurm_command(slurm);
    if (*keys) {
      std::cout << ipm::keys_markdown();
      return 0;
    }
    if (*report) {
      std::cout << ipm::write_report(run_dir);
      return 0;
    }
    if (*export_cmd) {
      ipm::export_prior(export_job, export_splits, export_out);
      std::cout << "wrote " << export_out << "\n";
      return 0;
    }
    if (*idx) {
      ipm::pack_idx(idx_dir, out_file, num_classes, class_names);
      std::cout << "wrote " << out_file << "\n";
      return 0;
    }
    if (*pack_csv.app) return run_pack_csv_command(pack_csv);
    if (*lsr) {
      lsr_opt.idx_dir = lsr_dir;
      ipm::write_lsr_benchmark(lsr_opt, out_file);
      std::cout << "wrote " << out_file << "\n";
      return 0;
    }
  } catch (const std::exception& e) {
    if (mpi && mpi->world_size() > 1) {
      // The other ranks may be waiting in a collective: take the whole job down now.
      ipm::print_error_line("ipm-dist: rank " + std::to_string(rank) + ": error: " + e.what());
      ipm::MpiRuntime::abort(1);
    }
    ipm::print_error_line(std::string("ipm-dist: error: ") + e.what());
    return 1;
  }
  return 2;
}
