// Tests of io/ (h5_split.h, h5_writer.h, idx_file.h, pack_idx.h, pack_csv.h):
//   * H5Writer -> H5Split round trips of x (uint8 scaled by 1/255, float32 as stored), y and
//     prior for [N, C, H, W] and [N, D] data, y int32 and [N, H, W]; num_classes; preload_bytes;
//   * any row subset (unsorted, duplicates, runs, single, empty, all) equals indexing the
//     original tensor, with and without preload, across several HDF5 chunks;
//   * errors name the file and what is at fault: missing file, garbage, truncated HDF5,
//     missing split / dataset / attribute, mismatched rows, bad prior shape, bad labels, rows
//     out of range;
//   * rows appended in blocks (H5Writer::append_rows) across chunk boundaries read back as
//     one write;
//   * the writer is atomic: nothing at the target before commit(), nothing at all (no
//     temporary) when destroyed without commit();
//   * read_idx on gzip and plain IDX files written here with zlib, and its errors;
//   * epoch_order: exact is shuffled_order; chunked is a permutation every epoch (each row
//     once, also with a partial last chunk), a pure function of (seed, epoch, n, chunk,
//     window) that differs across epochs and seeds, and every window of its positions holds
//     the rows of exactly `window` chunks; H5Split::chunk_rows is the writer's chunk;
//   * pack_idx: a directory of IDX files reads back exactly through H5Split; bad labels,
//     mismatched counts and missing files are errors and leave no output file;
//   * pack_csv: the CSV fixture (tests/data/csv) reads back exactly (values, labels, shapes,
//     class names), label column by name or from the end, float storage; every bad CSV is
//     refused with its file and line and leaves no output file.
#include <unistd.h>
#include <zlib.h>

#include <hdf5.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/test_util.h"  // ErrorOf, EXPECT_CONTAINS
#include "common/error.h"
#include "common/hash_rng.h"
#include "io/epoch_order.h"
#include "io/h5_split.h"
#include "io/h5_writer.h"
#include "io/idx_file.h"
#include "io/pack_csv.h"
#include "io/pack_idx.h"

namespace {

namespace fs = std::filesystem;
using torch::Tensor;

// ---------------------------------------------------------------------------------------------
// Helpers


// Every test gets its own empty directory, removed afterwards.
class IoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("ipm_io_test_" + std::to_string(::getpid()) + "_" +
                                        info->test_suite_name() + "_" + info->name());
    fs::remove_all(dir_);
    ASSERT_TRUE(fs::create_directories(dir_));
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // Names of the entries in dir (for "no stray temporary file" checks).
  static std::vector<std::string> Entries(const fs::path& dir) {
    std::vector<std::string> v;
    for (const auto& e : fs::directory_iterator(dir)) v.push_back(e.path().filename().string());
    std::sort(v.begin(), v.end());
    return v;
  }
  fs::path dir_;
};

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + " ";
  return s;
}

struct SplitData {
  Tensor x, y, prior;
};

// uint8 images [N, C, H, W], labels in 0..L-1, softmax priors [N, L].
SplitData ImageData(int64_t n, int64_t c, int64_t h, int64_t w, int64_t num_classes,
                    uint64_t seed) {
  torch::manual_seed(seed);
  SplitData d;
  d.x = torch::randint(0, 256, {n, c, h, w}, torch::kUInt8);
  d.y = torch::randint(0, num_classes, {n}, torch::kInt64);
  d.prior = torch::softmax(torch::randn({n, num_classes}), 1);
  return d;
}

void WriteFile(const fs::path& file, const std::vector<std::pair<std::string, SplitData>>& splits,
               int64_t num_classes) {
  ipm::H5Writer w(file);
  for (const auto& [name, d] : splits) w.write_split(name, d.x, d.y, d.prior);
  w.set_attributes(num_classes, {}, "test");
  w.commit();
}

Tensor Rows(const std::vector<int64_t>& rows) { return torch::tensor(rows, torch::kInt64); }

// x as H5Split returns it: float32, uint8 scaled by 1/255.
Tensor AsRead(const Tensor& x) {
  return x.scalar_type() == torch::kUInt8 ? x.to(torch::kFloat32) / 255.0f : x;
}

::testing::AssertionResult SameTensor(const Tensor& actual, const Tensor& expected) {
  if (actual.scalar_type() != expected.scalar_type()) {
    return ::testing::AssertionFailure()
           << "dtype " << actual.scalar_type() << " != " << expected.scalar_type();
  }
  if (actual.sizes() != expected.sizes()) {
    return ::testing::AssertionFailure()
           << "shape " << actual.sizes() << " != " << expected.sizes();
  }
  if (!torch::equal(actual, expected)) {
    return ::testing::AssertionFailure()
           << "values differ, max |diff| "
           << (actual.to(torch::kFloat64) - expected.to(torch::kFloat64)).abs().max().item<double>();
  }
  return ::testing::AssertionSuccess();
}

// Minimal raw HDF5 writing, for files H5Writer refuses to make.
class RawH5 {
 public:
  explicit RawH5(const fs::path& p)
      : f_(H5Fcreate(p.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)) {
    EXPECT_GE(f_, 0);
  }
  ~RawH5() { H5Fclose(f_); }
  void Group(const std::string& g) {
    const hid_t id = H5Gcreate2(f_, g.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    EXPECT_GE(id, 0);
    H5Gclose(id);
  }
  void Dataset(const std::string& path, const Tensor& t) {
    const Tensor c = t.contiguous();
    hid_t ftype, mtype;
    switch (c.scalar_type()) {
      case torch::kUInt8: ftype = H5T_STD_U8LE; mtype = H5T_NATIVE_UINT8; break;
      case torch::kFloat32: ftype = H5T_IEEE_F32LE; mtype = H5T_NATIVE_FLOAT; break;
      case torch::kFloat64: ftype = H5T_IEEE_F64LE; mtype = H5T_NATIVE_DOUBLE; break;
      case torch::kInt64: ftype = H5T_STD_I64LE; mtype = H5T_NATIVE_INT64; break;
      case torch::kInt32: ftype = H5T_STD_I32LE; mtype = H5T_NATIVE_INT32; break;
      default: FAIL() << "unsupported dtype"; return;
    }
    std::vector<hsize_t> dims(c.sizes().begin(), c.sizes().end());
    const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    const hid_t d = H5Dcreate2(f_, path.c_str(), ftype, space, H5P_DEFAULT, H5P_DEFAULT,
                               H5P_DEFAULT);
    ASSERT_GE(d, 0) << path;
    EXPECT_GE(H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, c.data_ptr()), 0);
    H5Dclose(d);
    H5Sclose(space);
  }
  void NumClasses(int64_t n) {
    const hid_t s = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(f_, "num_classes", H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT);
    EXPECT_GE(H5Awrite(a, H5T_NATIVE_INT64, &n), 0);
    H5Aclose(a);
    H5Sclose(s);
  }

 private:
  hid_t f_;
};

std::string ReadBytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void WriteBytes(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(f.good());
}

// ---------------------------------------------------------------------------------------------
// H5Writer -> H5Split round trips

