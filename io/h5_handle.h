// RAII for HDF5 identifiers and errors that name the file and dataset.
// defines: ipm::H5Id, ipm::h5_check, ipm::h5_quiet
#pragma once

#include <hdf5.h>

#include <string>
#include <utility>

namespace ipm {

// Owns one hid_t and closes it with the right H5*close for its type.
class H5Id {
 public:
  H5Id() = default;
  explicit H5Id(hid_t id) : id_(id) {}
  ~H5Id() { reset(); }
  H5Id(H5Id&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)) {}
  H5Id& operator=(H5Id&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();

 private:
  hid_t id_ = H5I_INVALID_HID;
};

// Turns HDF5's own multi-line error stack printing off, once per process: our messages say
// which file and dataset failed in one line.
void h5_quiet();

// Throws ipm::Error("<context>") when id < 0 (or a herr_t < 0); returns it otherwise.
hid_t h5_check(hid_t id, const std::string& context);

}  // namespace ipm
