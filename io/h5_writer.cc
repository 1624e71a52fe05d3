#include "io/h5_writer.h"

#include <algorithm>
#include <limits>

#include "common/error.h"

namespace ipm {
namespace {

hid_t file_type(torch::ScalarType t) {
  switch (t) {
    case torch::kUInt8: return H5T_STD_U8LE;
    case torch::kFloat32: return H5T_IEEE_F32LE;
    case torch::kInt64: return H5T_STD_I64LE;
    case torch::kInt32: return H5T_STD_I32LE;
    case torch::kFloat64: return H5T_IEEE_F64LE;
    default: throw Error("H5Writer: unsupported tensor type");
  }
}

hid_t native_type(torch::ScalarType t) {
  switch (t) {
    case torch::kUInt8: return H5T_NATIVE_UINT8;
    case torch::kFloat32: return H5T_NATIVE_FLOAT;
    case torch::kInt64: return H5T_NATIVE_INT64;
    case torch::kInt32: return H5T_NATIVE_INT32;
    case torch::kFloat64: return H5T_NATIVE_DOUBLE;
    default: throw Error("H5Writer: unsupported tensor type");
  }
}

// Chunks of whole rows, about 256 KiB each: random batches touch few bytes they don't use.
hsize_t chunk_rows(const std::vector<hsize_t>& row_dims, size_t element_size, hsize_t max_rows) {
  hsize_t row_bytes = element_size;
  for (const hsize_t d : row_dims) row_bytes *= d;
  return std::clamp<hsize_t>((256u << 10) / std::max<hsize_t>(row_bytes, 1), 1, max_rows);
}

}  // namespace

H5Writer::H5Writer(const std::filesystem::path& file) : file_(file), out_(file) {
  h5_quiet();
  fid_ = H5Id(h5_check(H5Fcreate(out_.tmp().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                       "cannot create " + out_.tmp().string()));
}

void H5Writer::write_dataset(hid_t group, const char* name, const torch::Tensor& t) {
  const torch::Tensor c = t.contiguous();
  std::vector<hsize_t> dims(c.sizes().begin(), c.sizes().end());
  IPM_CHECK(!dims.empty() && dims[0] > 0, file_.string() << ": dataset '" << name << "' is empty");
  H5Id space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  std::vector<hsize_t> chunk(dims);
  chunk[0] = chunk_rows({dims.begin() + 1, dims.end()}, c.element_size(), dims[0]);
  H5Id dcpl(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data());
  H5Id dset(h5_check(H5Dcreate2(group, name, file_type(c.scalar_type()), space.get(),
                                H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                     file_.string() + ": cannot create dataset '" + name + "'"));
  h5_check(H5Dwrite(dset.get(), native_type(c.scalar_type()), H5S_ALL, H5S_ALL, H5P_DEFAULT,
                    c.data_ptr()),
           file_.string() + ": cannot write dataset '" + name + "'");
}

void H5Writer::write_split(const std::string& split, const torch::Tensor& x,
                           const torch::Tensor& y, const torch::Tensor& prior) {
  IPM_CHECK(x.size(0) == y.size(0), file_.string() << ": split '" << split << "': x has " << x.size(0)
                                              << " rows, y has " << y.size(0));
  H5Id g(h5_check(H5Gcreate2(fid_.get(), ("/" + split).c_str(), H5P_DEFAULT, H5P_DEFAULT,
                             H5P_DEFAULT),
                  file_.string() + ": cannot create group '/" + split + "'"));
  write_dataset(g.get(), "x", x);
  write_dataset(g.get(), "y", y);
  if (prior.defined()) write_dataset(g.get(), "prior", prior.to(torch::kFloat32));
}

void H5Writer::create_split(const std::string& split) {
  H5Id g(h5_check(H5Gcreate2(fid_.get(), ("/" + split).c_str(), H5P_DEFAULT, H5P_DEFAULT,
                             H5P_DEFAULT),
                  file_.string() + ": cannot create group '/" + split + "'"));
}

void H5Writer::create_rows(const std::string& path, torch::ScalarType type,
                           const std::vector<int64_t>& row_shape) {
  std::vector<hsize_t> dims{0}, max_dims{H5S_UNLIMITED};
  for (const int64_t d : row_shape) {
    dims.push_back(static_cast<hsize_t>(d));
    max_dims.push_back(static_cast<hsize_t>(d));
  }
  std::vector<hsize_t> chunk(dims);
  chunk[0] = chunk_rows({dims.begin() + 1, dims.end()}, c10::elementSize(type),
                        std::numeric_limits<hsize_t>::max());
  H5Id space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), max_dims.data()));
  H5Id dcpl(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data());
  H5Id dset(h5_check(H5Dcreate2(fid_.get(), path.c_str(), file_type(type), space.get(),
                                H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                     file_.string() + ": cannot create dataset '" + path + "'"));
}

void H5Writer::append_rows(const std::string& path, const torch::Tensor& rows) {
  if (rows.size(0) == 0) return;
  const torch::Tensor c = rows.contiguous();
  const std::string what = file_.string() + ": cannot append to '" + path + "'";
  H5Id dset(h5_check(H5Dopen2(fid_.get(), path.c_str(), H5P_DEFAULT), what));
  H5Id old_space(h5_check(H5Dget_space(dset.get()), what));
  const int rank = H5Sget_simple_extent_ndims(old_space.get());
  IPM_CHECK(rank == c.dim(), what << ": rows of rank " << c.dim() << " for a dataset of rank "
                                  << rank);
  std::vector<hsize_t> dims(static_cast<size_t>(rank)), block(c.sizes().begin(), c.sizes().end());
  H5Sget_simple_extent_dims(old_space.get(), dims.data(), nullptr);
  std::vector<hsize_t> start(dims.size(), 0);
  start[0] = dims[0];
  dims[0] += block[0];
  h5_check(H5Dset_extent(dset.get(), dims.data()), what);
  H5Id space(h5_check(H5Dget_space(dset.get()), what));
  h5_check(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start.data(), nullptr,
                               block.data(), nullptr), what);
  H5Id mem(H5Screate_simple(rank, block.data(), nullptr));
  h5_check(H5Dwrite(dset.get(), native_type(c.scalar_type()), mem.get(), space.get(),
                    H5P_DEFAULT, c.data_ptr()), what);
}