TEST_F(IoTest, RoundTripUint8ImagesLabelsAndPrior) {
  const fs::path file = dir_ / "img.h5";
  const SplitData tr = ImageData(37, 2, 5, 3, 10, 1), te = ImageData(11, 2, 5, 3, 10, 2);
  WriteFile(file, {{"train", tr}, {"test", te}}, 10);
  for (const bool preload : {false, true}) {
    SCOPED_TRACE(preload ? "preload" : "no preload");
    for (const auto& [name, d] : {std::pair{"train", tr}, std::pair{"test", te}}) {
      const ipm::H5Split s(file, name, preload);
      const int64_t n = d.x.size(0);
      EXPECT_EQ(s.size(), n);
      EXPECT_EQ(s.num_classes(), 10);
      EXPECT_EQ(s.sample_shape(), (std::vector<int64_t>{2, 5, 3}));
      EXPECT_TRUE(s.has_prior());
      EXPECT_CONTAINS(s.where(), file.string());
      EXPECT_CONTAINS(s.where(), name);
      std::vector<int64_t> all(static_cast<size_t>(n));
      std::iota(all.begin(), all.end(), int64_t{0});
      const Tensor x = s.x(all);
      EXPECT_TRUE(SameTensor(x, d.x.to(torch::kFloat32) / 255.0f));
      // Spot check the scaling independently of torch's division.
      EXPECT_FLOAT_EQ(x[3][1][4][2].item<float>(),
                      static_cast<float>(d.x[3][1][4][2].item<uint8_t>()) / 255.0f);
      EXPECT_GE(x.min().item<float>(), 0.0f);
      EXPECT_LE(x.max().item<float>(), 1.0f);
      EXPECT_TRUE(SameTensor(s.y(all), d.y));
      EXPECT_TRUE(SameTensor(s.prior(all), d.prior));
    }
  }
}

TEST_F(IoTest, RoundTripFloatVectorsStoredAsIs) {
  const fs::path file = dir_ / "vec.h5";
  torch::manual_seed(3);
  SplitData d;
  d.x = torch::randn({29, 7}) * 1000.0;  // negative and > 1: no scaling may happen
  d.y = torch::randint(0, 3, {29}, torch::kInt64);
  WriteFile(file, {{"train", d}}, 3);
  for (const bool preload : {false, true}) {
    const ipm::H5Split s(file, "train", preload);
    EXPECT_EQ(s.size(), 29);
    EXPECT_EQ(s.num_classes(), 3);
    EXPECT_EQ(s.sample_shape(), (std::vector<int64_t>{7}));
    EXPECT_FALSE(s.has_prior());
    const std::vector<int64_t> rows = {28, 0, 13, 13, 1};
    EXPECT_TRUE(SameTensor(s.x(rows), d.x.index_select(0, Rows(rows))));
    EXPECT_TRUE(SameTensor(s.y(rows), d.y.index_select(0, Rows(rows))));
    const std::string msg = ErrorOf([&] { s.prior(rows); });
    EXPECT_CONTAINS(msg, file.string());
    EXPECT_CONTAINS(msg, "prior");
  }
}

TEST_F(IoTest, RoundTripInt32LabelsAndSegmentationMaps) {
  const fs::path file = dir_ / "seg.h5";
  torch::manual_seed(4);
  SplitData d;
  d.x = torch::rand({9, 3, 4, 6});
  d.y = torch::randint(0, 5, {9, 4, 6}, torch::kInt32);
  d.prior = torch::softmax(torch::randn({9, 5, 4, 6}), 1);
  WriteFile(file, {{"train", d}}, 5);
  for (const bool preload : {false, true}) {
    const ipm::H5Split s(file, "train", preload);
    const std::vector<int64_t> rows = {8, 2, 2, 5, 6, 7};
    EXPECT_TRUE(SameTensor(s.x(rows), d.x.index_select(0, Rows(rows))));
    EXPECT_TRUE(SameTensor(s.y(rows), d.y.to(torch::kInt64).index_select(0, Rows(rows))));
    EXPECT_TRUE(SameTensor(s.prior(rows), d.prior.index_select(0, Rows(rows))));
  }
}

TEST_F(IoTest, ArbitraryRowSubsetsMatchIndexingTheOriginal) {
  // Rows of 3*32*32 uint8 and of 4*32*32 float32 prior-free data: several HDF5 chunks each.
  const fs::path file = dir_ / "rows.h5";
  const SplitData u8 = ImageData(200, 3, 32, 32, 10, 5);
  torch::manual_seed(6);
  SplitData f32;
  f32.x = torch::randn({70, 3, 32, 32});
  f32.y = torch::randint(0, 10, {70}, torch::kInt64);
  f32.prior = torch::softmax(torch::randn({70, 10}), 1);
  WriteFile(file, {{"u8", u8}, {"f32", f32}}, 10);

  for (const auto& [name, d] : {std::pair{"u8", u8}, std::pair{"f32", f32}}) {
    const int64_t n = d.x.size(0);
    std::vector<std::vector<int64_t>> subsets = {
        {5, 3, 3, n - 1, 0, 21, 20, 22, 5},  // unsorted, duplicates
        {9, 2, 30, 1, 50},                   // unsorted, distinct
        {10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30},
        {7},
        {n - 1},
        {0, 0, 0},
        {},
        {1, 2, 3, 40, 41, 42, 60, 61, 2},  // runs across chunks, out of order
    };
    std::vector<int64_t> all_rev(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) all_rev[static_cast<size_t>(i)] = n - 1 - i;
    subsets.push_back(all_rev);
    std::vector<int64_t> random;
    for (int64_t i = 0; i < 3 * n; ++i) random.push_back((i * 7919 + 13) % n);
    subsets.push_back(random);

    for (const bool preload : {false, true}) {
      const ipm::H5Split s(file, name, preload);
      ASSERT_EQ(s.size(), n);
      for (const auto& rows : subsets) {
        SCOPED_TRACE(std::string(name) + (preload ? " preload" : "") + " rows " +
                     std::to_string(rows.size()) + " first " +
                     (rows.empty() ? "-" : std::to_string(rows[0])));
        const Tensor idx = Rows(rows);
        EXPECT_TRUE(SameTensor(s.x(rows), AsRead(d.x).index_select(0, idx)));
        EXPECT_TRUE(SameTensor(s.y(rows), d.y.index_select(0, idx)));
        EXPECT_TRUE(SameTensor(s.prior(rows), d.prior.index_select(0, idx)));
      }
    }
  }
}

TEST_F(IoTest, PreloadBytesCountsXAsStoredYAndPrior) {
  const fs::path file = dir_ / "bytes.h5";
  const SplitData a = ImageData(13, 2, 5, 3, 4, 7);
  SplitData b;
  b.x = torch::rand({6, 11});
  b.y = torch::zeros({6}, torch::kInt64);
  WriteFile(file, {{"a", a}, {"b", b}}, 4);
  EXPECT_EQ(ipm::H5Split::preload_bytes(file, "a"), 13 * (2 * 5 * 3 * 1 + 8 + 4 * 4));
  EXPECT_EQ(ipm::H5Split::preload_bytes(file, "b"), 6 * (11 * 4 + 8));
  EXPECT_CONTAINS(ErrorOf([&] { ipm::H5Split::preload_bytes(dir_ / "none.h5", "a"); }),
                  "none.h5");
}

// ---------------------------------------------------------------------------------------------
// Errors

