#include "io/h5_pairs.h"

#include <vector>

#include "common/error.h"
#include "io/h5_handle.h"

namespace ipm {

torch::Tensor read_pair_table(const std::filesystem::path& file, const std::string& split) {
  h5_quiet();
  IPM_CHECK(std::filesystem::exists(file), file.string() << ": no such data file");
  H5Id fid(h5_check(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT),
                    file.string() + ": not a readable HDF5 file"));
  const std::string path = "/" + split + "/pairs";
  const std::string where = file.string() + ":" + path;
  const std::string grp = "/" + split;
  IPM_CHECK(H5Lexists(fid.get(), grp.c_str(), H5P_DEFAULT) > 0 &&
                H5Lexists(fid.get(), path.c_str(), H5P_DEFAULT) > 0,
            where << ": missing (prior.pair_source = \"file\" reads ranking pairs from it)");
  H5Id dset(h5_check(H5Dopen2(fid.get(), path.c_str(), H5P_DEFAULT), where + ": cannot open"));
  H5Id space(h5_check(H5Dget_space(dset.get()), where + ": cannot read its shape"));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  hsize_t dims[2] = {0, 0};
  IPM_CHECK(rank == 2, where << ": shape must be [P, 3] (first row, second row, observation)");
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  IPM_CHECK(dims[1] == 3 && dims[0] >= 1,
            where << ": shape must be [P, 3] with P >= 1, is [" << dims[0] << ", " << dims[1]
                  << "]");
  H5Id type(h5_check(H5Dget_type(dset.get()), where + ": cannot read its type"));
  IPM_CHECK(H5Tget_class(type.get()) == H5T_INTEGER, where << ": type must be int64 (or int32)");
  torch::Tensor t = torch::empty({static_cast<int64_t>(dims[0]), 3}, torch::kInt64);
  h5_check(H5Dread(dset.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data_ptr()),
           where + ": cannot read");
  return t;
}

}  // namespace ipm
