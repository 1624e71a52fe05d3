#include "common/blas_check.h"

#include <dlfcn.h>

#include <filesystem>
#include <system_error>

namespace ipm {

std::string sgemm_library() {
  // The definition the dynamic linker binds LibTorch's calls to: the first in load order.
  void* sym = dlsym(RTLD_DEFAULT, "sgemm_");
  Dl_info info{};
  if (sym == nullptr || dladdr(sym, &info) == 0 || info.dli_fname == nullptr) return "";
  std::error_code ec;
  const std::filesystem::path real = std::filesystem::canonical(info.dli_fname, ec);
  return ec ? std::string(info.dli_fname) : real.string();
}

bool is_reference_blas(const std::string& library) {
  const std::filesystem::path p(library);
  return p.parent_path().filename() == "blas" && p.filename().string().rfind("libblas.so", 0) == 0;
}

}  // namespace ipm