TEST_F(IoTest, MissingFile) {
  const fs::path file = dir_ / "does-not-exist.h5";
  for (const bool preload : {false, true}) {
    EXPECT_CONTAINS(ErrorOf([&] { ipm::H5Split(file, "train", preload); }), file.string());
  }
}

TEST_F(IoTest, GarbageFileIsNotHdf5) {
  const fs::path text = dir_ / "garbage.h5";
  WriteBytes(text, "this is not an HDF5 file\n");
  EXPECT_CONTAINS(ErrorOf([&] { ipm::H5Split(text, "train", false); }), text.string());
  std::string noise(8192, '\0');
  uint32_t state = 12345;
  for (char& c : noise) c = static_cast<char>((state = state * 1664525u + 1013904223u) >> 24);
  const fs::path bin = dir_ / "noise.h5";
  WriteBytes(bin, noise);
  EXPECT_CONTAINS(ErrorOf([&] { ipm::H5Split(bin, "train", true); }), bin.string());
  const fs::path empty = dir_ / "empty.h5";
  WriteBytes(empty, "");
  EXPECT_CONTAINS(ErrorOf([&] { ipm::H5Split(empty, "train", false); }), empty.string());
}

TEST_F(IoTest, TruncatedHdf5FailsWithAnErrorNotACrash) {
  const fs::path good = dir_ / "good.h5";
  const SplitData d = ImageData(300, 3, 16, 16, 10, 8);  // ~230 KB of x
  WriteFile(good, {{"train", d}}, 10);
  const std::string bytes = ReadBytes(good);
  ASSERT_GT(bytes.size(), 200000u);
  for (const size_t keep : {size_t{0}, size_t{7}, size_t{100}, size_t{600}, size_t{2048},
                            bytes.size() / 4, bytes.size() / 2, bytes.size() - 5000,
                            bytes.size() - 1}) {
    SCOPED_TRACE("kept " + std::to_string(keep) + " of " + std::to_string(bytes.size()));
    const fs::path cut = dir_ / ("cut" + std::to_string(keep) + ".h5");
    WriteBytes(cut, bytes.substr(0, keep));
    for (const bool preload : {false, true}) {
      // Either opening fails, or reading every row does; both with ipm::Error naming the file.
      const std::string msg = ErrorOf([&] {
        const ipm::H5Split s(cut, "train", preload);
        std::vector<int64_t> all(300);
        std::iota(all.begin(), all.end(), int64_t{0});
        s.x(all);
        s.y(all);
        s.prior(all);
      });
      EXPECT_CONTAINS(msg, cut.string());
    }
  }
}

TEST_F(IoTest, MissingSplitGroup) {
  const fs::path file = dir_ / "splits.h5";
  WriteFile(file, {{"train", ImageData(4, 1, 2, 2, 3, 9)}}, 3);
  const std::string msg = ErrorOf([&] { ipm::H5Split(file, "valid", false); });
  EXPECT_CONTAINS(msg, file.string());
  EXPECT_CONTAINS(msg, "valid");
}

TEST_F(IoTest, MissingDatasets) {
  const fs::path no_x = dir_ / "no_x.h5";
  {
    RawH5 f(no_x);
    f.Group("/train");
    f.Dataset("/train/y", torch::zeros({4}, torch::kInt64));
    f.NumClasses(3);
  }
  std::string msg = ErrorOf([&] { ipm::H5Split(no_x, "train", false); });
  EXPECT_CONTAINS(msg, no_x.string());
  EXPECT_CONTAINS(msg, "/train/x");

  const fs::path no_y = dir_ / "no_y.h5";
  {
    RawH5 f(no_y);
    f.Group("/train");
    f.Dataset("/train/x", torch::zeros({4, 5}, torch::kFloat32));
    f.NumClasses(3);
  }
  msg = ErrorOf([&] { ipm::H5Split(no_y, "train", true); });
  EXPECT_CONTAINS(msg, no_y.string());
  EXPECT_CONTAINS(msg, "/train/y");

  // No num_classes attribute (H5Writer without set_attributes).
  const fs::path no_attr = dir_ / "no_attr.h5";
  {
    ipm::H5Writer w(no_attr);
    const SplitData d = ImageData(4, 1, 2, 2, 3, 10);
    w.write_split("train", d.x, d.y);
    w.commit();
  }
  msg = ErrorOf([&] { ipm::H5Split(no_attr, "train", false); });
  EXPECT_CONTAINS(msg, no_attr.string());
  EXPECT_CONTAINS(msg, "num_classes");
}

TEST_F(IoTest, YWithADifferentNumberOfRows) {
  const fs::path file = dir_ / "rows_mismatch.h5";
  {
    RawH5 f(file);
    f.Group("/train");
    f.Dataset("/train/x", torch::zeros({10, 1, 2, 2}, torch::kUInt8));
    f.Dataset("/train/y", torch::zeros({9}, torch::kInt64));
    f.NumClasses(3);
  }
  const std::string msg = ErrorOf([&] { ipm::H5Split(file, "train", false); });
  EXPECT_CONTAINS(msg, file.string());
  EXPECT_CONTAINS(msg, "/y");
  EXPECT_CONTAINS(msg, "9");
  EXPECT_CONTAINS(msg, "10");
  // The writer refuses to make such a file in the first place, and leaves nothing behind.
  {
    ipm::H5Writer w(dir_ / "w.h5");
    EXPECT_CONTAINS(ErrorOf([&] {
                      w.write_split("train", torch::zeros({10, 3}), torch::zeros({9}, torch::kInt64));
                    }),
                    "train");
  }
  EXPECT_FALSE(fs::exists(dir_ / "w.h5"));
}

TEST_F(IoTest, BadTypesAndShapes) {
  const fs::path f64 = dir_ / "f64.h5";
  {
    RawH5 f(f64);
    f.Group("/train");
    f.Dataset("/train/x", torch::zeros({4, 5}, torch::kFloat64));
    f.Dataset("/train/y", torch::zeros({4}, torch::kInt64));
    f.NumClasses(3);
  }
  std::string msg = ErrorOf([&] { ipm::H5Split(f64, "train", false); });
  EXPECT_CONTAINS(msg, f64.string());
  EXPECT_CONTAINS(msg, "/x");

  const fs::path x3 = dir_ / "x3.h5";
  SplitData d;
  d.x = torch::zeros({4, 5, 6});
  d.y = torch::zeros({4}, torch::kInt64);
  WriteFile(x3, {{"train", d}}, 3);
  msg = ErrorOf([&] { ipm::H5Split(x3, "train", false); });
  EXPECT_CONTAINS(msg, x3.string());
  EXPECT_CONTAINS(msg, "/x");

  const fs::path yshape = dir_ / "yshape.h5";
  d.x = torch::zeros({4, 1, 5, 6});
  d.y = torch::zeros({4, 5, 7}, torch::kInt64);  // W does not match x
  WriteFile(yshape, {{"train", d}}, 3);
  msg = ErrorOf([&] { ipm::H5Split(yshape, "train", false); });
  EXPECT_CONTAINS(msg, yshape.string());
  EXPECT_CONTAINS(msg, "/y");
}

