#include "io/pack_csv.h"

#include <cmath>
#include <limits>
#include <numeric>
#include <string_view>

#include <torch/torch.h>

#include "common/error.h"
#include "io/csv_rows.h"
#include "io/h5_writer.h"

namespace ipm {
namespace {

// What the train file fixes for both: its column count and where the label is.
struct Columns {
  int64_t count = 0;
  int64_t label = 0;
};

bool all_numbers(const std::vector<std::string_view>& cells) {
  double v = 0;
  for (const auto c : cells) {
    if (!parse_number(c, v)) return false;
  }
  return true;
}

int64_t resolve_label_column(const CsvPackOptions& opt, const std::string& file,
                             const std::vector<std::string_view>& first, bool has_header) {
  const int64_t count = static_cast<int64_t>(first.size());
  double v = 0;
  if (parse_number(opt.label_column, v)) {
    IPM_CHECK(v == std::floor(v) && v >= -count && v < count,
              "--label-column " << opt.label_column << " is not a column of " << file
                                << ", which has " << count << " (0.." << count - 1
                                << ", or -1 for the last)");
    return v < 0 ? count + static_cast<int64_t>(v) : static_cast<int64_t>(v);
  }
  IPM_CHECK(has_header, "--label-column '" << opt.label_column << "' is a name, but " << file
                                           << " has no header line");
  for (int64_t c = 0; c < count; ++c) {
    if (first[static_cast<size_t>(c)] == opt.label_column) return c;
  }
  throw Error("--label-column '" + opt.label_column + "': no such column in the header of " +
              file);
}

// Parses one file into /<split>; `cols` is set by the first (train) file and checked for the
// second.
void pack_file(const CsvPackOptions& opt, const std::filesystem::path& path,
               const std::string& split, Columns& cols, H5Writer& w) {
  CsvRows rows(path, opt.delimiter);
  std::vector<std::string_view> cells;
  IPM_CHECK(rows.next(cells), path.string() << ": empty file (no rows)");
  const bool has_header =
      opt.header == CsvHeader::kYes || (opt.header == CsvHeader::kAuto && !all_numbers(cells));
  if (cols.count == 0) {
    cols.count = static_cast<int64_t>(cells.size());
    IPM_CHECK(cols.count >= 2, rows.where() << ": " << cols.count
                                            << " column; need a label and at least one value"
                                            << (opt.delimiter == ',' ? "" : " (see --delimiter)"));
    cols.label = resolve_label_column(opt, path.string(), cells, has_header);
    const int64_t features = cols.count - 1;
    if (!opt.shape.empty()) {
      const int64_t n = std::accumulate(opt.shape.begin(), opt.shape.end(), int64_t{1},
                                        std::multiplies<>());
      IPM_CHECK(n == features, "--shape holds " << n << " values per sample, but "
                                                << path.string() << " has " << features
                                                << " beside the label (" << cols.count
                                                << " columns)");
    }
  }
  std::vector<int64_t> shape = opt.shape;
  if (shape.empty()) shape = {cols.count - 1};
  const auto dtype = opt.dtype == CsvDtype::kUint8 ? torch::kUInt8 : torch::kFloat32;
  w.create_split(split);
  w.create_rows("/" + split + "/x", dtype, shape);
  w.create_rows("/" + split + "/y", torch::kInt64, {});

  const int64_t block = std::max<int64_t>(opt.block_rows, 1), features = cols.count - 1;
  torch::Tensor xb = torch::empty({block, features}, dtype);
  torch::Tensor yb = torch::empty({block}, torch::kInt64);
  std::vector<int64_t> view_shape{0};
  view_shape.insert(view_shape.end(), shape.begin(), shape.end());
  int64_t filled = 0, total = 0;
  auto flush = [&] {
    view_shape[0] = filled;
    w.append_rows("/" + split + "/x", xb.narrow(0, 0, filled).view(view_shape));
    w.append_rows("/" + split + "/y", yb.narrow(0, 0, filled));
    total += filled;
    filled = 0;
  };
  bool have = !has_header;  // `cells` already holds the first data row
  while (have || rows.next(cells)) {
    have = false;
    IPM_CHECK(static_cast<int64_t>(cells.size()) == cols.count,
              rows.where() << ": ragged row: " << cells.size() << " cells, expected "
                           << cols.count);
    uint8_t* xu = dtype == torch::kUInt8 ? xb.data_ptr<uint8_t>() + filled * features : nullptr;
    float* xf = dtype == torch::kFloat32 ? xb.data_ptr<float>() + filled * features : nullptr;
    int64_t f = 0;
    for (int64_t c = 0; c < cols.count; ++c) {
      const std::string_view cell = cells[static_cast<size_t>(c)];
      double v = 0;
      IPM_CHECK(parse_number(cell, v), rows.where() << ": column " << c + 1 << ": '" << cell
                                                    << "' is not a number");
      if (c == cols.label) {
        IPM_CHECK(v == std::floor(v) && v >= 0 && v < static_cast<double>(opt.num_classes),
                  rows.where() << ": label '" << cell << "' is outside 0.."
                               << opt.num_classes - 1 << " (--num-classes "
                               << opt.num_classes << ")");
        yb.data_ptr<int64_t>()[filled] = static_cast<int64_t>(v);
        continue;
      }
      if (xu) {
        IPM_CHECK(v == std::floor(v) && v >= 0 && v <= 255,
                  rows.where() << ": column " << c + 1 << ": '" << cell
                               << "' does not fit uint8 (integers 0..255; --dtype float32 "
                                  "stores any finite value)");
        xu[f++] = static_cast<uint8_t>(v);
      } else {
        IPM_CHECK(std::isfinite(v) && std::abs(v) <= std::numeric_limits<float>::max(),
                  rows.where() << ": column " << c + 1 << ": '" << cell
                               << "' does not fit float32 (finite, |x| <= 3.4e38)");
        xf[f++] = static_cast<float>(v);
      }
    }
    if (++filled == block) flush();
  }
  if (filled > 0) flush();
  IPM_CHECK(total > 0, path.string() << ": no data rows (only a header line)");
}

}  // namespace

void pack_csv(const CsvPackOptions& opt, const std::filesystem::path& out) {
  IPM_CHECK(opt.num_classes >= 1, "--num-classes must be at least 1, got " << opt.num_classes);
  IPM_CHECK(opt.class_names.empty() ||
                static_cast<int64_t>(opt.class_names.size()) == opt.num_classes,
            "--class-names has " << opt.class_names.size() << " names for "
                                 << opt.num_classes << " classes");
  for (const int64_t d : opt.shape) {
    IPM_CHECK(d >= 1, "--shape: every dimension must be at least 1");
  }
  IPM_CHECK(opt.delimiter != '"' && opt.delimiter != '\n' && opt.delimiter != '\r',
            "--delimiter cannot be a quote or a line break");
  Columns cols;
  H5Writer w(out);
  pack_file(opt, opt.train, "train", cols, w);
  pack_file(opt, opt.test, "test", cols, w);
  w.set_attributes(opt.num_classes, opt.class_names,
                   "csv:" + std::filesystem::absolute(opt.train).string() + ";" +
                       std::filesystem::absolute(opt.test).string());
  w.commit();
}

}  // namespace ipm
