#include "io/pack_idx.h"

#include "common/error.h"
#include "io/h5_writer.h"
#include "io/idx_file.h"

namespace ipm {
namespace {

std::filesystem::path find_idx(const std::filesystem::path& dir, const std::string& stem) {
  for (const char* suffix : {".gz", ""}) {
    const std::filesystem::path p = dir / (stem + suffix);
    if (std::filesystem::exists(p)) return p;
  }
  throw Error((dir / (stem + ".gz")).string() + ": no such file");
}

void read_pair(const std::filesystem::path& dir, const std::string& prefix, int64_t num_classes,
               torch::Tensor& x, torch::Tensor& y) {
  const std::filesystem::path xf = find_idx(dir, prefix + "-images-idx3-ubyte");
  const std::filesystem::path yf = find_idx(dir, prefix + "-labels-idx1-ubyte");
  const torch::Tensor images = read_idx(xf), labels = read_idx(yf);
  IPM_CHECK(images.dim() == 3, xf.string() << ": expected [N, H, W] images, got "
                                           << images.sizes());
  IPM_CHECK(labels.dim() == 1, yf.string() << ": expected [N] labels, got " << labels.sizes());
  IPM_CHECK(images.size(0) == labels.size(0), xf.string() << " has " << images.size(0)
                                                           << " images but " << yf.string()
                                                           << " has " << labels.size(0)
                                                           << " labels");
  const int64_t top = labels.max().item<int64_t>();
  IPM_CHECK(top < num_classes, yf.string() << ": label " << top << " >= num_classes "
                                           << num_classes);
  x = images.unsqueeze(1);  // [N, 1, H, W]
  y = labels.to(torch::kInt64);
}

}  // namespace

void pack_idx(const std::filesystem::path& dir, const std::filesystem::path& out,
              int64_t num_classes, const std::vector<std::string>& class_names) {
  IPM_CHECK(std::filesystem::is_directory(dir), dir.string() << ": not a directory");
  IPM_CHECK(class_names.empty() || static_cast<int64_t>(class_names.size()) == num_classes,
            "--class-names has " << class_names.size() << " names for " << num_classes
                                 << " classes");
  torch::Tensor xtr, ytr, xte, yte;
  read_pair(dir, "train", num_classes, xtr, ytr);
  read_pair(dir, "t10k", num_classes, xte, yte);
  H5Writer w(out);
  w.write_split("train", xtr, ytr);
  w.write_split("test", xte, yte);
  w.set_attributes(num_classes, class_names, "idx:" + std::filesystem::absolute(dir).string());
  w.commit();
}

}  // namespace ipm