TEST_F(IoTest, PriorOfWrongShape) {
  const fs::path file = dir_ / "prior_shape.h5";
  SplitData d = ImageData(6, 1, 2, 2, 4, 11);
  d.prior = torch::full({6, 5}, 0.2f);  // 5 columns for 4 classes
  WriteFile(file, {{"train", d}}, 4);
  std::string msg = ErrorOf([&] { ipm::H5Split(file, "train", false); });
  EXPECT_CONTAINS(msg, file.string());
  EXPECT_CONTAINS(msg, "/prior");

  const fs::path rows = dir_ / "prior_rows.h5";
  {
    RawH5 f(rows);
    f.Group("/train");
    f.Dataset("/train/x", torch::zeros({6, 3}, torch::kFloat32));
    f.Dataset("/train/y", torch::zeros({6}, torch::kInt64));
    f.Dataset("/train/prior", torch::full({5, 4}, 0.25f));  // 5 rows for 6 samples
    f.NumClasses(4);
  }
  msg = ErrorOf([&] { ipm::H5Split(rows, "train", true); });
  EXPECT_CONTAINS(msg, rows.string());
  EXPECT_CONTAINS(msg, "/prior");
}

TEST_F(IoTest, LabelsOutsideTheClassRangeAreRejectedWhenRead) {
  const fs::path file = dir_ / "labels.h5";
  SplitData d = ImageData(8, 1, 2, 2, 4, 12);
  d.y = torch::tensor({0, 1, 2, 3, 4, 0, -1, 2}, torch::kInt64);  // 4 and -1 are bad
  d.prior = Tensor();
  WriteFile(file, {{"train", d}}, 4);
  for (const bool preload : {false, true}) {
    const ipm::H5Split s(file, "train", preload);
    EXPECT_TRUE(SameTensor(s.y({0, 1, 2, 3, 5, 7}), d.y.index_select(0, Rows({0, 1, 2, 3, 5, 7}))));
    std::string msg = ErrorOf([&] { s.y({0, 4}); });
    EXPECT_CONTAINS(msg, file.string());
    EXPECT_CONTAINS(msg, "/y");
    EXPECT_CONTAINS(msg, "4");
    msg = ErrorOf([&] { s.y({6}); });
    EXPECT_CONTAINS(msg, file.string());
    EXPECT_CONTAINS(msg, "-1");
  }
}

TEST_F(IoTest, RowIndexOutOfRange) {
  const fs::path file = dir_ / "range.h5";
  const SplitData d = ImageData(10, 1, 2, 2, 3, 13);
  WriteFile(file, {{"train", d}}, 3);
  for (const bool preload : {false, true}) {
    const ipm::H5Split s(file, "train", preload);
    std::string msg = ErrorOf([&] { s.x({0, 10}); });
    EXPECT_CONTAINS(msg, file.string());
    EXPECT_CONTAINS(msg, "row 10");
    msg = ErrorOf([&] { s.y({-1}); });
    EXPECT_CONTAINS(msg, file.string());
    EXPECT_CONTAINS(msg, "row -1");
    msg = ErrorOf([&] { s.prior({3, 1000000}); });
    EXPECT_CONTAINS(msg, file.string());
    EXPECT_CONTAINS(msg, "row 1000000");
  }
}

// ---------------------------------------------------------------------------------------------
// Atomic writer

TEST_F(IoTest, WriterIsAtomic) {
  const fs::path file = dir_ / "atomic.h5";
  const SplitData d = ImageData(5, 1, 3, 3, 3, 14);
  {
    ipm::H5Writer w(file);
    w.write_split("train", d.x, d.y, d.prior);
    w.set_attributes(3, {"a", "b", "c"}, "test");
    EXPECT_FALSE(fs::exists(file)) << "the target exists before commit()";
    w.commit();
    EXPECT_TRUE(fs::exists(file));
  }
  EXPECT_EQ(Entries(dir_), std::vector<std::string>{"atomic.h5"}) << Join(Entries(dir_));
  const ipm::H5Split s(file, "train", false);
  EXPECT_TRUE(SameTensor(s.y({0, 1, 2, 3, 4}), d.y));
}

TEST_F(IoTest, WriterWithoutCommitLeavesNothing) {
  const fs::path file = dir_ / "abandoned.h5";
  const SplitData d = ImageData(5, 1, 3, 3, 3, 15);
  {
    ipm::H5Writer w(file);
    w.write_split("train", d.x, d.y, d.prior);
    w.set_attributes(3, {}, "test");
    EXPECT_FALSE(fs::exists(file));
  }
  EXPECT_FALSE(fs::exists(file));
  EXPECT_TRUE(Entries(dir_).empty()) << "left behind: " << Join(Entries(dir_));
  // Also when nothing at all was written.
  { ipm::H5Writer w(file); }
  EXPECT_TRUE(Entries(dir_).empty()) << "left behind: " << Join(Entries(dir_));
}

// Streaming writes: blocks of 3, 5 and 1 rows appended to datasets whose chunks hold 4 rows
// (64 KiB rows), so blocks straddle chunks, read back like a tensor written whole.
TEST_F(IoTest, AppendedRowsAcrossChunksReadBackLikeOneWrite) {
  const Tensor x = torch::arange(9 * 16384, torch::kFloat32).view({9, 1, 128, 128});
  const Tensor y = torch::tensor({4, 0, 3, 1, 2, 2, 0, 4, 1}, torch::kInt64);
  {
    ipm::H5Writer w(dir_ / "a.h5");
    for (const std::string split : {"train", "test"}) {
      w.create_split(split);
      w.create_rows("/" + split + "/x", torch::kFloat32, {1, 128, 128});
      w.create_rows("/" + split + "/y", torch::kInt64, {});
      const std::vector<std::pair<int64_t, int64_t>> blocks = {{0, 3}, {3, 5}, {8, 1}};
      for (const auto& [start, n] : blocks) {
        w.append_rows("/" + split + "/x", x.narrow(0, start, n));
        w.append_rows("/" + split + "/y", y.narrow(0, start, n));
      }
    }
    w.set_attributes(5, {}, "test");
    EXPECT_CONTAINS(ErrorOf([&] { w.append_rows("/train/x", y); }), "rank 1");
    w.commit();
  }
  const std::vector<int64_t> rows = {8, 0, 3, 4, 7, 2};
  for (const bool preload : {false, true}) {
    const ipm::H5Split s(dir_ / "a.h5", "train", preload);
    ASSERT_EQ(s.size(), 9);
    EXPECT_EQ(s.sample_shape(), (std::vector<int64_t>{1, 128, 128}));
    EXPECT_TRUE(SameTensor(s.x(rows), x.index_select(0, Rows(rows))));
    EXPECT_TRUE(SameTensor(s.y(rows), y.index_select(0, Rows(rows))));
  }
}

TEST_F(IoTest, CommitReplacesAnExistingFile) {
  const fs::path file = dir_ / "replace.h5";
  const SplitData a = ImageData(5, 1, 3, 3, 3, 16), b = ImageData(7, 1, 3, 3, 3, 17);
  WriteFile(file, {{"train", a}}, 3);
  {
    ipm::H5Writer w(file);
    w.write_split("train", b.x, b.y, b.prior);
    w.set_attributes(3, {}, "test");
    // The old file is still whole until commit().
    EXPECT_EQ(ipm::H5Split(file, "train", false).size(), 5);
    w.commit();
  }
  EXPECT_EQ(ipm::H5Split(file, "train", false).size(), 7);
  EXPECT_EQ(Entries(dir_), std::vector<std::string>{"replace.h5"}) << Join(Entries(dir_));
}

