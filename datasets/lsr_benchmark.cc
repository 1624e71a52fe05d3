#include "datasets/lsr_benchmark.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <sstream>
#include <string>

#include <torch/torch.h>

#include "common/error.h"
#include "common/hash_rng.h"
#include "io/h5_writer.h"
#include "io/idx_file.h"

namespace ipm {
namespace {

constexpr int64_t kTile = 14;     // texture cell: a 28 x 28 image shrunk 2x (2x2 means)
constexpr int64_t kRoadMin = 2, kRoadMax = 4;  // road width, pixels

// --color: land-cover-like colours (RGB in [0, 1]) for the land classes in order (green,
// tan, blue, dark green, brown, ...), and grey for the road class.
constexpr double kLandColors[9][3] = {{0.35, 0.65, 0.30}, {0.75, 0.70, 0.40}, {0.30, 0.40, 0.75},
                                      {0.20, 0.45, 0.25}, {0.60, 0.45, 0.30}, {0.55, 0.75, 0.55},
                                      {0.45, 0.55, 0.80}, {0.80, 0.55, 0.45}, {0.70, 0.60, 0.70}};
constexpr double kRoadColor[3] = {0.60, 0.60, 0.60};
constexpr double kColorNoise = 0.1, kGainMin = 0.7, kGainMax = 1.3, kTintFloor = 0.3;

// A standard normal draw (Box-Muller on two uniforms; 1 - u keeps the log finite).
double normal(HashRng& rng) {
  const double u = 1.0 - rng.uniform(), v = rng.uniform();
  return std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * v);
}

const char* const kFashionNames[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                       "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

std::filesystem::path find_idx(const std::filesystem::path& dir, const std::string& stem) {
  for (const char* suffix : {".gz", ""}) {
    const std::filesystem::path p = dir / (stem + suffix);
    if (std::filesystem::exists(p)) return p;
  }
  throw Error((dir / (stem + ".gz")).string() + ": no such file");
}

// Images of each chosen class (indices into `images`), from one IDX pair.
struct Textures {
  torch::Tensor images;                      // uint8 [N, 28, 28]
  std::vector<std::vector<int64_t>> pool;    // per fine class
};

Textures load_textures(const std::filesystem::path& dir, const std::string& prefix,
                       const std::vector<int64_t>& classes) {
  const std::filesystem::path xf = find_idx(dir, prefix + "-images-idx3-ubyte");
  const std::filesystem::path yf = find_idx(dir, prefix + "-labels-idx1-ubyte");
  Textures t;
  const torch::Tensor full = read_idx(xf);
  const torch::Tensor labels = read_idx(yf);
  IPM_CHECK(full.dim() == 3 && full.size(1) == 2 * kTile && full.size(2) == 2 * kTile,
            xf.string() << ": expected [N, 28, 28] images, got " << full.sizes());
  // Shrunk 2x, so the FCN's 11 x 11 window sees most of an object's shape, not just a
  // patch of its flat interior or black background.
  t.images = full.to(torch::kFloat32)
                 .view({full.size(0), kTile, 2, kTile, 2})
                 .mean({2, 4})
                 .round()
                 .to(torch::kUInt8)
                 .contiguous();
  IPM_CHECK(labels.dim() == 1 && labels.size(0) == t.images.size(0),
            yf.string() << ": " << labels.sizes() << " labels for " << t.images.size(0)
                        << " images");
  t.pool.resize(classes.size());
  auto lab = labels.accessor<uint8_t, 1>();
  for (int64_t i = 0; i < labels.size(0); ++i) {
    for (size_t l = 0; l < classes.size(); ++l) {
      if (lab[i] == classes[l]) t.pool[l].push_back(i);
    }
  }
  for (size_t l = 0; l < classes.size(); ++l) {
    IPM_CHECK(!t.pool[l].empty(), yf.string() << ": no image of class " << classes[l]);
  }
  return t;
}

// --color (io/pack_lsr.h): x [3, S, S] whose channel 0 holds the grey texture on entry,
// y [S, S] the fine labels; L - 1 is the road class.
void tint(const torch::Tensor& x, const torch::Tensor& y, int64_t L, HashRng& rng) {
  auto xa = x.accessor<uint8_t, 3>();
  auto ya = y.accessor<int64_t, 2>();
  const double gain = kGainMin + (kGainMax - kGainMin) * rng.uniform();
  for (int64_t u = 0; u < x.size(1); ++u) {
    for (int64_t v = 0; v < x.size(2); ++v) {
      const int64_t l = ya[u][v];
      const double* colour = l == L - 1 ? kRoadColor : kLandColors[l];
      const double t = kTintFloor + (1.0 - kTintFloor) * xa[0][u][v] / 255.0;
      for (int64_t ch = 0; ch < 3; ++ch) {
        const double value = gain * t * colour[ch] + kColorNoise * normal(rng);
        xa[ch][u][v] = static_cast<uint8_t>(std::lround(255.0 * std::clamp(value, 0.0, 1.0)));
      }
    }
  }
}

struct Split {
  torch::Tensor x, y, coarse;  // uint8 [N,C,S,S] (C = 1, or 3 with --color), int64 [N,S,S],
                               // int32 [N,S/b,S/b]
};

Split make_split(const LsrOptions& o, const Textures& tex, uint64_t stream, int64_t n) {
  const int64_t S = o.size, L = static_cast<int64_t>(o.classes.size()), nb = S / o.block;
  const int64_t channels = o.color ? 3 : 1;
  Split s{torch::zeros({n, channels, S, S}, torch::kUInt8),
          torch::zeros({n, S, S}, torch::kInt64), torch::zeros({n, nb, nb}, torch::kInt32)};
  auto img = tex.images.accessor<uint8_t, 3>();
  auto x = s.x.accessor<uint8_t, 4>();
  auto y = s.y.accessor<int64_t, 3>();
  auto c = s.coarse.accessor<int32_t, 3>();
  const int64_t cells = (S + kTile - 1) / kTile;
  for (int64_t i = 0; i < n; ++i) {
    HashRng rng(o.seed, stream, static_cast<uint64_t>(i));
    // Regions: Voronoi cells of k seed points, each with a random land class (0..L-2).
    const int64_t k = 2 + static_cast<int64_t>(rng.below(static_cast<uint64_t>(o.regions - 1)));
    std::vector<double> pr(k), pc(k);
    std::vector<int64_t> cls(k);
    for (int64_t j = 0; j < k; ++j) {
      pr[j] = rng.uniform() * S;
      pc[j] = rng.uniform() * S;
      cls[j] = static_cast<int64_t>(rng.below(static_cast<uint64_t>(L - 1)));
    }
    // Roads (class L-1): 1..3 straight strips, horizontal or vertical, kRoadMin..kRoadMax wide.
    const int64_t roads = 1 + static_cast<int64_t>(rng.below(3));
    std::vector<int64_t> road_vertical(roads), road_at(roads), road_width(roads);
    for (int64_t j = 0; j < roads; ++j) {
      road_vertical[j] = static_cast<int64_t>(rng.below(2));
      road_width[j] = kRoadMin + static_cast<int64_t>(rng.below(kRoadMax - kRoadMin + 1));
      road_at[j] = static_cast<int64_t>(rng.below(static_cast<uint64_t>(S - road_width[j] + 1)));
    }
    // Texture source per (cell, class): a random image of that class.
    std::vector<int64_t> src(static_cast<size_t>(cells * cells * L));
    for (int64_t cell = 0; cell < cells * cells; ++cell) {
      for (int64_t l = 0; l < L; ++l) {
        const auto& pool = tex.pool[static_cast<size_t>(l)];
        src[cell * L + l] = pool[rng.below(pool.size())];
      }
    }
    for (int64_t u = 0; u < S; ++u) {
      for (int64_t v = 0; v < S; ++v) {
        int64_t best = 0;
        double best_d = 1e300;
        for (int64_t j = 0; j < k; ++j) {
          const double d = (u + 0.5 - pr[j]) * (u + 0.5 - pr[j]) + (v + 0.5 - pc[j]) * (v + 0.5 - pc[j]);
          if (d < best_d) best_d = d, best = j;
        }
        int64_t l = cls[best];
        for (int64_t j = 0; j < roads; ++j) {
          const int64_t t = road_vertical[j] ? v : u;
          if (t >= road_at[j] && t < road_at[j] + road_width[j]) l = L - 1;
        }
        const int64_t cell = (u / kTile) * cells + v / kTile;
        y[i][u][v] = l;
        x[i][0][u][v] = img[src[cell * L + l]][u % kTile][v % kTile];
      }
    }
    // Tinting draws after the layout's draws, so the layout is the grey file's.
    if (o.color) tint(s.x[i], s.y[i], L, rng);
    // Coarse labels, per block: the dominant land class and the road fraction's bin.
    for (int64_t bu = 0; bu < nb; ++bu) {
      for (int64_t bv = 0; bv < nb; ++bv) {
        std::vector<int64_t> count(static_cast<size_t>(L), 0);
        for (int64_t u = bu * o.block; u < (bu + 1) * o.block; ++u) {
          for (int64_t v = bv * o.block; v < (bv + 1) * o.block; ++v) ++count[y[i][u][v]];
        }
        c[i][bu][bv] = static_cast<int32_t>(lsr_coarse_class(count));
      }
    }
  }
  return s;
}

// p(l | c) counted over a split's pixels: float32 [C, L].
torch::Tensor cooccurrence(const Split& s, int64_t block, int64_t L) {
  const int64_t C = kLsrCoarseBins * (L - 1);
  // Coarse label per pixel: each cell repeated over its block.
  const torch::Tensor per_pixel = s.coarse.to(torch::kInt64)
                                      .repeat_interleave(block, 1)
                                      .repeat_interleave(block, 2);
  const torch::Tensor counts =
      torch::bincount((per_pixel * L + s.y).flatten(), {}, C * L).view({C, L}).to(torch::kFloat64);
  torch::Tensor rows = counts.sum(1, true);
  torch::Tensor p = counts / rows.clamp_min(1.0);
  for (int64_t c = 0; c < C; ++c) {
    if (rows[c][0].item<double>() == 0.0) {
      std::cerr << "ipm-dist pack lsr: note: coarse class " << c
                << " never occurs in the training split; its co-occurrence row is uniform\n";
      p[c].fill_(1.0 / static_cast<double>(L));
    }
  }
  return p.to(torch::kFloat32);
}

}  // namespace

int64_t lsr_coarse_class(const std::vector<int64_t>& count) {
  const int64_t L = static_cast<int64_t>(count.size());
  int64_t total = 0;
  for (const int64_t n : count) total += n;
  // Ties go to the lowest class; a block that is all road gets land class 0.
  const int64_t d = std::max_element(count.begin(), count.end() - 1) - count.begin();
  const double road = static_cast<double>(count[L - 1]) / static_cast<double>(std::max<int64_t>(total, 1));
  const int64_t bin = road == 0.0 ? 0 : (road < kLsrRoadHigh ? 1 : 2);
  return kLsrCoarseBins * d + bin;
}

void write_lsr_benchmark(const LsrOptions& o, const std::filesystem::path& out) {
  IPM_CHECK(std::filesystem::is_directory(o.idx_dir), o.idx_dir.string() << ": not a directory");
  IPM_CHECK(o.train >= 1 && o.test >= 1, "--train and --test must be >= 1");
  IPM_CHECK(o.size >= kRoadMax, "--size " << o.size << " must be >= " << kRoadMax
                                           << " (the widest road strip)");
  IPM_CHECK(o.size >= 1 && o.block >= 1 && o.size % o.block == 0,
            "--block " << o.block << " must divide --size " << o.size
                       << " (coarse blocks tile the image)");
  IPM_CHECK(o.regions >= 2, "--regions must be >= 2, got " << o.regions);
  IPM_CHECK(o.classes.size() >= 3,
            "--classes needs at least 3 Fashion-MNIST classes (land classes, then the road class)");
  for (size_t a = 0; a < o.classes.size(); ++a) {
    IPM_CHECK(o.classes[a] >= 0 && o.classes[a] <= 9,
              "--classes: " << o.classes[a] << " is not a Fashion-MNIST class (0..9)");
    for (size_t b = 0; b < a; ++b) {
      IPM_CHECK(o.classes[a] != o.classes[b], "--classes: " << o.classes[a] << " is repeated");
    }
  }
  const int64_t L = static_cast<int64_t>(o.classes.size());
  const Textures train_tex = load_textures(o.idx_dir, "train", o.classes);
  const Textures test_tex = load_textures(o.idx_dir, "t10k", o.classes);
  const Split train = make_split(o, train_tex, kStreamLsrTrain, o.train);
  const Split test = make_split(o, test_tex, kStreamLsrTest, o.test);

  std::vector<std::string> names;
  std::ostringstream src;
  src << "lsr: fashion-mnist " << std::filesystem::absolute(o.idx_dir).string() << "; classes";
  for (const int64_t c : o.classes) {
    names.push_back(kFashionNames[c]);
    src << " " << c;
  }
  if (o.color) src << "; color (tinted textures)";
  src << "; size " << o.size << "; block " << o.block << "; regions " << o.regions << "; seed "
      << o.seed << "; road class " << L - 1 << "; coarse c = 3 * dominant land class + "
      << "bin(road fraction = 0, < " << kLsrRoadHigh << ", >= " << kLsrRoadHigh << ")";
  H5Writer w(out);
  w.write_split("train", train.x, train.y);
  w.add_dataset("/train/coarse", train.coarse);
  w.write_split("test", test.x, test.y);
  w.add_dataset("/test/coarse", test.coarse);
  w.add_dataset("/cooccurrence", cooccurrence(train, o.block, L));
  w.set_attributes(L, names, src.str());
  w.commit();
}

}  // namespace ipm
