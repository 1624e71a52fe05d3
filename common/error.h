// Errors that reach the user: one line that names the file, key or value at fault.
// defines: ipm::Error, IPM_CHECK
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace ipm {

// Thrown for bad input and failed I/O. The message is complete on its own: the command
// line prints it after "ipm-dist: error: " and exits non-zero.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace ipm

// IPM_CHECK(cond, "file " << path << ": ...") throws ipm::Error with the streamed message.
#define IPM_CHECK(cond, msg)                 \
  do {                                       \
    if (!(cond)) {                           \
      std::ostringstream ipm_check_os_;      \
      ipm_check_os_ << msg;                  \
      throw ::ipm::Error(ipm_check_os_.str()); \
    }                                        \
  } while (0)