// ---------------------------------------------------------------------------------------------
// IDX files

// An IDX file's bytes: magic, big-endian dims, data.
std::string IdxBytes(uint32_t magic, const std::vector<uint32_t>& dims,
                     const std::vector<uint8_t>& data) {
  std::string s;
  auto be32 = [&](uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xff));
  };
  be32(magic);
  for (const uint32_t d : dims) be32(d);
  s.append(data.begin(), data.end());
  return s;
}

void WriteGz(const fs::path& p, const std::string& bytes) {
  gzFile f = gzopen(p.c_str(), "wb");
  ASSERT_NE(f, nullptr) << p;
  if (!bytes.empty()) {
    ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
  }
  ASSERT_EQ(gzclose(f), Z_OK);
}

std::vector<uint8_t> Pattern(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1103515245u + 12345u;
    v[i] = static_cast<uint8_t>(seed >> 16);
  }
  return v;
}

Tensor FromBytes(const std::vector<uint8_t>& v, const std::vector<int64_t>& shape) {
  return torch::from_blob(const_cast<uint8_t*>(v.data()), shape, torch::kUInt8).clone();
}

TEST_F(IoTest, ReadIdxGzipAndPlain) {
  const std::vector<uint8_t> img = Pattern(5 * 4 * 3, 1);
  const std::vector<uint8_t> lab = {3, 0, 9, 9, 1};
  const fs::path gi = dir_ / "images.gz", gl = dir_ / "labels.gz", pi = dir_ / "images";
  WriteGz(gi, IdxBytes(0x00000803, {5, 4, 3}, img));
  WriteGz(gl, IdxBytes(0x00000801, {5}, lab));
  WriteBytes(pi, IdxBytes(0x00000803, {5, 4, 3}, img));

  const Tensor expected_img = FromBytes(img, {5, 4, 3});
  EXPECT_TRUE(SameTensor(ipm::read_idx(gi), expected_img));
  EXPECT_TRUE(SameTensor(ipm::read_idx(pi), expected_img));
  EXPECT_TRUE(SameTensor(ipm::read_idx(gl), FromBytes(lab, {5})));
  // Row-major with the first dimension outermost: image 2, row 3, column 1.
  EXPECT_EQ(ipm::read_idx(gi)[2][3][1].item<uint8_t>(), img[2 * 12 + 3 * 3 + 1]);

  // Dimensions of 256 and more (all four big-endian bytes matter).
  const std::vector<uint8_t> wide = Pattern(2 * 300, 2);
  const fs::path gw = dir_ / "wide.gz";
  WriteGz(gw, IdxBytes(0x00000802, {2, 300}, wide));
  EXPECT_TRUE(SameTensor(ipm::read_idx(gw), FromBytes(wide, {2, 300})));
  const std::vector<uint8_t> tall = Pattern(70000, 3);
  const fs::path gt = dir_ / "tall.gz";
  WriteGz(gt, IdxBytes(0x00000801, {70000}, tall));
  EXPECT_TRUE(SameTensor(ipm::read_idx(gt), FromBytes(tall, {70000})));
}

TEST_F(IoTest, ReadIdxErrorsNameTheFile) {
  const std::vector<uint8_t> img = Pattern(5 * 4 * 3, 4);
  auto check = [&](const std::string& name, const std::string& bytes, bool gz) {
    SCOPED_TRACE(name);
    const fs::path p = dir_ / name;
    if (gz) {
      WriteGz(p, bytes);
    } else {
      WriteBytes(p, bytes);
    }
    EXPECT_CONTAINS(ErrorOf([&] { ipm::read_idx(p); }), p.string());
  };
  for (const bool gz : {true, false}) {
    const std::string sfx = gz ? ".gz" : "";
    check("magic_type" + sfx, IdxBytes(0x00000903, {5, 4, 3}, img), gz);   // not unsigned bytes
    check("magic_zero" + sfx, IdxBytes(0x01000803, {5, 4, 3}, img), gz);   // first byte not 0
    check("magic_ndim0" + sfx, IdxBytes(0x00000800, {}, img), gz);        // no dimensions
    check("short" + sfx, IdxBytes(0x00000803, {5, 4, 3}, Pattern(4 * 4 * 3, 5)), gz);
    check("short_by_one" + sfx, IdxBytes(0x00000803, {5, 4, 3}, Pattern(5 * 4 * 3 - 1, 5)), gz);
    check("header_only" + sfx, IdxBytes(0x00000803, {5, 4}, {}), gz);
    check("partial_header" + sfx, IdxBytes(0x00000803, {}, {}), gz);
    check("trailing" + sfx, IdxBytes(0x00000803, {5, 4, 3}, Pattern(5 * 4 * 3 + 1, 6)), gz);
    check("zero_dim" + sfx, IdxBytes(0x00000803, {0, 4, 3}, {}), gz);
    check("empty" + sfx, "", gz);
  }
  // A gzip stream cut in the middle.
  const fs::path whole = dir_ / "whole.gz";
  const std::vector<uint8_t> big = Pattern(20000, 7);
  WriteGz(whole, IdxBytes(0x00000801, {20000}, big));
  const std::string gz = ReadBytes(whole);
  ASSERT_GT(gz.size(), 1000u);
  const fs::path cut = dir_ / "cut.gz";
  WriteBytes(cut, gz.substr(0, gz.size() / 2));
  EXPECT_CONTAINS(ErrorOf([&] { ipm::read_idx(cut); }), cut.string());
  // Missing file.
  EXPECT_CONTAINS(ErrorOf([&] { ipm::read_idx(dir_ / "missing.gz"); }), "missing.gz");
}

// ---------------------------------------------------------------------------------------------
// pack_idx

struct IdxSet {
  std::vector<uint8_t> train_x, train_y, test_x, test_y;
  int64_t n_train = 12, n_test = 7, h = 6, w = 5;
};

IdxSet MakeIdxDir(const fs::path& dir, bool gz = true) {
  IdxSet s;
  s.train_x = Pattern(static_cast<size_t>(s.n_train * s.h * s.w), 10);
  s.test_x = Pattern(static_cast<size_t>(s.n_test * s.h * s.w), 11);
  for (int64_t i = 0; i < s.n_train; ++i) s.train_y.push_back(static_cast<uint8_t>((i * 3) % 10));
  for (int64_t i = 0; i < s.n_test; ++i) s.test_y.push_back(static_cast<uint8_t>((i * 7 + 1) % 10));
  const std::string sfx = gz ? ".gz" : "";
  auto put = [&](const std::string& name, const std::string& bytes) {
    if (gz) {
      WriteGz(dir / (name + sfx), bytes);
    } else {
      WriteBytes(dir / name, bytes);
    }
  };
  const auto h = static_cast<uint32_t>(s.h), w = static_cast<uint32_t>(s.w);
  put("train-images-idx3-ubyte", IdxBytes(0x803, {static_cast<uint32_t>(s.n_train), h, w}, s.train_x));
  put("train-labels-idx1-ubyte", IdxBytes(0x801, {static_cast<uint32_t>(s.n_train)}, s.train_y));
  put("t10k-images-idx3-ubyte", IdxBytes(0x803, {static_cast<uint32_t>(s.n_test), h, w}, s.test_x));
  put("t10k-labels-idx1-ubyte", IdxBytes(0x801, {static_cast<uint32_t>(s.n_test)}, s.test_y));
  return s;
}

