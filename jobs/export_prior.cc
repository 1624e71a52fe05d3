#include "jobs/export_prior.h"

#include <algorithm>
#include <memory>

#include "common/error.h"
#include "io/h5_split.h"
#include "io/h5_writer.h"
#include "io/row_chunks.h"
#include "jobs/suite.h"
#include "priors/prior_check.h"
#include "trainer/checkpoint.h"
#include "trainer/small_cnn.h"
#include "trainer/task.h"
#include "trainer/train_common.h"

namespace ipm {
namespace {

constexpr int64_t kChunk = 1000;

// x as stored (uint8 stays uint8: x() gives v / 255 in float32, which rounds back exactly),
// y, and, when model is given, q = softmax(model(x)) in float32 rows renormalized in float64.
struct SplitData {
  torch::Tensor x, y, prior;
};

SplitData read_split(const H5Split& s, torch::nn::AnyModule* model, torch::ScalarType dtype) {
  std::vector<torch::Tensor> xs, ys, ps;
  torch::NoGradGuard no_grad;
  for_each_row_chunk(0, s.size(), kChunk, [&](const std::vector<int64_t>& rows) {
    const torch::Tensor x = s.x(rows);
    xs.push_back(s.x_is_uint8() ? x.mul(255.0).round().to(torch::kUInt8) : x);
    ys.push_back(s.y(rows));
    if (model != nullptr) {
      const torch::Tensor logits = model->forward(to_model_layout(x.to(dtype)));
      const torch::Tensor q = torch::softmax(logits.to(torch::kFloat64), 1);
      ps.push_back((q / q.sum(1, true)).to(torch::kFloat32));
    }
  });
  SplitData d{torch::cat(xs), torch::cat(ys), {}};
  if (model != nullptr) {
    d.prior = torch::cat(ps);
    validate_prior(d.prior, s.num_classes(), s.where() + " (exported prior)");
  }
  return d;
}

}  // namespace

void export_prior(const std::filesystem::path& job_dir, const std::vector<std::string>& splits,
                  const std::filesystem::path& out_file) {
  const std::filesystem::path cfg = job_dir / "config.toml", ckpt = job_dir / "checkpoint.pt";
  IPM_CHECK(std::filesystem::exists(cfg),
            cfg.string() << ": not found (JOB_DIR must be a job directory of `ipm-dist run`)");
  IPM_CHECK(std::filesystem::exists(ckpt),
            ckpt.string() << ": not found (the job has not finished an epoch)");
  IPM_CHECK(!splits.empty(), "export-prior: no --split given");
  const Suite suite = load_suite(cfg);
  IPM_CHECK(suite.jobs.size() == 1, cfg.string() << ": expected one job, found "
                                                 << suite.jobs.size());
  const JobSpec& spec = suite.jobs.front().spec;
  std::error_code ec;
  IPM_CHECK(!std::filesystem::equivalent(out_file, spec.data.file, ec),
            out_file.string() << ": is the job's own data file; write the prior to a new file");

  // The job's final model, as train_job built it.
  const H5Split train(spec.data.file, spec.data.train, /*preload=*/false);
  // Per-image priors only: a segmentation job's q is [N, L, H, W].
  IPM_CHECK(task_kind(spec) != TaskKind::kSegmentation,
            train.where() << ": export-prior writes per-image priors; this job's labels are "
                             "per pixel (segmentation), which it does not support");
  torch::nn::AnyModule model =
      make_model(spec.arch, train.sample_shape(), train.num_classes(), spec.model_width);
  torch::nn::Module& net = *model.ptr();
  const torch::ScalarType dtype = training_dtype(spec.train);
  net.to(dtype);
  const auto opt = make_optimizer(spec.train, net.parameters());  // its state is read, unused
  load_checkpoint(ckpt, net, *opt);
  net.eval();

  std::vector<std::string> all = {spec.data.train, spec.data.test};
  for (const auto& s : splits) {
    if (std::find(all.begin(), all.end(), s) == all.end()) all.push_back(s);
  }
  H5Writer out(out_file);
  int64_t num_classes = 0;
  for (const auto& name : all) {
    const H5Split split(spec.data.file, name, /*preload=*/false);
    IPM_CHECK(split.sample_shape() == train.sample_shape(),
              split.where() << ": sample shape differs from " << train.where());
    const bool with_prior = std::find(splits.begin(), splits.end(), name) != splits.end();
    const SplitData d = read_split(split, with_prior ? &model : nullptr, dtype);
    out.write_split(name, d.x, d.y, d.prior);
    num_classes = split.num_classes();
  }
  out.set_attributes(num_classes, {},
                     "ipm-dist export-prior " + job_dir.string() + " (job " + spec.name + ")");
  out.commit();
}

}  // namespace ipm
