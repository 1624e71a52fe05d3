#include "io/h5_split.h"

#include <algorithm>
#include <numeric>

#include "common/error.h"

namespace ipm {
namespace {

// Opening a file that is not HDF5 fails inside the library; say so in one line.
H5Id open_file(const std::filesystem::path& file) {
  h5_quiet();
  IPM_CHECK(std::filesystem::exists(file), file.string() << ": no such data file");
  const htri_t is_h5 = H5Fis_hdf5(file.c_str());  // 1.10 API
  IPM_CHECK(is_h5 > 0, file.string() << ": not a readable HDF5 file (corrupt or truncated?)");
  // A larger chunk cache: batches read rows scattered over many chunks.
  H5Id fapl(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_cache(fapl.get(), 0, 1021, static_cast<size_t>(H5Split::kChunkCacheBytes), 0.75);
  return H5Id(h5_check(H5Fopen(file.c_str(), H5F_ACC_RDONLY, fapl.get()),
                       file.string() + ": cannot open as HDF5 (corrupt or truncated?)"));
}

std::vector<int64_t> dims_of(hid_t dset) {
  H5Id space(H5Dget_space(dset));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> d(static_cast<size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space.get(), d.data(), nullptr);
  return std::vector<int64_t>(d.begin(), d.end());
}

enum class Stored { kUint8, kFloat32, kInt64, kInt32, kOther };

Stored stored_type(hid_t dset) {
  H5Id t(H5Dget_type(dset));
  const H5T_class_t cls = H5Tget_class(t.get());
  const size_t size = H5Tget_size(t.get());
  if (cls == H5T_INTEGER) {
    const bool sgn = H5Tget_sign(t.get()) == H5T_SGN_2;
    if (size == 1 && !sgn) return Stored::kUint8;
    if (size == 8 && sgn) return Stored::kInt64;
    if (size == 4 && sgn) return Stored::kInt32;
  }
  if (cls == H5T_FLOAT && size == 4) return Stored::kFloat32;
  return Stored::kOther;
}

hid_t mem_type(torch::ScalarType t) {
  switch (t) {
    case torch::kUInt8: return H5T_NATIVE_UINT8;
    case torch::kFloat32: return H5T_NATIVE_FLOAT;
    case torch::kInt64: return H5T_NATIVE_INT64;
    default: throw Error("internal: unsupported memory type");
  }
}

int64_t product(const std::vector<int64_t>& v) {
  return std::accumulate(v.begin(), v.end(), int64_t{1}, std::multiplies<int64_t>());
}

// Rows per chunk of dset: its chunk's first dimension, or 256 KiB of rows when contiguous.
int64_t chunk_rows_of(hid_t dset, const std::vector<int64_t>& dims, int64_t row_bytes) {
  H5Id dcpl(H5Dget_create_plist(dset));
  if (H5Pget_layout(dcpl.get()) == H5D_CHUNKED) {
    std::vector<hsize_t> c(dims.size());
    if (H5Pget_chunk(dcpl.get(), static_cast<int>(c.size()), c.data()) >= 1 && c[0] >= 1) {
      return static_cast<int64_t>(c[0]);
    }
  }
  return std::clamp<int64_t>((int64_t{256} << 10) / std::max<int64_t>(row_bytes, 1), 1,
                             std::max<int64_t>(dims[0], 1));
}

std::vector<int64_t> with_rows(int64_t rows, const std::vector<int64_t>& item) {
  std::vector<int64_t> s{rows};
  s.insert(s.end(), item.begin(), item.end());
  return s;
}

}  // namespace

H5Split::H5Split(const std::filesystem::path& file, const std::string& split, bool preload)
    : file_(file), split_(split) {
  fid_ = open_file(file);
  const std::string grp = "/" + split;
  IPM_CHECK(H5Lexists(fid_.get(), grp.c_str(), H5P_DEFAULT) > 0,
            file.string() << ": no group '" << grp << "' (data.train / data.test name splits)");
  auto open = [&](const char* name, bool required) {
    const std::string path = grp + "/" + name;
    if (H5Lexists(fid_.get(), path.c_str(), H5P_DEFAULT) <= 0) {
      IPM_CHECK(!required, file.string() << ": missing dataset '" << path << "'");
      return H5Id();
    }
    return H5Id(h5_check(H5Dopen2(fid_.get(), path.c_str(), H5P_DEFAULT),
                         file.string() + ": cannot open dataset '" + path + "'"));
  };
  x_ = open("x", true);
  y_ = open("y", true);
  prior_ = open("prior", false);
  coarse_ = open("coarse", false);

  // num_classes: a file attribute (DESIGN.md); checked against labels when read.
  IPM_CHECK(H5Aexists(fid_.get(), "num_classes") > 0,
            file.string() << ": missing attribute 'num_classes'");
  {
    H5Id a(h5_check(H5Aopen(fid_.get(), "num_classes", H5P_DEFAULT),
                    file.string() + ": cannot read attribute 'num_classes'"));
    int64_t nc = 0;
    h5_check(H5Aread(a.get(), H5T_NATIVE_INT64, &nc),
             file.string() + ": cannot read attribute 'num_classes'");
    IPM_CHECK(nc >= 2, file.string() << ": num_classes = " << nc << " (need >= 2)");
    num_classes_ = nc;
  }

  const std::vector<int64_t> xd = dims_of(x_.get()), yd = dims_of(y_.get());
  IPM_CHECK(xd.size() == 2 || xd.size() == 4,
            where() << "/x: shape must be [N, D] or [N, C, H, W], has " << xd.size()
                    << " dimensions");
  const Stored xt = stored_type(x_.get());
  IPM_CHECK(xt == Stored::kUint8 || xt == Stored::kFloat32,
            where() << "/x: type must be uint8 or float32");
  x_uint8_ = xt == Stored::kUint8;
  IPM_CHECK(stored_type(y_.get()) == Stored::kInt64 || stored_type(y_.get()) == Stored::kInt32,
            where() << "/y: type must be int64 (or int32)");
  n_ = xd[0];
  IPM_CHECK(n_ > 0, where() << "/x: has no rows");
  IPM_CHECK(!yd.empty() && yd[0] == n_,
            where() << "/y: has " << (yd.empty() ? 0 : yd[0]) << " rows but x has " << n_);
  x_shape_.assign(xd.begin() + 1, xd.end());
  chunk_rows_ = chunk_rows_of(x_.get(), xd, product(x_shape_) * (x_uint8_ ? 1 : 4));
  y_shape_.assign(yd.begin() + 1, yd.end());
  IPM_CHECK(y_shape_.empty() || (xd.size() == 4 && y_shape_.size() == 2 &&
                                 y_shape_[0] == xd[2] && y_shape_[1] == xd[3]),
            where() << "/y: shape must be [N] or [N, H, W] matching x");
  if (prior_.valid()) {
    const std::vector<int64_t> pd = dims_of(prior_.get());
    IPM_CHECK(stored_type(prior_.get()) == Stored::kFloat32, where() << "/prior: type must be float32");
    IPM_CHECK(pd.size() >= 2 && pd[0] == n_ && pd[1] == num_classes_,
              where() << "/prior: shape must be [" << n_ << ", " << num_classes_
                      << ", ...] (N, num_classes)");
    prior_shape_.assign(pd.begin() + 1, pd.end());
  }
  if (coarse_.valid()) {
    const std::vector<int64_t> cd = dims_of(coarse_.get());
    const Stored ct = stored_type(coarse_.get());
    IPM_CHECK(ct == Stored::kInt32 || ct == Stored::kInt64,
              where() << "/coarse: type must be int32 or int64");
    IPM_CHECK((cd.size() == 1 || cd.size() == 3) && cd[0] == n_,
              where() << "/coarse: shape must be [" << n_ << "] or [" << n_ << ", h, w]");
    coarse_shape_.assign(cd.begin() + 1, cd.end());
  }
  if (preload) {
    x_mem_ = read_all(x_, x_uint8_ ? torch::kUInt8 : torch::kFloat32, x_shape_, "x");
    y_mem_ = read_all(y_, torch::kInt64, y_shape_, "y");
    if (prior_.valid()) prior_mem_ = read_all(prior_, torch::kFloat32, prior_shape_, "prior");
    if (coarse_.valid()) coarse_mem_ = read_all(coarse_, torch::kInt64, coarse_shape_, "coarse");
  }
}

std::string H5Split::where() const { return file_.string() + ":/" + split_; }

int64_t H5Split::preload_bytes(const std::filesystem::path& file, const std::string& split) {
  H5Split s(file, split, /*preload=*/false);
  const int64_t x = product(s.x_shape_) * (s.x_uint8_ ? 1 : 4);
  const int64_t y = product(s.y_shape_) * 8;
  const int64_t p = s.prior_.valid() ? product(s.prior_shape_) * 4 : 0;
  const int64_t c = s.coarse_.valid() ? product(s.coarse_shape_) * 8 : 0;
  return s.n_ * (x + y + p + c);
}

torch::Tensor H5Split::read_all(const H5Id& dset, torch::ScalarType type,
                                const std::vector<int64_t>& item_shape, const char* name) const {
  torch::Tensor out = torch::empty(with_rows(n_, item_shape), type);
  h5_check(H5Dread(dset.get(), mem_type(type), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data_ptr()),
           where() + "/" + name + ": read failed (corrupt or truncated file?)");
  return out;
}

torch::Tensor H5Split::read_rows(const H5Id& dset, const torch::Tensor& mem,
                                 torch::ScalarType type, const std::vector<int64_t>& item_shape,
                                 const std::vector<int64_t>& rows, const char* name) const {
  for (const int64_t r : rows) {
    IPM_CHECK(r >= 0 && r < n_, where() << "/" << name << ": row " << r << " is outside 0.."
                                        << n_ - 1);
  }
  const int64_t b = static_cast<int64_t>(rows.size());
  if (mem.defined()) {
    return mem.index_select(0, torch::tensor(rows, torch::kInt64));
  }
  // HDF5 returns a selection in file order, so read the sorted distinct rows, then gather
  // them back into the order asked for.
  std::vector<int64_t> sorted(rows);
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  const int64_t u = static_cast<int64_t>(sorted.size());
  torch::Tensor got = torch::empty(with_rows(u, item_shape), type);
  if (u > 0) {
    H5Id fspace(H5Dget_space(dset.get()));
    const size_t rank = item_shape.size() + 1;
    std::vector<hsize_t> start(rank, 0), count(rank);
    for (size_t d = 1; d < rank; ++d) count[d] = static_cast<hsize_t>(item_shape[d - 1]);
    H5Sselect_none(fspace.get());
    // One hyperslab per run of consecutive rows: few selections for contiguous batches.
    for (int64_t i = 0; i < u;) {
      int64_t j = i + 1;
      while (j < u && sorted[j] == sorted[j - 1] + 1) ++j;
      start[0] = static_cast<hsize_t>(sorted[i]);
      count[0] = static_cast<hsize_t>(j - i);
      h5_check(H5Sselect_hyperslab(fspace.get(), H5S_SELECT_OR, start.data(), nullptr,
                                   count.data(), nullptr),
               where() + "/" + name + ": bad row selection");
      i = j;
    }
    std::vector<hsize_t> mdims(rank);
    mdims[0] = static_cast<hsize_t>(u);
    for (size_t d = 1; d < rank; ++d) mdims[d] = count[d];
    H5Id mspace(H5Screate_simple(static_cast<int>(rank), mdims.data(), nullptr));
    h5_check(H5Dread(dset.get(), mem_type(type), mspace.get(), fspace.get(), H5P_DEFAULT,
                     got.data_ptr()),
             where() + "/" + name + ": read failed (corrupt or truncated file?)");
  }
  if (u == b && std::equal(sorted.begin(), sorted.end(), rows.begin())) return got;
  std::vector<int64_t> pos(static_cast<size_t>(b));
  for (int64_t i = 0; i < b; ++i) {
    pos[static_cast<size_t>(i)] =
        std::lower_bound(sorted.begin(), sorted.end(), rows[static_cast<size_t>(i)]) -
        sorted.begin();
  }
  return got.index_select(0, torch::tensor(pos, torch::kInt64));
}

torch::Tensor H5Split::x(const std::vector<int64_t>& rows) const {
  const torch::Tensor raw =
      read_rows(x_, x_mem_, x_uint8_ ? torch::kUInt8 : torch::kFloat32, x_shape_, rows, "x");
  return x_uint8_ ? raw.to(torch::kFloat32).div_(255.0f) : raw;
}

torch::Tensor H5Split::y_unchecked(const std::vector<int64_t>& rows) const {
  return read_rows(y_, y_mem_, torch::kInt64, y_shape_, rows, "y");
}

torch::Tensor H5Split::y(const std::vector<int64_t>& rows) const {
  const torch::Tensor y = y_unchecked(rows);
  if (y.numel() == 0) return y;
  const auto [lo, hi] = torch::aminmax(y);
  IPM_CHECK(lo.item<int64_t>() >= 0 && hi.item<int64_t>() < num_classes_,
            where() << "/y: label outside 0.." << num_classes_ - 1 << " (found "
                    << lo.item<int64_t>() << ".." << hi.item<int64_t>() << ")");
  return y;
}

torch::Tensor H5Split::prior(const std::vector<int64_t>& rows) const {
  IPM_CHECK(has_prior(), where() << ": no 'prior' dataset (prior.kind = \"stored\" needs one)");
  return read_rows(prior_, prior_mem_, torch::kFloat32, prior_shape_, rows, "prior");
}

torch::Tensor H5Split::coarse(const std::vector<int64_t>& rows) const {
  IPM_CHECK(has_coarse(), where() << ": no 'coarse' dataset (prior.kind = \"coarse\" needs one)");
  return read_rows(coarse_, coarse_mem_, torch::kInt64, coarse_shape_, rows, "coarse");
}

torch::Tensor read_cooccurrence(const std::filesystem::path& file) {
  const H5Id fid = open_file(file);
  IPM_CHECK(H5Lexists(fid.get(), "/cooccurrence", H5P_DEFAULT) > 0,
            file.string() << ": no dataset '/cooccurrence' (prior.kind = \"coarse\" needs the "
                             "co-occurrence matrix [coarse classes, num_classes])");
  const H5Id d(h5_check(H5Dopen2(fid.get(), "/cooccurrence", H5P_DEFAULT),
                        file.string() + ": cannot open dataset '/cooccurrence'"));
  const std::vector<int64_t> dims = dims_of(d.get());
  IPM_CHECK(dims.size() == 2, file.string() << ":/cooccurrence: must be 2-D [coarse classes, "
                                               "num_classes], has "
                                            << dims.size() << " dimensions");
  {
    H5Id t(H5Dget_type(d.get()));
    const H5T_class_t cls = H5Tget_class(t.get());
    IPM_CHECK(cls == H5T_FLOAT || cls == H5T_INTEGER,
              file.string() << ":/cooccurrence: must be numeric");
  }
  torch::Tensor out = torch::empty(dims, torch::kFloat64);
  if (out.numel() > 0) {
    h5_check(H5Dread(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data_ptr()),
             file.string() + ":/cooccurrence: read failed");
  }
  return out;
}

}  // namespace ipm