void ExpectPackedMatches(const fs::path& out, const IdxSet& s) {
  for (const bool preload : {false, true}) {
    for (const bool train : {true, false}) {
      SCOPED_TRACE(std::string(train ? "train" : "test") + (preload ? " preload" : ""));
      const ipm::H5Split split(out, train ? "train" : "test", preload);
      const int64_t n = train ? s.n_train : s.n_test;
      ASSERT_EQ(split.size(), n);
      EXPECT_EQ(split.num_classes(), 10);
      EXPECT_EQ(split.sample_shape(), (std::vector<int64_t>{1, s.h, s.w}));
      EXPECT_FALSE(split.has_prior());
      std::vector<int64_t> all(static_cast<size_t>(n));
      std::iota(all.begin(), all.end(), int64_t{0});
      const Tensor x = FromBytes(train ? s.train_x : s.test_x, {n, 1, s.h, s.w});
      const Tensor y = FromBytes(train ? s.train_y : s.test_y, {n}).to(torch::kInt64);
      EXPECT_TRUE(SameTensor(split.x(all), x.to(torch::kFloat32) / 255.0f));
      EXPECT_TRUE(SameTensor(split.y(all), y));
      EXPECT_EQ(ipm::H5Split::preload_bytes(out, train ? "train" : "test"),
                n * (s.h * s.w + 8));
    }
  }
}

TEST_F(IoTest, PackIdxReadsBackExactly) {
  const fs::path src = dir_ / "idx", out = dir_ / "out" / "packed.h5";
  fs::create_directories(src);
  fs::create_directories(out.parent_path());
  const IdxSet s = MakeIdxDir(src);
  std::vector<std::string> names;
  for (int i = 0; i < 10; ++i) names.push_back("class " + std::to_string(i));
  ipm::pack_idx(src, out, 10, names);
  ExpectPackedMatches(out, s);
  EXPECT_EQ(Entries(out.parent_path()), std::vector<std::string>{"packed.h5"});
}

TEST_F(IoTest, PackIdxFromPlainFiles) {
  const fs::path src = dir_ / "idx", out = dir_ / "packed.h5";
  fs::create_directories(src);
  const IdxSet s = MakeIdxDir(src, /*gz=*/false);
  ipm::pack_idx(src, out, 10, {});
  ExpectPackedMatches(out, s);
}

TEST_F(IoTest, PackIdxRejectsLabelsOutOfRange) {
  const fs::path src = dir_ / "idx", outdir = dir_ / "out", out = outdir / "packed.h5";
  fs::create_directories(src);
  fs::create_directories(outdir);
  IdxSet s = MakeIdxDir(src);
  // All labels are 0..9: with 9 classes the label 9 is out of range.
  ASSERT_NE(std::find(s.train_y.begin(), s.train_y.end(), 9), s.train_y.end());
  std::string msg = ErrorOf([&] { ipm::pack_idx(src, out, 9, {}); });
  EXPECT_CONTAINS(msg, "labels-idx1-ubyte");
  EXPECT_CONTAINS(msg, "9");
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(Entries(outdir).empty()) << Join(Entries(outdir));
  // A label 10 in the test set with 10 classes.
  s.test_y[3] = 10;
  WriteGz(src / "t10k-labels-idx1-ubyte.gz",
          IdxBytes(0x801, {static_cast<uint32_t>(s.n_test)}, s.test_y));
  msg = ErrorOf([&] { ipm::pack_idx(src, out, 10, {}); });
  EXPECT_CONTAINS(msg, (src / "t10k-labels-idx1-ubyte.gz").string());
  EXPECT_CONTAINS(msg, "10");
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(Entries(outdir).empty()) << Join(Entries(outdir));
}

TEST_F(IoTest, PackIdxRejectsMismatchedCounts) {
  const fs::path src = dir_ / "idx", outdir = dir_ / "out", out = outdir / "packed.h5";
  fs::create_directories(src);
  fs::create_directories(outdir);
  IdxSet s = MakeIdxDir(src);
  s.train_y.pop_back();
  WriteGz(src / "train-labels-idx1-ubyte.gz",
          IdxBytes(0x801, {static_cast<uint32_t>(s.n_train - 1)}, s.train_y));
  const std::string msg = ErrorOf([&] { ipm::pack_idx(src, out, 10, {}); });
  EXPECT_CONTAINS(msg, "train-images-idx3-ubyte");
  EXPECT_CONTAINS(msg, "train-labels-idx1-ubyte");
  EXPECT_CONTAINS(msg, std::to_string(s.n_train));
  EXPECT_CONTAINS(msg, std::to_string(s.n_train - 1));
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(Entries(outdir).empty()) << Join(Entries(outdir));
}

TEST_F(IoTest, PackIdxRejectsMissingFilesAndBadArguments) {
  const fs::path src = dir_ / "idx", outdir = dir_ / "out", out = outdir / "packed.h5";
  fs::create_directories(src);
  fs::create_directories(outdir);
  MakeIdxDir(src);
  fs::remove(src / "t10k-labels-idx1-ubyte.gz");
  std::string msg = ErrorOf([&] { ipm::pack_idx(src, out, 10, {}); });
  EXPECT_CONTAINS(msg, "t10k-labels-idx1-ubyte");
  EXPECT_CONTAINS(msg, src.string());
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(Entries(outdir).empty()) << Join(Entries(outdir));

  // Images given as labels (wrong rank).
  fs::copy_file(src / "t10k-images-idx3-ubyte.gz", src / "t10k-labels-idx1-ubyte.gz");
  msg = ErrorOf([&] { ipm::pack_idx(src, out, 10, {}); });
  EXPECT_CONTAINS(msg, "t10k-labels-idx1-ubyte");
  EXPECT_FALSE(fs::exists(out));

  // Not a directory; wrong number of class names.
  msg = ErrorOf([&] { ipm::pack_idx(dir_ / "nowhere", out, 10, {}); });
  EXPECT_CONTAINS(msg, "nowhere");
  MakeIdxDir(src);
  msg = ErrorOf([&] { ipm::pack_idx(src, out, 10, {"a", "b"}); });
  EXPECT_CONTAINS(msg, "2");
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(Entries(outdir).empty()) << Join(Entries(outdir));
}

}  // namespace

namespace {

bool IsPermutation(std::vector<int64_t> v, int64_t n) {
  std::sort(v.begin(), v.end());
  std::vector<int64_t> id(static_cast<size_t>(n));
  std::iota(id.begin(), id.end(), int64_t{0});
  return v == id;
}

ipm::EpochOrderSpec Chunked(int64_t chunk, int64_t window) {
  return {ipm::OrderKind::kChunked, chunk, window};
}

}  // namespace

TEST(EpochOrder, ExactIsTheGlobalPermutation) {
  EXPECT_EQ(ipm::epoch_order(1000, 3, 2, {}), ipm::shuffled_order(1000, 3, 2));
}

