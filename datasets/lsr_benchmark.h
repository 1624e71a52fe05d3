// A synthetic label super-resolution benchmark built from real textures, with no download
// (§4.3's setting, NLCD-like coarse labels, on Fashion-MNIST pixels); `ipm-dist pack lsr`
// writes it.
// defines: ipm::LsrOptions, ipm::write_lsr_benchmark, ipm::lsr_coarse_class,
//          ipm::kLsrCoarseBins, ipm::kLsrRoadHigh
//
// Each image is a size x size canvas, laid out like land cover: regions (a Voronoi partition
// of 2..regions random seed points) of the "land" classes 0..L-2, crossed by 1..3 straight
// "roads" 2..4 pixels wide (horizontal or vertical) of class L-1, the last of `classes`.
// Fine label l = position in `classes`. Every class is filled with real texture: the canvas
// is tiled with 14 x 14 cells, and a cell's pixels of class l come from a random
// Fashion-MNIST image of that class shrunk to 14 x 14 (means of 2 x 2 pixels). Training images use the IDX train set,
// test images the t10k set (unseen textures).
//
// --color: like aerial imagery, whose bands tell land covers apart, each class's texture is
// tinted by a colour of its own (3 channels): pixel = clip(g * (0.3 + 0.7 t) * colour_l + n),
// t the texture value in [0, 1], g ~ U(0.7, 1.3) per image (illumination), n ~ N(0, 0.1)
// per channel; land colours from a land-cover-like palette, the road grey. Grey textures
// alone leave the strongest visual clusters (dark background vs. bright garment) unrelated
// to the class, and the exact QR / RQ of Eq. 4 cluster by them (docs/segmentation.md). The
// layout, labels, coarse labels and co-occurrence are those of the grey file with the same
// options.
//
// Coarse labels, like NLCD's "developed, low / medium / high intensity" classes: each
// block x block block gets
//   c = kLsrCoarseBins * d + bin,  d = the most frequent land class (ties: lowest),
//   bin = 0 if the block has no road pixel, 1 if the road fraction is < kLsrRoadHigh, 2 else,
// so C = 3 (L - 1) coarse classes. Roads are thin, so they are (almost) never the most
// probable class of a block: the hard naive baseline cannot predict them, and p(l | c) says
// only "this much road somewhere in the block" - what label super-resolution must resolve.
// The co-occurrence matrix p(l | c) is counted over the training split's pixels (a coarse
// class absent from it gets a uniform row, with a note on stderr).
//
// File (io/h5_split.h layout): /train, /test with x uint8 [N, 1, S, S] ([N, 3, S, S] with
// --color), y int64 [N, S, S],
// coarse int32 [N, S/block, S/block]; /cooccurrence float32 [C, L] (rows p(l | c));
// attributes num_classes = L, class_names, source (every option). Deterministic in the
// options: the same command writes the same data. Written atomically.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace ipm {

constexpr int64_t kLsrCoarseBins = 3;
constexpr double kLsrRoadHigh = 0.2;

struct LsrOptions {
  std::filesystem::path idx_dir;             // Fashion-MNIST IDX files
  int64_t train = 1000, test = 300;          // images per split
  int64_t size = 32;                         // canvas side, pixels
  int64_t block = 16;                        // coarse block side; must divide size
  int64_t regions = 8;                       // at most this many regions per image (>= 2)
  // Fashion-MNIST classes = fine classes: land classes, then the road class (last).
  std::vector<int64_t> classes = {2, 7, 8, 1};
  uint64_t seed = 0;
  bool color = false;                        // tint each class's texture (above)
};

// Generates the benchmark (random streams kStreamLsrTrain / kStreamLsrTest of
// common/hash_rng.h, one generator per image) and writes it to `out`.
void write_lsr_benchmark(const LsrOptions& o, const std::filesystem::path& out);

// The coarse class of a block from its per-class pixel counts [L] (the rule above).
int64_t lsr_coarse_class(const std::vector<int64_t>& count);

}  // namespace ipm
