// Helpers shared by the unit tests.
// defines: ErrorOf, EXPECT_CONTAINS, FreshTempDir
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <exception>
#include <filesystem>
#include <string>

#include "common/error.h"

// Runs `f`, expects an ipm::Error, returns its message ("" and a failure otherwise).
template <typename F>
std::string ErrorOf(F&& f) {
  try {
    f();
  } catch (const ipm::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected ipm::Error, got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected ipm::Error, nothing was thrown";
  return "";
}

#define EXPECT_CONTAINS(haystack, needle)                                              \
  do {                                                                                 \
    const std::string h_ = (haystack);                                                 \
    const std::string n_ = (needle);                                                   \
    EXPECT_NE(h_.find(n_), std::string::npos) << "'" << h_ << "' does not contain '" \
                                              << n_ << "'";                            \
  } while (0)

// An empty directory of this process under the system's temporary directory.
inline std::filesystem::path FreshTempDir(const std::string& name) {
  const auto d = std::filesystem::temp_directory_path() /
                 (name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}