TEST(EpochOrder, ChunkedIsAPermutationEveryEpochDeterministicAndVarying) {
  // 1003 rows in chunks of 10: a partial last chunk and a partial last window.
  const int64_t n = 1003;
  for (const int64_t window : {int64_t{1}, int64_t{4}, int64_t{7}, int64_t{1000}}) {
    SCOPED_TRACE("window " + std::to_string(window));
    std::vector<std::vector<int64_t>> epochs;
    for (uint64_t e = 1; e <= 4; ++e) {
      const auto o = ipm::epoch_order(n, 9, e, Chunked(10, window));
      ASSERT_EQ(static_cast<int64_t>(o.size()), n);
      EXPECT_TRUE(IsPermutation(o, n)) << "epoch " << e;
      EXPECT_EQ(o, ipm::epoch_order(n, 9, e, Chunked(10, window))) << "not deterministic";
      EXPECT_NE(o, ipm::epoch_order(n, 10, e, Chunked(10, window))) << "same for two seeds";
      for (const auto& prev : epochs) EXPECT_NE(o, prev) << "epoch " << e << " repeats";
      epochs.push_back(o);
    }
  }
}

TEST(EpochOrder, EachWindowOfPositionsHoldsWholeChunks) {
  // Positions [k W c, (k+1) W c) hold exactly the rows of W chunks (the read bound); within
  // a window the rows are shuffled, not left in chunk order.
  const int64_t n = 2000, chunk = 25, window = 4;
  const auto o = ipm::epoch_order(n, 1, 1, Chunked(chunk, window));
  int64_t in_row_order = 0;
  for (int64_t w = 0; w * window * chunk < n; ++w) {
    std::set<int64_t> chunks;
    const int64_t b = w * window * chunk, e = std::min(n, b + window * chunk);
    for (int64_t i = b; i < e; ++i) chunks.insert(o[static_cast<size_t>(i)] / chunk);
    EXPECT_EQ(static_cast<int64_t>(chunks.size()), (e - b) / chunk) << "window " << w;
    for (int64_t i = b + 1; i < e; ++i) {
      in_row_order += o[static_cast<size_t>(i)] == o[static_cast<size_t>(i - 1)] + 1;
    }
  }
  EXPECT_LT(in_row_order, n / 10) << "rows within a window are not shuffled";
  // The chunks themselves are permuted: the first window is not chunks 0..3.
  std::set<int64_t> first;
  for (int64_t i = 0; i < window * chunk; ++i) first.insert(o[static_cast<size_t>(i)] / chunk);
  EXPECT_NE(first, (std::set<int64_t>{0, 1, 2, 3}));
}

TEST(EpochOrder, BadChunkOrWindowAreErrors) {
  EXPECT_CONTAINS(ErrorOf([] { ipm::epoch_order(10, 0, 1, Chunked(10, 0)); }),
                  "data.shuffle_window = 0");
  EXPECT_CONTAINS(ErrorOf([] { ipm::epoch_order(10, 0, 1, Chunked(0, 1)); }), "chunk of 0");
}

TEST_F(IoTest, ChunkRowsIsTheWritersChunk) {
  // H5Writer chunks 256 KiB of rows: 3*32*32 uint8 rows -> 85 rows per chunk.
  const fs::path file = dir_ / "chunks.h5";
  WriteFile(file, {{"train", ImageData(200, 3, 32, 32, 10, 5)}}, 10);
  EXPECT_EQ(ipm::H5Split(file, "train", false).chunk_rows(), (256 << 10) / (3 * 32 * 32));
}

// ---------------------------------------------------------------------------------------------
// pack_csv: tests/data/csv/{train,test}.csv (a header line, label first, 6 values of 1x2x3;
// the test file has no header, CRLF line ends and blank lines) read back exactly.

std::vector<std::string> ReadClassNames(const fs::path& file) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t a = H5Aopen(f, "class_names", H5P_DEFAULT);
  const hid_t space = H5Aget_space(a);
  std::vector<char*> ptrs(static_cast<size_t>(H5Sget_simple_extent_npoints(space)));
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  std::vector<std::string> names;
  if (H5Aread(a, type, ptrs.data()) >= 0) names.assign(ptrs.begin(), ptrs.end());
  H5Dvlen_reclaim(type, space, H5P_DEFAULT, ptrs.data());
  H5Tclose(type);
  H5Sclose(space);
  H5Aclose(a);
  H5Fclose(f);
  return names;
}

ipm::CsvPackOptions FixtureCsv() {
  ipm::CsvPackOptions o;
  o.train = fs::path(IPM_TEST_DATA_DIR) / "csv" / "train.csv";
  o.test = fs::path(IPM_TEST_DATA_DIR) / "csv" / "test.csv";
  o.shape = {1, 2, 3};
  o.num_classes = 4;
  o.class_names = {"zero", "one", "two", "three"};
  o.block_rows = 2;  // several appends per split, and a last partial block
  return o;
}

TEST_F(IoTest, PackCsvReadsTheFixtureBackExactly) {
  const fs::path out = dir_ / "out" / "csv.h5";
  fs::create_directories(out.parent_path());
  ipm::pack_csv(FixtureCsv(), out);
  EXPECT_EQ(Entries(out.parent_path()), std::vector<std::string>{"csv.h5"});
  const Tensor xtr = torch::tensor({0, 1, 2, 3, 4, 5, 255, 254, 253, 252, 251, 250, 10, 20, 30,
                                    40, 50, 60, 7, 7, 7, 7, 7, 7, 0, 0, 0, 0, 0, 255},
                                   torch::kFloat32).view({5, 1, 2, 3});
  const Tensor xte = torch::tensor({9, 8, 7, 6, 5, 4, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144},
                                   torch::kFloat32).view({3, 1, 2, 3});
  for (const bool preload : {false, true}) {
    const ipm::H5Split tr(out, "train", preload), te(out, "test", preload);
    EXPECT_EQ(tr.size(), 5);
    EXPECT_EQ(te.size(), 3);
    EXPECT_EQ(tr.num_classes(), 4);
    EXPECT_TRUE(tr.x_is_uint8());
    EXPECT_EQ(tr.sample_shape(), (std::vector<int64_t>{1, 2, 3}));
    EXPECT_EQ(te.sample_shape(), (std::vector<int64_t>{1, 2, 3}));
    EXPECT_TRUE(SameTensor(tr.x({0, 1, 2, 3, 4}), xtr / 255.0f));
    EXPECT_TRUE(SameTensor(te.x({0, 1, 2}), xte / 255.0f));
    EXPECT_TRUE(SameTensor(tr.y({0, 1, 2, 3, 4}), Rows({3, 0, 2, 1, 3})));
    EXPECT_TRUE(SameTensor(te.y({2, 0, 1}), Rows({2, 1, 0})));
  }
  EXPECT_EQ(ReadClassNames(out), (std::vector<std::string>{"zero", "one", "two", "three"}));
}

