#include "trainer/checkpoint.h"

#include "common/atomic_file.h"
#include "common/error.h"

namespace ipm {

void save_checkpoint(const std::filesystem::path& file, torch::nn::Module& model,
                     torch::optim::Optimizer& opt, const TrainState& state) {
  torch::serialize::OutputArchive archive, model_archive, opt_archive;
  model.save(model_archive);
  opt.save(opt_archive);
  archive.write("model", model_archive);
  archive.write("optimizer", opt_archive);
  archive.write("epochs_done", c10::IValue(state.epochs_done));
  archive.write("metrics", metrics_to_tensor(state.metrics));
  archive.write("has_ema", c10::IValue(state.ema.running_mean.defined()));
  if (state.ema.running_mean.defined()) {
    archive.write("ema_running", state.ema.running_mean);
    archive.write("ema_steps", c10::IValue(state.ema.steps));
  }
  archive.write("steps_done", c10::IValue(state.steps_done));
  if (state.steps_done > 0) archive.write("partial", state.partial);
  AtomicPath out(file);
  archive.save_to(out.tmp().string());
  out.commit();
}

TrainState load_checkpoint(const std::filesystem::path& file, torch::nn::Module& model,
                           torch::optim::Optimizer& opt) {
  TrainState state;
  try {
    torch::serialize::InputArchive archive, model_archive, opt_archive;
    // Tensors land where the model lives: a checkpoint written on a GPU resumes on a CPU
    // and the other way round.
    const auto params = model.parameters();
    archive.load_from(file.string(), params.empty() ? torch::Device(torch::kCPU)
                                                    : params.front().device());
    archive.read("model", model_archive);
    archive.read("optimizer", opt_archive);
    model.load(model_archive);
    opt.load(opt_archive);
    c10::IValue v;
    archive.read("epochs_done", v);
    state.epochs_done = v.toInt();
    torch::Tensor metrics;
    archive.read("metrics", metrics);
    state.metrics = metrics_from_tensor(metrics.cpu());
    archive.read("has_ema", v);
    if (v.toBool()) {
      archive.read("ema_running", state.ema.running_mean);
      archive.read("ema_steps", v);
      state.ema.steps = v.toInt();
    }
    // Checkpoints from before mid-epoch stops have neither: they are epoch boundaries.
    if (archive.try_read("steps_done", v)) state.steps_done = v.toInt();
    if (state.steps_done > 0) archive.read("partial", state.partial);
  } catch (const c10::Error& e) {
    throw Error(file.string() + ": cannot resume from this checkpoint (" +
                std::string(e.what_without_backtrace()) +
                "); delete it to start the job over");
  }
  IPM_CHECK(state.epochs_done >= 0 &&
                static_cast<size_t>(state.epochs_done) == state.metrics.size(),
            file.string() << ": inconsistent checkpoint (" << state.epochs_done
                          << " epochs, " << state.metrics.size() << " metrics rows)");
  IPM_CHECK(state.steps_done >= 0 && (state.steps_done == 0 || state.partial.dim() == 2),
            file.string() << ": inconsistent checkpoint (" << state.steps_done
                          << " steps into an epoch without partial sums)");
  return state;
}

}  // namespace ipm