void H5Writer::add_dataset(const std::string& path, const torch::Tensor& t) {
  write_dataset(fid_.get(), path.c_str(), t);
}

void H5Writer::set_attributes(int64_t num_classes, const std::vector<std::string>& class_names,
                              const std::string& source) {
  H5Id scalar(H5Screate(H5S_SCALAR));
  H5Id a(H5Acreate2(fid_.get(), "num_classes", H5T_STD_I64LE, scalar.get(), H5P_DEFAULT,
                    H5P_DEFAULT));
  h5_check(H5Awrite(a.get(), H5T_NATIVE_INT64, &num_classes),
           file_.string() + ": cannot write attribute num_classes");
  auto write_strings = [&](const char* name, const std::vector<std::string>& v) {
    H5Id type(H5Tcopy(H5T_C_S1));
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    const hsize_t n = v.size();
    H5Id space(n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr));
    std::vector<const char*> ptrs;
    for (const auto& s : v) ptrs.push_back(s.c_str());
    H5Id attr(H5Acreate2(fid_.get(), name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT));
    h5_check(H5Awrite(attr.get(), type.get(), ptrs.data()),
             file_.string() + ": cannot write attribute " + name);
  };
  if (!class_names.empty()) write_strings("class_names", class_names);
  write_strings("source", {source});
}

void H5Writer::commit() {
  h5_check(H5Fflush(fid_.get(), H5F_SCOPE_GLOBAL), file_.string() + ": flush failed");
  fid_.reset();
  out_.commit();
}

}  // namespace ipm
