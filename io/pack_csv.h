// `ipm-dist pack csv`: CSV files with one sample per row (a label column beside the pixel or
// feature columns, the layout MNIST-style data sets ship in) -> an ipm-dist HDF5 data file.
// defines: ipm::CsvHeader, ipm::CsvDtype, ipm::CsvPackOptions, ipm::pack_csv
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ipm {

enum class CsvHeader { kAuto, kYes, kNo };  // kAuto: a first line with a non-number is a header
enum class CsvDtype { kUint8, kFloat32 };   // how /<split>/x is stored

struct CsvPackOptions {
  std::filesystem::path train, test;  // -> /train and /test
  // A 0-based index (negative counts from the end: -1 is the last column), or a header name.
  std::string label_column = "0";
  std::vector<int64_t> shape;          // one sample, e.g. {1, 28, 28}; empty: vectors [D]
  CsvHeader header = CsvHeader::kAuto;
  CsvDtype dtype = CsvDtype::kUint8;   // uint8: integers 0..255 (read back scaled by 1/255)
  char delimiter = ',';
  int64_t num_classes = 10;
  std::vector<std::string> class_names;  // empty, or num_classes names in label order
  int64_t block_rows = 4096;             // rows parsed between two appends to the file
};

// Streams both files row by row into x [N, shape...] and y int64 [N], in blocks of
// block_rows, and commits the file only when both were read whole (nothing is left at `out`
// otherwise). Throws ipm::Error naming the file and line: an empty file or one with a header
// only, a ragged row, a non-numeric cell, a value the stored type cannot hold, a label outside
// 0..num_classes-1; and the option at fault for a shape or label column that does not fit.
void pack_csv(const CsvPackOptions& opt, const std::filesystem::path& out);

}  // namespace ipm
