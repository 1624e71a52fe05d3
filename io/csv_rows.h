// Streams the rows of a delimited text file (CSV) one line at a time, so files larger than
// memory import in constant space.
// defines: ipm::CsvRows, ipm::parse_number
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace ipm {

// Cells are split on the delimiter only: no quoted cells with delimiters inside (the numeric
// layouts this serves never have them). Blank lines are skipped; a trailing '\r' (files
// written on Windows), surrounding spaces and a pair of surrounding double quotes are removed
// from each cell.
class CsvRows {
 public:
  // Throws ipm::Error naming the file when it cannot be opened.
  CsvRows(const std::filesystem::path& file, char delimiter);

  // The next non-blank line's cells (views into an internal buffer, valid until the next
  // call); false at the end of the file.
  bool next(std::vector<std::string_view>& cells);

  int64_t line() const { return line_; }  // 1-based number of the line last returned
  std::string where() const;              // "file.csv:12" for messages

 private:
  std::filesystem::path file_;
  std::ifstream in_;
  std::string buf_;
  char delimiter_;
  int64_t line_ = 0;
};

// A whole cell as a number (decimal or exponent notation; "nan" and "inf" parse too, the
// caller decides about them); false for anything else, the empty cell included.
bool parse_number(std::string_view cell, double& value);

}  // namespace ipm