TEST_F(IoTest, PackCsvVectorsWithTheLabelLastByNameAsFloat) {
  WriteBytes(dir_ / "a.csv", "f0;f1;y\n0.5;-2e3;1\n1.25;+7;0\n");
  WriteBytes(dir_ / "b.csv", "f0;f1;y\n3;4;1\n");
  ipm::CsvPackOptions o;
  o.train = dir_ / "a.csv";
  o.test = dir_ / "b.csv";
  o.label_column = "y";
  o.delimiter = ';';
  o.dtype = ipm::CsvDtype::kFloat32;
  o.num_classes = 2;
  ipm::pack_csv(o, dir_ / "v.h5");
  const ipm::H5Split tr(dir_ / "v.h5", "train", false), te(dir_ / "v.h5", "test", false);
  EXPECT_FALSE(tr.x_is_uint8());
  EXPECT_EQ(tr.sample_shape(), std::vector<int64_t>{2});
  const Tensor x = torch::tensor({0.5f, -2000.0f, 1.25f, 7.0f}).view({2, 2});
  EXPECT_TRUE(SameTensor(tr.x({0, 1}), x));
  EXPECT_TRUE(SameTensor(tr.y({0, 1}), Rows({1, 0})));
  EXPECT_TRUE(SameTensor(te.x({0}), torch::tensor({3.0f, 4.0f}).view({1, 2})));
  // The same column by index from the end.
  o.label_column = "-1";
  ipm::pack_csv(o, dir_ / "w.h5");
  EXPECT_TRUE(SameTensor(ipm::H5Split(dir_ / "w.h5", "train", false).y({0, 1}), Rows({1, 0})));
  // A label between the values: the values keep their order around it; no header line.
  WriteBytes(dir_ / "m.csv", "10,2,20,30\n40,0,50,60\n");
  o = ipm::CsvPackOptions{};
  o.train = o.test = dir_ / "m.csv";
  o.label_column = "1";
  o.num_classes = 3;
  ipm::pack_csv(o, dir_ / "m.h5");
  const ipm::H5Split m(dir_ / "m.h5", "train", false);
  const Tensor mx = torch::tensor({10.0f, 20.0f, 30.0f, 40.0f, 50.0f, 60.0f}).view({2, 3});
  EXPECT_TRUE(SameTensor(m.x({0, 1}), mx / 255.0f));
  EXPECT_TRUE(SameTensor(m.y({0, 1}), Rows({2, 0})));
  // --header no keeps a first line of numbers as data; --header yes drops it.
  o.header = ipm::CsvHeader::kYes;
  ipm::pack_csv(o, dir_ / "m.h5");
  EXPECT_EQ(ipm::H5Split(dir_ / "m.h5", "train", false).size(), 1);
}

TEST_F(IoTest, PackCsvRefusesBadFilesNamingFileAndLine) {
  struct Case {
    const char* what;
    std::string train;  // the fixture's test file stays as it is
    std::vector<std::string> expect;
  };
  const std::string head = "label,a,b,c,d,e,f\n", good = "1,0,1,2,3,4,5\n";
  const std::vector<Case> cases = {
      {"empty file", "", {"train.csv: empty file"}},
      {"blank lines only", "\n  \n\r\n", {"train.csv: empty file"}},
      {"header only", head, {"train.csv: no data rows"}},
      {"ragged row, short", head + good + "1,0,1,2,3,4\n", {"train.csv:3:", "ragged", "6 cells"}},
      {"ragged row, long", head + good + good + "1,0,1,2,3,4,5,6\n",
       {"train.csv:4:", "8 cells, expected 7"}},
      {"non-numeric cell", head + good + "1,0,1,x2,3,4,5\n", {"train.csv:3:", "column 4", "'x2'"}},
      {"empty cell", head + "1,0,,2,3,4,5\n", {"train.csv:2:", "column 3", "not a number"}},
      {"pixel above 255", head + good + good + "2,0,1,2,256,4,5\n",
       {"train.csv:4:", "'256'", "uint8"}},
      {"negative pixel", head + "2,0,-1,2,3,4,5\n", {"train.csv:2:", "'-1'", "uint8"}},
      {"fractional pixel", head + "2,0,0.5,2,3,4,5\n", {"train.csv:2:", "'0.5'", "uint8"}},
      {"label = L", head + good + "4,0,1,2,3,4,5\n", {"train.csv:3:", "label '4'", "0..3"}},
      {"negative label", head + "-1,0,1,2,3,4,5\n", {"train.csv:2:", "label '-1'"}},
      {"fractional label", head + "1.5,0,1,2,3,4,5\n", {"train.csv:2:", "label '1.5'"}},
      {"non-numeric label in a row", head + good + "three,0,1,2,3,4,5\n",
       {"train.csv:3:", "'three' is not a number"}},
  };
  const fs::path outdir = dir_ / "out", out = outdir / "bad.h5";
  fs::create_directories(outdir);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    ipm::CsvPackOptions o = FixtureCsv();
    o.train = dir_ / "train.csv";
    WriteBytes(o.train, c.train);
    const std::string msg = ErrorOf([&] { ipm::pack_csv(o, out); });
    for (const auto& e : c.expect) EXPECT_CONTAINS(msg, e);
    EXPECT_TRUE(Entries(outdir).empty()) << Join(Entries(outdir));
  }
  // The test file is checked against the train file's columns, and line numbers count the
  // blank lines skipped.
  ipm::CsvPackOptions o = FixtureCsv();
  o.test = dir_ / "test.csv";
  WriteBytes(o.test, "1,0,1,2,3,4,5\n\n2,0,1,2,3,4\n");
  std::string msg = ErrorOf([&] { ipm::pack_csv(o, out); });
  EXPECT_CONTAINS(msg, (dir_ / "test.csv").string() + ":3: ragged row: 6 cells, expected 7");
  EXPECT_TRUE(Entries(outdir).empty()) << Join(Entries(outdir));
  // --header no reads a header line as data, and says so.
  o = FixtureCsv();
  o.header = ipm::CsvHeader::kNo;
  EXPECT_CONTAINS(ErrorOf([&] { ipm::pack_csv(o, out); }), "train.csv:1: column 1: 'label'");
  // Float storage refuses what float32 cannot hold.
  o = FixtureCsv();
  o.dtype = ipm::CsvDtype::kFloat32;
  o.test = dir_ / "test.csv";
  WriteBytes(o.test, "1,0,1,2,3,4,5\n1,0,1,nan,3,4,5\n");
  EXPECT_CONTAINS(ErrorOf([&] { ipm::pack_csv(o, out); }), "test.csv:2: column 4: 'nan'");
  WriteBytes(o.test, "1,0,1,2,3,4,1e39\n");
  EXPECT_CONTAINS(ErrorOf([&] { ipm::pack_csv(o, out); }), "test.csv:1: column 7: '1e39'");
  // Options that do not fit the file name the option.
  o = FixtureCsv();
  o.shape = {1, 28, 28};
  EXPECT_CONTAINS(ErrorOf([&] { ipm::pack_csv(o, out); }), "--shape holds 784 values");
  o = FixtureCsv();
  o.label_column = "7";
  EXPECT_CONTAINS(ErrorOf([&] { ipm::pack_csv(o, out); }), "--label-column 7");
  o.label_column = "digit";
  EXPECT_CONTAINS(ErrorOf([&] { ipm::pack_csv(o, out); }), "no such column");
  o = FixtureCsv();
  o.class_names = {"a", "b"};
  EXPECT_CONTAINS(ErrorOf([&] { ipm::pack_csv(o, out); }), "--class-names has 2 names");
  o = FixtureCsv();
  o.train = dir_ / "missing.csv";
  EXPECT_CONTAINS(ErrorOf([&] { ipm::pack_csv(o, out); }), "missing.csv: cannot open");
  EXPECT_TRUE(Entries(outdir).empty()) << Join(Entries(outdir));
}
